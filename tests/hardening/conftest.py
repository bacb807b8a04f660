"""Fixtures of the hardening tests: environments with fixture plugins, and one trained run.

The trained run (``reference_run``) is the uninterrupted baseline of the kill-and-resume
test and the source of the damaged run directories of the resume cases, so the whole
folder trains it once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MISBEHAVING = HERE / "plugins" / "mtkit-misbehaving-plugin"

# A run long enough (1200 steps an epoch) to be killed in the middle of an epoch, with a
# stateful weighting (DWA keeps the last two epochs' losses in checkpointed variables).
KILL_CONFIG = {
    "data": {"dataset": "synthetic", "rows": 12000, "features": 8},
    "trunk": {"type": "mlp", "units": [16]},
    "tasks": {"kind": {"head": "classification", "classes": 3}, "level": {"head": "regression"}},
    "weighting": {"type": "dwa", "temperature": 0.5},
    "train": {"epochs": 4, "batch_size": 8, "seed": 5, "train_metrics_rows": 256},
}


@pytest.fixture(scope="session")
def misbehaving_env(tmp_path_factory) -> dict[str, str]:
    """Environment in which the fixture package 'mtkit-misbehaving-plugin' is installed."""
    target = tmp_path_factory.mktemp("site_misbehaving")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-compile", "--target", str(target),
                    str(MISBEHAVING)], check=True, capture_output=True, timeout=300)
    return {"PYTHONPATH": str(target)}


@pytest.fixture(scope="session")
def no_entry_points() -> dict[str, str]:
    """An empty allow list: only the built-in plugins load (as LLM_LOAD_PLUGINS='' in llm)."""
    return {"MTKIT_LOAD_PLUGINS": ""}


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """KILL_CONFIG trained straight through (in this process), with checkpoints."""
    import mtkit

    run = tmp_path_factory.mktemp("reference") / "run"
    mtkit.train(KILL_CONFIG, out=run, quiet=True)
    return run
