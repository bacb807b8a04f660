"""Wall time of `mtkit export` (whole command: start-up, TensorFlow import, conversion,
onnx.checker, an onnxruntime session, parity) on the built-in demo run, for fp32 with and
without the parity check, fp16 and int8, in one run.

Usage: .venv/bin/python benchmarks/export_time.py → benchmarks/results/export_time.json
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MTKIT = [sys.executable, "-m", "mtkit.cli"]
VARIANTS = {
    "fp32 + parity": [],
    "fp32, --no-check": ["--no-check"],
    "fp16 + metric check": ["--fp16"],
    "int8 + metric check": ["--int8"],
}


def main(repeats: int = 2) -> dict:
    tmp = Path(tempfile.mkdtemp())
    run = tmp / "run"
    from mtkit.api import DEMO_CONFIG  # the built-in tabular demo (no plugin needed)

    subprocess.run([*MTKIT, "train", str(DEMO_CONFIG), "--out", str(run), "-q"],
                   check=True, capture_output=True)
    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    for _ in range(repeats):
        for name, flags in VARIANTS.items():
            t0 = time.perf_counter()
            subprocess.run([*MTKIT, "export", str(run), "--onnx", "-o", str(tmp / "m.onnx"),
                            *flags], check=True, capture_output=True)
            times[name].append(time.perf_counter() - t0)
    report = {"what": "wall seconds of the whole `mtkit export` command, built-in demo model",
              "machine": platform.machine(), "date": time.strftime("%Y-%m-%d"),
              "median_seconds": {k: statistics.median(v) for k, v in times.items()},
              "samples": times}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "export_time.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    print(json.dumps(main()["median_seconds"], indent=2))
