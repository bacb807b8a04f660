"""The run-directory guard in-process (``mtkit.run_guard``): locks and stale locks, what
counts as a run, staged ``--overwrite`` that commits only on success, and a finished run
trained further keeps its best model."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from mtkit.errors import MtkitError
from mtkit.run_guard import LOCK, MARKER, RunGuard, RunLock, foreign_entries, is_run


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _old_run(folder):
    folder.mkdir()
    (folder / MARKER).write_text("{}")
    (folder / "config.yaml").write_text("old config\n")
    (folder / "model.keras").write_bytes(b"old model")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_live_lock_refuses_a_second_writer_and_a_dead_one_is_taken_over(tmp_path):
    first = RunLock(tmp_path)
    first.acquire()
    holder = json.loads((tmp_path / LOCK).read_text())
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    (tmp_path / LOCK).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    with pytest.raises(MtkitError, match="is locked: process"):
        RunLock(tmp_path).acquire()
    (tmp_path / LOCK).write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    second = RunLock(tmp_path)
    second.acquire()  # stale: its process is dead
    assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
    second.release()
    assert not (tmp_path / LOCK).exists()


def test_only_folders_mtkit_made_count_as_runs(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.yaml").write_text("x")
    assert not is_run(plain)  # a config alone is no run
    (plain / "run.json").write_text("{}")
    assert is_run(plain)  # a run written before the marker existed
    (plain / "data.csv").write_text("a\n1\n")
    assert foreign_entries(plain) == ["data.csv"]


def test_overwrite_is_staged_and_committed_only_on_success(tmp_path):
    out = tmp_path / "run"
    old = _old_run(out)
    guard = RunGuard(out, overwrite=True)
    with pytest.raises(RuntimeError), guard.writing() as path:
        assert path != out and path.parent == out.parent
        (path / "model.keras").write_bytes(b"half a new model")
        raise RuntimeError("the new run failed")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left

    with RunGuard(out, overwrite=True).writing() as path:
        (path / "model.keras").write_bytes(b"new model")
    assert (out / "model.keras").read_bytes() == b"new model"
    assert not (out / "config.yaml").exists() and not (out / LOCK).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_fresh_run_that_fails_leaves_the_users_empty_folder_as_it_was(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    with pytest.raises(ValueError), RunGuard(out).writing() as path:
        (path / "config.yaml").write_text("x")
        raise ValueError
    assert out.is_dir() and not any(out.iterdir())
    with pytest.raises(ValueError), RunGuard(tmp_path / "new").writing():
        raise ValueError
    assert not (tmp_path / "new").exists()


def test_a_finished_run_trained_further_keeps_its_best_model(tmp_path):
    """Early stopping with restore_best: model.keras is the best epoch's. Trained on with
    --resume and more epochs, an epoch that does not beat it must not replace it."""
    import keras

    import mtkit

    cfg = {"data": {"dataset": "synthetic", "rows": 300, "features": 4, "noise": 2.0},
           "trunk": {"type": "mlp", "units": [32]},
           "tasks": {"kind": {"head": "classification", "classes": 3}},
           "train": {"epochs": 6, "batch_size": 16, "learning_rate": 0.05, "seed": 1,
                     "early_stopping": {"patience": 20, "restore_best": True}}}
    run = tmp_path / "run"
    first = mtkit.train(cfg, out=run, quiet=True)
    losses = [h["val_loss"] for h in first.history]
    best = int(np.argmin(losses))
    assert best < len(losses) - 1, f"the fixture needs a best epoch before the last: {losses}"
    best_weights = keras.saving.load_model(run / "model.keras", compile=False).get_weights()
    more = mtkit.train(None, out=run, resume=True, quiet=True,
                       overrides=["train.epochs=7", "train.learning_rate=1e-9"])
    assert len(more.history) == 7
    assert more.history[-1]["val_loss"] > losses[best]  # the extra epoch did not beat it
    kept = keras.saving.load_model(run / "model.keras", compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(kept, best_weights, strict=True))
