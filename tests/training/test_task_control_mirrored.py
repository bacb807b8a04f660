"""Per-task control under MirroredStrategy and across a resume (issue 23): class weights
(balanced and explicit, on a task with missing labels), per-group learning rates and a
frozen trunk with BatchNorm give the one-device model on 2 logical CPU devices, and
1 epoch + ``--resume`` equals 2 epochs straight, bit for bit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

import mtkit
from tests.training.test_task_control import _weights

CONFIG = {
    "data": {"dataset": "synthetic", "rows": 230, "features": 6, "missing": {"b": 0.5}},
    "trunk": {"type": "mlp", "units": [8], "batch_norm": True, "trainable": False},
    "tasks": {"a": {"head": "classification", "classes": 3, "class_weight": "balanced"},
              "b": {"head": "binary", "class_weight": [1.0, 3.0], "learning_rate": 0.03},
              "c": {"head": "regression", "learning_rate": 0.002}},
    "train": {"epochs": 2, "batch_size": 32, "seed": 4, "learning_rate": 0.01},
}

SCRIPT = textwrap.dedent("""
    import json, sys
    import mtkit
    from tests.training.test_task_control import _weights

    cfg = json.loads(sys.argv[1])
    out = {}
    for strategy in ("none", "mirrored"):  # one MirroredStrategy per process
        run = mtkit.train({**cfg, "train": {**cfg["train"], "strategy": strategy}},
                          out=sys.argv[2] + "/" + strategy, quiet=True)
        out[strategy] = {k: v.tolist() for k, v in _weights(run.model).items()}
    print("RESULT " + json.dumps(out))
""")


def test_mirrored_equals_one_device(tmp_path):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(CONFIG), str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MTKIT_LOGICAL_CPUS": "2"})
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = json.loads(line[0][len("RESULT "):])
    info = json.loads((tmp_path / "mirrored" / "run.json").read_text())
    assert info["training"]["learning_rates"] == {"b": 0.03, "c": 0.002}
    single, mirrored = runs["none"], runs["mirrored"]
    assert single.keys() == mirrored.keys() and any(k.startswith("trunk/") for k in single)
    for k in single:
        if k.startswith("trunk/"):  # frozen, BatchNorm statistics included: bit-identical
            np.testing.assert_array_equal(mirrored[k], single[k], err_msg=k)
        else:
            np.testing.assert_allclose(mirrored[k], single[k], rtol=1e-4, atol=2e-5, err_msg=k)


def test_resume_equals_a_straight_run_bit_exactly(tmp_path):
    straight = mtkit.train(CONFIG, out=tmp_path / "straight", quiet=True)
    mtkit.train({**CONFIG, "train": {**CONFIG["train"], "epochs": 1}}, out=tmp_path / "cut",
                quiet=True)
    resumed = mtkit.train(CONFIG, out=tmp_path / "cut", quiet=True, resume=True)
    a, b = _weights(straight.model), _weights(resumed.model)
    heads = [k for k in a if not k.startswith("trunk/")]
    assert heads
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_mixed_precision_with_groups_under_mirrored_through_the_cli(tmp_path):
    """Mixed precision + parameter groups on 2 logical CPU devices, end to end through
    `mtkit train --strategy mirrored`: it trains, keeps one loss scale in its checkpoint,
    and follows the one-device run (float16 compute: a looser tolerance)."""
    import tensorflow as tf
    import yaml

    from mtkit import rundir
    from tests.conftest import run_cli

    cfg = {**CONFIG, "trunk": {**CONFIG["trunk"], "trainable": True, "learning_rate": 0.005},
           "train": {**CONFIG["train"], "mixed_precision": True}}
    path = tmp_path / "mp.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {"MTKIT_LOGICAL_CPUS": "2", "MTKIT_ALLOW_CPU_MIXED_PRECISION": "1"}
    losses = {}
    for strategy in ("none", "mirrored"):
        out = tmp_path / strategy
        proc = run_cli("train", str(path), "--out", str(out), "-q", "--strategy", strategy,
                       env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        hist = json.loads((out / "history.json").read_text())["epochs"]
        losses[strategy] = np.array([[h["train"][t]["loss"] for t in "abc"] for h in hist])
    info = json.loads((tmp_path / "mirrored" / rundir.INFO).read_text())
    assert info["distribution"]["replicas"] == 2
    assert np.isfinite(losses["mirrored"]).all()
    assert losses["mirrored"][-1, 0] < losses["mirrored"][0, 0]
    np.testing.assert_allclose(losses["mirrored"], losses["none"], rtol=1e-2)
    saved = dict(tf.train.list_variables(str(tmp_path / "mirrored" / rundir.CHECKPOINTS)))
    assert [k for k in saved if k.startswith("loss_scale/")]
