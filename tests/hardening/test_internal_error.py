"""Bugs (exceptions that are not MtkitError) reach the user as one "internal error, please
report" paragraph with exit code 1, never a raw traceback; MTKIT_DEBUG=1 shows it."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from tests.conftest import assert_clean_error, run_cli
from tests.hardening.corpus import BASE, changed, write


def test_a_plugin_bug_is_an_internal_error_and_debug_shows_the_traceback(tmp_path, misbehaving_env):
    cfg = write(tmp_path, changed("tasks.kind", {"head": "buggy_metrics"}))
    args = ("train", cfg, "--out", str(tmp_path / "run"), "-q")
    proc = run_cli(*args, env=misbehaving_env)
    assert_clean_error(proc, "internal error (AttributeError:", "please report", "MTKIT_DEBUG=1",
                       code=1)
    assert not (tmp_path / "run").exists()
    debug = run_cli(*args, env={**misbehaving_env, "MTKIT_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "mtkit_misbehaving_plugin" in debug.stderr


def _cli_with_bug(patch: str, *args: str, env: dict[str, str] | None = None):
    """The real CLI in a subprocess, after ``patch`` planted a bug in one mtkit function."""
    code = ("import sys\n" + patch + "\nfrom mtkit.cli import main\n"
            f"sys.argv = ['mtkit', *{list(args)!r}]\nmain()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


BUG = ("def bug(*a, **k):\n    raise ZeroDivisionError('planted bug')\n")


def test_commands_report_bugs_the_same_way(tmp_path):
    np.savez(tmp_path / "x.npz", features=np.ones((2, 3), np.float32))
    (tmp_path / "m.onnx").write_bytes(b"")  # never opened: the planted bug comes first
    patch = BUG + "import mtkit.runtime.predictor as p\np.Predictor.__init__ = bug"
    proc = _cli_with_bug(patch, "predict", str(tmp_path / "m.onnx"), str(tmp_path / "x.npz"))
    assert_clean_error(proc, "internal error (ZeroDivisionError: planted bug)", "please report",
                       code=1)
    debug = _cli_with_bug(patch, "predict", str(tmp_path / "m.onnx"), str(tmp_path / "x.npz"),
                          env={"MTKIT_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "planted bug" in debug.stderr


def test_train_reports_bugs_and_user_errors_stay_exit_2(tmp_path):
    cfg = write(tmp_path, BASE)
    patch = BUG + "import mtkit.config as c\nc.apply_overrides = bug"
    proc = _cli_with_bug(patch, "train", cfg, "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "internal error (ZeroDivisionError: planted bug)", code=1)
    # MTKIT_DEBUG=1 also shows where a user error was raised, still with the clear message
    bad = write(tmp_path, changed("train.epochs", 0), "bad.yaml")
    debug = run_cli("train", bad, env={"MTKIT_DEBUG": "1"})
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    assert "error: " in debug.stderr and "field 'train.epochs'" in debug.stderr
