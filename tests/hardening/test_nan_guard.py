"""Divergence in a later epoch: training stops with a message naming the task, the epoch,
the step and the likely cause, the last good epoch's checkpoint is kept, and ``--resume``
reads it. (The first-step case is in tests/core/test_training.py.)"""

from __future__ import annotations

import json
import re

import numpy as np
import yaml

import mtkit
from mtkit import rundir
from tests.conftest import assert_clean_error, run_cli


def _diverging_config(tmp_path) -> dict:
    """Finite but huge regression labels (about ±1000) and plain SGD with a learning rate
    that is stable for a few steps, then explodes: epoch 1 (two steps) trains, a later one
    diverges."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 4)).astype(np.float32)
    big = 1e3 * np.tanh(x @ np.array([1.0, -2.0, 0.5, 1.0]))
    np.savez(tmp_path / "d.npz", x=x, big=big, ok=(x[:, 0] > 0).astype(np.float64))
    return {"data": {"dataset": "npz", "path": str(tmp_path / "d.npz")},
            "trunk": {"type": "mlp", "units": [8]},
            "tasks": {"big": {"head": "regression"}, "ok": {"head": "binary"}},
            "train": {"epochs": 8, "batch_size": 32, "optimizer": "sgd", "learning_rate": 0.02,
                      "steps_per_epoch": 2, "seed": 0}}


def test_divergence_in_a_later_epoch_keeps_the_last_good_checkpoint(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(_diverging_config(tmp_path)))
    run = tmp_path / "run"
    proc = run_cli("train", str(cfg), "--out", str(run), "-q")
    assert_clean_error(proc, "the loss of task 'big' became", "step", "learning rate too high",
                       "last good checkpoint", str(run / rundir.CHECKPOINTS))
    assert "RuntimeWarning" not in proc.stderr
    epoch = int(re.search(r"epoch (\d+)", proc.stderr).group(1))
    assert epoch >= 2, proc.stderr
    assert f"(epoch {epoch - 1}) is kept" in proc.stderr
    # the run directory holds exactly the good epochs
    history = json.loads((run / rundir.HISTORY).read_text())["epochs"]
    assert [h["epoch"] for h in history] == list(range(1, epoch))
    assert np.isfinite(history[-1]["train"]["big"]["loss"])
    assert (run / rundir.CHECKPOINTS / f"ckpt-{epoch - 1}.index").is_file()
    assert not (run / rundir.CHECKPOINTS / f"ckpt-{epoch}.index").exists()
    assert (run / rundir.MODEL).is_file()

    # resuming reads that checkpoint (here it only finishes the run at the last good epoch)
    result = mtkit.train(None, out=run, resume=True, overrides=[f"train.epochs={epoch - 1}"],
                         quiet=True)
    assert [h["epoch"] for h in result.history] == list(range(1, epoch))
    metrics = json.loads((run / rundir.METRICS).read_text())
    assert metrics["epochs_run"] == epoch - 1
    assert np.isfinite(metrics["tasks"]["big"]["loss"])
