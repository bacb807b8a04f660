"""benchmarks/gpu_ort.py: prepare CPU references, then run them on the CUDA provider with
TensorFlow unimportable; without a GPU it falls back to the CPU and says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.runtime.test_tf_free import BLOCK

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_ort.py"
RUN = BLOCK + f"""
sys.argv = ["gpu_ort.py", *sys.argv[1:]]
import runpy
runpy.run_path({str(SCRIPT)!r}, run_name="__main__")
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True,
                          timeout=180)


def test_gpu_script_checks_parity_and_reports_the_provider(exported_model, tmp_path):
    bundle = tmp_path / "bundle"
    prep = _run("prepare", str(exported_model), "--bundle", str(bundle))
    assert prep.returncode == 0, prep.stderr
    ref = np.load(next(bundle.glob("*.ref.npz")))
    assert {"1/in:features", "256/in:features"} <= set(ref.files)
    out = tmp_path / "gpu.json"
    proc = _run("run", "--bundle", str(bundle), "--out", str(out), "--repeats", "3")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    (entry,) = report["models"].values()
    assert report["all_parity_ok"] and all(entry["parity_ok"].values())
    assert set(entry["median_ms"]) == {"1", "32", "256"}
    if entry["provider"] != "CUDAExecutionProvider":  # no usable GPU here: said plainly
        assert "fallback" in entry and "ran on CPUExecutionProvider" in entry["fallback"]
        assert "note:" in proc.stdout
