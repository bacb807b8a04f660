"""Every weighting trains through mtkit's real step, with a task that is mostly unlabelled."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mtkit
from mtkit.registry import load_registry
from mtkit.rundir import CHECKPOINTS

tf = pytest.importorskip("tensorflow")

# Every built-in weighting (from the live registry, with its `example` params), plus the
# other gradient source of the methods that offer both.
METHODS = [(e.name, dict(e.cls.example)) for e in load_registry(entry_points=False).entries
           if e.kind == "weighting"] + [
    ("gradnorm", {"gradients": "parameters"}), ("pcgrad", {"gradients": "features"}),
    ("mgda", {"gradients": "features"}), ("fairgrad", {"alpha": 2.0}),
    ("stch", {"warmup_epochs": 0}),
    ("cagrad", {"every": 2}),  # alternates a solve and a reuse step
]
IDS = [f"{n}-{p.get('gradients', '')}{p.get('every', '')}" for n, p in METHODS]


def config(weighting: dict, rows: int = 400, **train) -> dict:
    return {
        "data": {"dataset": "synthetic", "rows": rows, "features": 6, "missing": {"taskB": 0.9}},
        "trunk": {"type": "mlp", "units": [12]},
        "tasks": {"taskA": {"head": "classification", "classes": 3},
                  "taskB": {"head": "regression"},
                  "taskC": {"head": "binary"}},
        "weighting": weighting,
        "train": {"epochs": 2, "batch_size": 8, "steps_per_epoch": 6, "train_metrics_rows": 32,
                  "checkpoint": False, "learning_rate": 0.01, **train},
    }


@pytest.mark.parametrize("name,params", METHODS, ids=IDS)
def test_every_method_trains_with_a_rarely_labelled_task(tmp_path, name, params):
    result = mtkit.train(config({"type": name, **params}), out=tmp_path / "run", quiet=True)
    assert len(result.history) == 2
    for epoch in result.history:
        for task, row in epoch["train"].items():
            assert math.isfinite(row["loss"]), (task, epoch)
    assert all(np.all(np.isfinite(w)) for w in result.model.get_weights())
    for task, row in result.metrics["tasks"].items():
        assert all(math.isfinite(v) for v in row.values()), task


def _plan_and_step(weighting: dict):
    import keras

    from mtkit.assembly import assemble
    from mtkit.dataprep import prepare
    from mtkit.training.step import StepParts, make_train_step

    plan = mtkit.plan(config(weighting, rows=40))
    splits, specs = prepare(plan)
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.get_strategy()
    asm = assemble(plan, specs)
    optimizer = keras.optimizers.Adam(0.01)
    plan.weighting.setup(plan.task_infos)
    if plan.weighting.mode == "shared_gradients":
        plan.weighting.setup_shared([tuple(v.shape) for v in asm.shared_variables])
    optimizer.build(asm.model.trainable_variables + [
        v for v in plan.weighting.variables().values() if v.trainable])
    step = make_train_step(plan, StepParts(asm.model, asm.features_model, asm.shared_variables,
                                           optimizer, strategy))
    return plan, splits, asm, step


@pytest.mark.parametrize("name,params", METHODS, ids=IDS)
def test_a_task_without_labels_in_the_batch_drops_out(name, params):
    plan, splits, asm, step = _plan_and_step({"type": name, **params})
    train = splits.train
    labels = {k: v[:8].copy() for k, v in train.labels.items()}
    labels["taskB"][:] = np.nan  # no label for taskB in this batch
    inputs = {k: v[:8] for k, v in train.inputs.items()}
    model = asm.model
    head_b = [v for v in model.trainable_variables if "taskB" in v.path]
    head_a = [v for v in model.trainable_variables if "taskA" in v.path]
    assert head_b and head_a
    before_b = [v.numpy().copy() for v in head_b]
    before_a = [v.numpy().copy() for v in head_a]
    before_shared = [v.numpy().copy() for v in asm.shared_variables]
    values, counts = step((inputs, labels))
    assert float(counts["taskB"]) == 0.0 and float(values["taskB"]) == 0.0
    for v, b in zip(head_b, before_b, strict=True):
        np.testing.assert_array_equal(v.numpy(), b)  # first Adam step on a zero gradient
    assert any(not np.array_equal(v.numpy(), b) for v, b in zip(head_a, before_a, strict=True))
    assert any(not np.array_equal(v.numpy(), b)
               for v, b in zip(asm.shared_variables, before_shared, strict=True))
    for v in model.trainable_variables + list(plan.weighting.variables().values()):
        assert np.all(np.isfinite(v.numpy())), v.name


def test_weighting_state_is_checkpointed_and_resumed(tmp_path):
    run = tmp_path / "dwa"
    cfg = config({"type": "dwa"}, epochs=3, checkpoint=True)
    result = mtkit.train(cfg, out=run, quiet=True)
    reader = tf.train.load_checkpoint(str(run / CHECKPOINTS))
    keys = reader.get_variable_to_shape_map()
    hist_key = next(k for k in keys if k.startswith("weighting/dwa_history"))
    epochs_key = next(k for k in keys if k.startswith("weighting/dwa_epochs"))
    history = reader.get_tensor(hist_key)
    # Row 0 = last epoch's mean training losses, row 1 = the epoch before (from history.json).
    names = ["taskA", "taskB", "taskC"]
    last = [result.history[-1]["train"][n]["loss"] for n in names]
    before = [result.history[-2]["train"][n]["loss"] for n in names]
    np.testing.assert_allclose(history, [last, before], rtol=1e-6)
    assert int(reader.get_tensor(epochs_key)) == 3
    resumed = mtkit.train(None, out=run, resume=True, overrides=["train.epochs=4"], quiet=True)
    assert len(resumed.history) == 4
    reader = tf.train.load_checkpoint(str(run / CHECKPOINTS))
    assert int(reader.get_tensor(epochs_key)) == 4  # continued, not restarted
    np.testing.assert_allclose(reader.get_tensor(hist_key)[1], last, rtol=1e-6)


def test_every_builtin_weighting_is_trained_here():
    from mtkit.registry import get_registry

    builtin = {e.name for e in get_registry().entries
               if e.kind == "weighting" and e.provider == "mtkit"}
    assert builtin - {n for n, _ in METHODS} == set()


def test_parameter_sized_state_is_checkpointed_and_resumed(tmp_path):
    """MoCo's tracked gradients (tasks x shared parameters) survive --resume."""
    run = tmp_path / "moco"
    mtkit.train(config({"type": "moco"}, epochs=1, checkpoint=True), out=run, quiet=True)
    reader = tf.train.load_checkpoint(str(run / CHECKPOINTS))
    keys = reader.get_variable_to_shape_map()
    y_key = next(k for k in keys if k.startswith("weighting/moco_y"))
    step_key = next(k for k in keys if k.startswith("weighting/moco_step"))
    y = reader.get_tensor(y_key)
    assert y.shape[0] == 3 and y.shape[1] == 6 * 12 + 12  # the mlp trunk's kernel + bias
    assert np.abs(y).sum() > 0 and int(reader.get_tensor(step_key)) == 6
    mtkit.train(None, out=run, resume=True, overrides=["train.epochs=2"], quiet=True)
    reader = tf.train.load_checkpoint(str(run / CHECKPOINTS))
    assert int(reader.get_tensor(step_key)) == 12  # continued from 6, not restarted


def test_uncertainty_log_variances_are_trained_with_the_model(tmp_path):
    run = tmp_path / "unc"
    mtkit.train(config({"type": "uncertainty"}, checkpoint=True), out=run, quiet=True)
    reader = tf.train.load_checkpoint(str(run / CHECKPOINTS))
    key = next(k for k in reader.get_variable_to_shape_map()
               if k.startswith("weighting/uncertainty_log_variances"))
    s = reader.get_tensor(key)
    assert s.shape == (3,) and np.all(np.isfinite(s)) and np.any(s != 0.0)
