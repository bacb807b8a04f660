"""Shared fixtures: run the real CLI in a subprocess, install fixture plugin packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_FIXTURES = ROOT / "tests" / "plugins"
MTKIT = [sys.executable, "-m", "mtkit.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``mtkit ARGS`` as a real process; returns the completed process (text mode)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([*MTKIT, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str, code: int = 2) -> None:
    """Exit code, no traceback, and a message naming every needle."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert "Traceback" not in out, out
    for n in needles:
        assert n in out, f"{n!r} not in: {out}"


def pip_install_target(target: Path, *dists: str) -> Path:
    """Really install fixture distributions (no deps) into ``target``; returns it."""
    paths = [str(PLUGIN_FIXTURES / d) for d in dists]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-compile", "--target", str(target), *paths],
                   check=True, capture_output=True, timeout=300)
    return target


@pytest.fixture(scope="session")
def example_plugin_env(tmp_path_factory) -> dict[str, str]:
    """Environment in which the fixture package 'mtkit-example-plugin' is installed."""
    target = pip_install_target(tmp_path_factory.mktemp("site_example"), "mtkit-example-plugin")
    return {"PYTHONPATH": str(target)}


@pytest.fixture(scope="session")
def gauge_plugin_env(tmp_path_factory) -> dict[str, str]:
    """Environment with 'mtkit-gauge-plugin': a head whose metrics are lower-is-better
    (spread), higher-is-better (closeness) and undeclared (wobble)."""
    target = pip_install_target(tmp_path_factory.mktemp("site_gauge"), "mtkit-gauge-plugin")
    return {"PYTHONPATH": str(target)}


@pytest.fixture(scope="session")
def troubled_plugins_env(tmp_path_factory) -> dict[str, str]:
    """Environment with a colliding, a broken, an unknown-hook, a wrong-type and an
    other-API-version plugin."""
    target = pip_install_target(
        tmp_path_factory.mktemp("site_troubled"), "mtkit-collide-plugin", "mtkit-broken-plugin",
        "mtkit-unknownhook-plugin", "mtkit-wrongtype-plugin", "mtkit-oldapi-plugin")
    return {"PYTHONPATH": str(target)}


def cut_training_after_first_epoch(monkeypatch) -> None:
    """The next ``mtkit.train`` in this process stops after its first epoch, as an
    interrupted run would (its checkpoint and history are kept), then the patch is undone."""
    from mtkit.training import loop
    from mtkit.training.callbacks import Callback

    defaults = loop.default_callbacks

    class Cut(Callback):
        def on_epoch_end(self, epoch: int, record: dict) -> None:
            self.trainer.stop_training = True

        def close(self) -> None:
            monkeypatch.setattr(loop, "default_callbacks", defaults)

    monkeypatch.setattr(loop, "default_callbacks", lambda t, q: [Cut(), *defaults(t, q)])
