"""Session fixtures shared by the export and runtime tests: one tiny trained run, exported once.

The run's trunk and one head use Keras 3's exact GELU, so every export test also goes
through the Erfc trap (tf2onnx cannot map TF ``Erfc``; mtkit converts it as 1 - Erf).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import mtkit

TRAIN_CONFIG = {
    "data": {"dataset": "synthetic", "rows": 400, "features": 8, "missing": {"risk": 0.5}},
    "trunk": {"type": "mlp", "units": [16], "activation": "gelu"},
    "tasks": {
        "segment": {"head": "classification", "classes": 3, "labels": ["low", "mid", "high"],
                    "hidden": [8], "activation": "gelu"},
        "churn": {"head": "binary"},
        "tags": {"head": "multilabel", "classes": 3},
        "risk": {"head": "regression"},
    },
    "train": {"epochs": 1, "batch_size": 32, "steps_per_epoch": 4, "seed": 0,
              "checkpoint": False},
}


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A finished run directory (never modified: copy it with ``copy_run`` to change it)."""
    run = tmp_path_factory.mktemp("export") / "run"
    mtkit.train(TRAIN_CONFIG, out=run, quiet=True)
    return run


@pytest.fixture(scope="session")
def exported_model(trained_run, tmp_path_factory) -> Path:
    """The run exported to fp32 ONNX through the Python API (parity checked)."""
    from mtkit.export import export_run

    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_run(trained_run, out)
    return out


def copy_run(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def features(n: int = 5, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 8)).astype(np.float32)
