"""Helpers for the mtkit-multidigit tests: the real CLI in a subprocess, clean-error checks.

(A uniquely named module, not ``conftest``: several test folders have a conftest.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


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
