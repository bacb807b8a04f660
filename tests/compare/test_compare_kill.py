"""A compare killed (SIGKILL) during a run's first epoch — before that run wrote any
checkpoint or history — restarts that run when the same command is rerun, twice over, and
the report then equals the uninterrupted comparison's (op determinism is on)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import yaml

from mtkit import rundir
from tests.conftest import MTKIT

# one epoch of 200 steps (after tracing the step): long enough to be caught inside it
CONFIG = {"data": {"dataset": "synthetic", "rows": 2000, "features": 4},
          "trunk": {"type": "mlp", "units": [8]},
          "tasks": {"a": {"head": "classification", "classes": 3},
                    "b": {"head": "regression"}},
          "train": {"epochs": 1, "batch_size": 8, "seed": 0, "train_metrics_rows": 256}}


def _compare(cfg: Path, out: Path) -> list[str]:
    return [*MTKIT, "compare", str(cfg), "--weightings", "sum", "--out", str(out)]


def _kill_in_first_epoch(cfg: Path, out: Path, run: str, staged: bool = False) -> None:
    """Start the compare; SIGKILL it once ``run`` has begun (its run.json is written; with
    ``staged``, that of the restart staged beside the killed run) and before its first
    epoch ends (no history.json yet)."""
    pattern = f".{run}.mtkit-new-*" if staged else run
    proc = subprocess.Popen(_compare(cfg, out), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 300
        while not (found := [p for p in (out / "runs").glob(pattern)
                             if (p / rundir.INFO).is_file()]):
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, f"{run} did not start in time"
            time.sleep(0.02)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (folder,) = found
    assert not (folder / rundir.HISTORY).exists(), f"{run} finished an epoch before the kill"
    assert not (folder / rundir.CHECKPOINTS).exists()


def _numbers(report: dict) -> list:
    return [(r["variant"], r["metrics"], r["delta_m"]) for r in report["variants"]]


def test_kill_twice_in_first_epochs_then_resume_equals_uninterrupted(tmp_path):
    import mtkit

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    out = tmp_path / "cmp"
    _kill_in_first_epoch(cfg, out, "single-a-seed0")
    _kill_in_first_epoch(cfg, out, "single-a-seed0", staged=True)  # again, in its restart
    assert not (out / "runs" / "single-a-seed0" / rundir.HISTORY).exists()
    # rerun the same comparison (here from Python: the CLI's code path with --jobs 1)
    resumed = mtkit.compare(cfg, ["sum"], [0], out).report
    assert (out / "runs" / "single-a-seed0" / rundir.METRICS).is_file()
    assert not list((out / "runs").glob(".*"))  # no staging folder of a killed restart left
    reference = mtkit.compare(cfg, ["sum"], [0], tmp_path / "ref").report
    assert _numbers(resumed) == _numbers(reference)
