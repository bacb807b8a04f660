"""A run killed with SIGKILL in the middle of an epoch: its run directory stays readable
(export works on it), ``--resume`` finishes it, and it ends where the uninterrupted run
with the same seed ends, weighting state (DWA) included.

Tolerance: per-epoch losses and test metrics within rtol 1e-4 of the uninterrupted run
(op determinism is on, so on one machine they are normally identical), DWA's checkpointed
state within rtol 1e-5.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import yaml

from mtkit import rundir
from tests.conftest import MTKIT, run_cli
from tests.hardening.conftest import KILL_CONFIG

RTOL = 1e-4


def _epochs(run: Path) -> list[dict]:
    path = run / rundir.HISTORY
    return json.loads(path.read_text())["epochs"] if path.is_file() else []


def _checkpointed(run: Path, epoch: int) -> bool:
    state = run / rundir.CHECKPOINTS / "checkpoint"
    return state.is_file() and f'"ckpt-{epoch}"' in state.read_text()


def _weighting_state(run: Path) -> dict[str, np.ndarray]:
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(run / rundir.CHECKPOINTS))
    reader = tf.train.load_checkpoint(path)
    return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(path)
            if name.startswith("weighting/")}


def _kill_in_epoch_2(cfg: Path, run: Path) -> None:
    proc = subprocess.Popen([*MTKIT, "train", str(cfg), "--out", str(run), "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 240
        while not (_checkpointed(run, 1) and len(_epochs(run)) >= 1):
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "epoch 1 did not finish in time"
            time.sleep(0.01)
        time.sleep(0.15)  # epoch 2 (1200 steps) is running: kill it part way through
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_killed_run_is_exportable_and_resumes_to_the_same_end(tmp_path, reference_run):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(KILL_CONFIG))
    run = tmp_path / "run"
    _kill_in_epoch_2(cfg, run)
    assert len(_epochs(run)) == 1 and not _checkpointed(run, 2), "not killed during epoch 2"

    # what a kill leaves is readable: JSON parses, the model is a whole archive ...
    assert zipfile.is_zipfile(run / rundir.MODEL)
    assert json.loads((run / rundir.INFO).read_text())["tasks"]
    # ... and exportable (parity checked) before anything is repaired
    proc = run_cli("export", str(run), "--onnx")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (run / "model.onnx").is_file()
    # a write cut short by the kill (atomic_write's temp file) is cleaned up by --resume
    litter = run / ".model.keras.x1y2z3.tmp.keras"
    litter.write_bytes(b"PK\x03\x04 cut short")

    proc = run_cli("train", "--out", str(run), "--resume", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not litter.exists()

    resumed, straight = _epochs(run), _epochs(reference_run)
    assert [h["epoch"] for h in resumed] == [1, 2, 3, 4]
    for a, b in zip(resumed, straight, strict=True):
        for task in KILL_CONFIG["tasks"]:
            np.testing.assert_allclose(a["train"][task]["loss"], b["train"][task]["loss"], rtol=RTOL)
            np.testing.assert_allclose(a["val"][task]["loss"], b["val"][task]["loss"], rtol=RTOL)
    end = json.loads((run / rundir.METRICS).read_text())["tasks"]
    ref = json.loads((reference_run / rundir.METRICS).read_text())["tasks"]
    np.testing.assert_allclose(end["kind"]["accuracy"], ref["kind"]["accuracy"], rtol=RTOL)
    np.testing.assert_allclose(end["level"]["loss"], ref["level"]["loss"], rtol=RTOL)

    # DWA's state went through the kill: both runs saw 4 epochs and hold the same losses
    state, ref_state = _weighting_state(run), _weighting_state(reference_run)
    assert state.keys() == ref_state.keys() and len(state) == 2, state.keys()
    for name in state:
        np.testing.assert_allclose(state[name], ref_state[name], rtol=1e-5)
    epochs_seen = [v for k, v in state.items() if "dwa_epochs" in k][0]
    assert int(epochs_seen) == 4  # 3 if the resumed run had restarted DWA from scratch
