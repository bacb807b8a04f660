"""Weightings under MirroredStrategy on 2 logical CPU devices give the single-device result.

Logical devices must be configured before TensorFlow initialises, so the runs happen in a
fresh Python process. Each method trains twice there through mtkit's train step from the
same seed, on one device and mirrored over both (every epoch ends with a batch of 9 rows,
split 5/4, so the feature-gradient gather sees uneven replicas); the final model and the
weighting's state must agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("tensorflow")

METHODS = [
    {"type": "pcgrad"},  # shared_gradients: all-reduced trunk gradients, random orders
    {"type": "mgda", "gradients": "features"},  # MGDA-UB: gathered feature gradients
    {"type": "gradnorm"},  # state assigned inside the replica step
    {"type": "uncertainty"},  # trainable weighting variables, optimised with the model
    {"type": "rlw"},  # stateless random weights keyed by a step counter
    {"type": "moco"},  # (tasks x parameters) state from setup_shared, assigned in the step
    {"type": "famo"},  # loss mode with state assigned inside the replica step
    {"type": "graddrop"},  # feature_surgery: all-reduced sign sums, one draw for all replicas
]

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from mtkit.api import plan as make_plan
    from mtkit.assembly import build_model
    from mtkit.dataprep import prepare
    from mtkit.training.step import StepParts, make_train_step

    # One MirroredStrategy for every run: TF keys collectives per strategy object, and a
    # second MirroredStrategy in the same process can collide with the first one's keys.
    strategies = {"none": tf.distribute.get_strategy(),
                  "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}

    def train(weighting, strategy):
        plan = make_plan({
            "data": {"dataset": "synthetic", "rows": 110, "features": 6, "missing": {"taskB": 0.5}},
            "trunk": {"type": "mlp", "units": [12]},
            "tasks": {"taskA": {"head": "classification", "classes": 3},
                      "taskB": {"head": "regression"}, "taskC": {"head": "binary"}},
            "weighting": weighting,
        })
        splits, specs = prepare(plan)
        keras.utils.set_random_seed(0)
        with strategy.scope():
            asm = build_model(plan, specs)
            opt = keras.optimizers.Adam(0.01)
            plan.weighting.setup(plan.task_infos)
            if plan.weighting.mode == "shared_gradients":
                plan.weighting.setup_shared([tuple(v.shape) for v in asm.shared_variables])
            extra = [v for v in plan.weighting.variables().values() if v.trainable]
            opt.build(asm.model.trainable_variables + extra)
        step = make_train_step(plan, StepParts(asm.model, asm.features_model,
                                               asm.shared_variables, opt, strategy))
        train = splits.train.take(np.arange(41))  # batches of 16, 16 and 9 (split 5/4)
        ds = tf.data.Dataset.from_tensor_slices((train.inputs, train.labels)).batch(16)
        for _ in range(2):
            for batch in strategy.experimental_distribute_dataset(ds):
                step(batch)
        state = [np.asarray(v.numpy(), np.float64).ravel().tolist()
                 for v in plan.weighting.variables().values()]
        return {"weights": [w.tolist() for w in asm.model.get_weights()], "state": state,
                "replicas": strategy.num_replicas_in_sync}

    out = {}
    for weighting in json.loads(sys.argv[1]):
        out[json.dumps(weighting)] = {k: train(weighting, s) for k, s in strategies.items()}
    print("RESULT " + json.dumps(out))
""")


def test_mirrored_matches_single_device(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(METHODS)],
                          capture_output=True, text=True, timeout=600)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(line[0][len("RESULT "):])
    assert len(result) == len(METHODS)
    for method, runs in result.items():
        assert runs["mirrored"]["replicas"] == 2 and runs["none"]["replicas"] == 1, method
        for part in ("weights", "state"):
            single, mirrored = runs["none"][part], runs["mirrored"][part]
            assert len(single) == len(mirrored)
            for a, b in zip(single, mirrored, strict=True):
                np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5, err_msg=f"{method} {part}")
