"""Step time with 1 vs 2 replicas, in one run, on logical CPU devices.

Honest label: on one CPU split into two logical devices there is no extra compute, so this
measures the *overhead* of mirrored training (all-reduce, per-replica dispatch), not a
speed-up. The same script measures real scaling on a multi-GPU machine:

    .venv/bin/python benchmarks/distributed.py --gpus     # 1 GPU vs all GPUs

Writes benchmarks/results/distributed.json and distributed.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CONFIG = """
data: {dataset: synthetic, rows: 8192, features: 64}
trunk: {type: mlp, units: [256, 256], batch_norm: true}
tasks:
  a: {head: classification, classes: 10}
  b: {head: regression}
  c: {head: binary}
train: {epochs: 3, batch_size: 256, test_fraction: 0.0, validation_fraction: 0.05}
"""


def run_once(tmp: Path, strategy: str, devices: str | None, env_extra: dict) -> float:
    cfg = tmp / "bench.yaml"
    cfg.write_text(CONFIG)
    out = tmp / f"run-{strategy}-{time.time_ns()}"
    cmd = [sys.executable, "-m", "mtkit.cli", "train", str(cfg), "--out", str(out), "-q",
           "--strategy", strategy]
    if devices:
        cmd += ["--set", f"train.devices={devices}"]
    subprocess.run(cmd, check=True, env={**os.environ, **env_extra}, capture_output=True)
    hist = json.loads((out / "history.json").read_text())["epochs"]
    steps = 8192 * 0.95 // 256
    return statistics.median(h["seconds"] for h in hist[1:]) / steps  # skip the tracing epoch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpus", action="store_true", help="compare 1 GPU with all GPUs")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import tempfile

    tmp = Path(tempfile.mkdtemp())
    if args.gpus:
        setups = {"1 replica": ("mirrored", "[/gpu:0]", {}), "all GPUs": ("mirrored", None, {})}
    else:
        setups = {"1 replica": ("none", None, {"MTKIT_LOGICAL_CPUS": "2"}),
                  "2 replicas (logical CPUs)": ("mirrored", None, {"MTKIT_LOGICAL_CPUS": "2"})}
    times: dict[str, list[float]] = {k: [] for k in setups}
    for _ in range(args.repeats):  # alternate, so machine noise hits both alike
        for name, (strategy, devices, env) in setups.items():
            times[name].append(run_once(tmp, strategy, devices, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = next(iter(med.values()))
    report = {
        "what": "median seconds per training step (global batch 256), epochs 2-3",
        "note": "logical CPU devices share one CPU: the ratio shows overhead, not speed-up"
        if not args.gpus else "GPUs",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
        "step_seconds": med, "ratio_to_1_replica": {k: v / base for k, v in med.items()},
        "samples": times,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps(report, indent=2) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(list(med), [v * 1000 for v in med.values()])
    ax.set_ylabel("ms per step")
    ax.set_title("mtkit step time by replica count")
    fig.tight_layout()
    fig.savefig(RESULTS / "distributed.png", dpi=80)
    print(json.dumps(report["step_seconds"], indent=2), json.dumps(report["ratio_to_1_replica"]))


if __name__ == "__main__":
    main()
