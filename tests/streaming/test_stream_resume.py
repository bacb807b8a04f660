"""Resume on streamed shards: a run killed with SIGKILL mid-epoch restarts that epoch from
its first batch (an epoch's batches depend only on seed, epoch and reader) and ends equal
to the uninterrupted run (a broken shard's resume: test_stream_train.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np

from mtkit import rundir
from tests.conftest import MTKIT, run_cli
from tests.streaming.helpers import config, write_config, write_shards

RTOL = 1e-4  # as tests/hardening/test_kill_resume.py (op determinism is on)
TASKS = ("cls", "reg", "flag")


def _epochs(run: Path) -> list[dict]:
    path = run / rundir.HISTORY
    return json.loads(path.read_text())["epochs"] if path.is_file() else []


def _checkpointed(run: Path, epoch: int) -> bool:
    state = run / rundir.CHECKPOINTS / "checkpoint"
    return state.is_file() and f'"ckpt-{epoch}"' in state.read_text()


def _long_config(tmp_path: Path) -> Path:
    write_shards(tmp_path / "shards", [2500, 2500, 2000], text=False, row_group=1000)
    cfg = config(str(tmp_path / "shards"), chunk_rows=500, shuffle_buffer=1000)
    cfg["train"].update(epochs=2, batch_size=8, train_metrics_rows=256)
    cfg["weighting"] = {"type": "dwa", "temperature": 0.5}
    return write_config(tmp_path, cfg)


def test_killed_mid_epoch_resumes_to_the_uninterrupted_end(tmp_path):
    cfg = _long_config(tmp_path)
    straight = tmp_path / "straight"
    proc = run_cli("train", str(cfg), "--out", str(straight), "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    run = tmp_path / "run"
    p = subprocess.Popen([*MTKIT, "train", str(cfg), "--out", str(run), "-q"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 240
        while not (_checkpointed(run, 1) and len(_epochs(run)) >= 1):
            assert p.poll() is None, p.communicate()[0].decode()
            assert time.monotonic() < deadline, "epoch 1 did not finish in time"
            time.sleep(0.01)
        time.sleep(0.3)  # epoch 2 (~600 steps) is running
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert len(_epochs(run)) == 1 and not _checkpointed(run, 2), "not killed during epoch 2"

    proc = run_cli("train", "--out", str(run), "--resume", "-q")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    resumed, ref = _epochs(run), _epochs(straight)
    assert [h["epoch"] for h in resumed] == [1, 2]
    for a, b in zip(resumed, ref, strict=True):
        assert a["steps"] == b["steps"]
        for task in TASKS:
            np.testing.assert_allclose(a["train"][task]["loss"], b["train"][task]["loss"],
                                       rtol=RTOL)
            np.testing.assert_allclose(a["val"][task]["loss"], b["val"][task]["loss"], rtol=RTOL)
    end = json.loads((run / rundir.METRICS).read_text())["tasks"]
    want = json.loads((straight / rundir.METRICS).read_text())["tasks"]
    for task in TASKS:
        np.testing.assert_allclose(end[task]["loss"], want[task]["loss"], rtol=RTOL)
