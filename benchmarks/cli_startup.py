"""Wall time of `mtkit --help` and `mtkit plugins` (goal ≤ 0.3 s), beside bare Python
and `import tensorflow`, in one run so the ratios hold on a noisy machine.

Usage: .venv/bin/python benchmarks/cli_startup.py  → benchmarks/results/cli_startup.json
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "mtkit --help": [str(BIN / "mtkit"), "--help"],
    "mtkit plugins --json": [str(BIN / "mtkit"), "plugins", "--json"],
    "python -c 'import tensorflow'": [sys.executable, "-c", "import tensorflow"],
}


def time_once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(repeats: int = 7) -> dict:
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(repeats):  # alternate commands so drift hits all alike
        for name, cmd in COMMANDS.items():
            times[name].append(time_once(cmd))
    medians = {k: statistics.median(v) for k, v in times.items()}
    report = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "repeats": repeats,
        "median_seconds": medians,
        "ratio_to_import_tensorflow": {
            k: v / medians["python -c 'import tensorflow'"] for k, v in medians.items()},
        "goal": "mtkit --help <= 0.3 s",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cli_startup.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    rep = main()
    for k, v in rep["median_seconds"].items():
        print(f"{k:32s} {v * 1000:8.1f} ms")
