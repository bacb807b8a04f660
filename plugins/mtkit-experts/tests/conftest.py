"""Fixtures for the mtkit-experts tests: build a trunk alone, make inputs, run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mtkit.plugin_types import TaskInfo
from mtkit.registry import get_registry
from mtkit.tf_import import import_tensorflow

ROOT = Path(__file__).resolve().parents[3]


def make_tasks(n: int) -> list[TaskInfo]:
    return [TaskInfo(name=f"t{i}", head="regression", output_type="regression") for i in range(n)]


def build_trunk_model(trunk: dict[str, Any], n_tasks: int, dim: int = 6) -> Any:
    """A Keras model ``{"features": x} -> {task: features}`` from the registered trunk plugin."""
    import keras

    cls = get_registry().get("trunk", trunk["type"])
    params = cls.Params.model_validate({k: v for k, v in trunk.items() if k != "type"})
    inputs = {"features": keras.Input((dim,), name="features")}
    out = cls(params).build(dict(inputs), make_tasks(n_tasks))
    return keras.Model(inputs, out)


def make_batch(rows: int = 16, dim: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    return {"features": np.random.default_rng(seed).normal(size=(rows, dim)).astype("float32")}


def run_mtkit(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """``mtkit ARGS`` as a real process (real entry-point discovery)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "mtkit.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)


@pytest.fixture
def tasks():
    return make_tasks


@pytest.fixture
def trunk_model():
    import_tensorflow()
    return build_trunk_model


@pytest.fixture
def batch():
    return make_batch


@pytest.fixture
def cli():
    return run_mtkit
