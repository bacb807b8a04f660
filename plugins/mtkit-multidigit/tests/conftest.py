"""Shared helpers for the mtkit-multidigit tests: the SVHN fixture writer and CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
if str(HERE) not in sys.path:  # tests import svhn_fixture (pytest uses --import-mode=importlib)
    sys.path.insert(0, str(HERE))


def run_mtkit(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """The real ``mtkit`` command line in a subprocess (text mode)."""
    full = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "mtkit.cli", *args], capture_output=True,
                          text=True, env=full, cwd=cwd or ROOT, timeout=timeout)


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit code 2, no traceback, one ``error:`` paragraph naming every needle."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    assert "error:" in out, out
    for n in needles:
        assert n in out, f"{n!r} not in: {out}"
    return out


@pytest.fixture(scope="session")
def svhn_root(tmp_path_factory) -> Path:
    """A tiny SVHN format 1 download: train/ (24 images) and test/ (8 images)."""
    from svhn_fixture import make_folder

    root = tmp_path_factory.mktemp("svhn")
    make_folder(root / "train", 24, seed=0)
    make_folder(root / "test", 8, seed=1)
    return root
