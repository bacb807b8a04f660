"""Data larger than memory (issue 14): peak RSS and throughput of streamed Parquet shards.

Generates (once, vectorised with pyarrow, in --data-dir) Parquet shards of 1M and 10M rows:
30 numeric features and 3 tasks of different kinds — 4-class classification, binary, and
a regression target labelled on 30% of rows. A fixed 20k-row validation file is shared by
every run. Each run trains ONE epoch in its own subprocess (``mtkit.train``); the child
reports its peak RSS (``getrusage``) and the epoch's training time (``train_seconds`` of
history.json: the steps, with reading/shuffling overlapped by prefetch). Runs, side by side
in one invocation:

* ``stream_1m``  — 1M rows, 8 shards, streamed;
* ``stream_10m`` — 10M rows, 40 shards, streamed;
* ``memory_1m``  — the same 1M rows as one Parquet file, read into memory (today's path).

Goals: peak RSS(stream 10M) ≤ 1.2 × peak RSS(stream 1M); streamed rows/s ≥ 0.8 × the
in-memory rows/s on 1M.

Usage: .venv/bin/python benchmarks/memory.py [--data-dir DIR] [--quick]
→ benchmarks/results/memory.json (+ memory.png). --quick: 100k / 1M rows (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FEATURES = 30
VAL_ROWS = 20_000


def make_table(rows: int, seed: int):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    w = np.random.default_rng(12345).standard_normal((FEATURES, 3)).astype(np.float32)
    z = x @ w
    cols = {f"f{j:02d}": x[:, j] for j in range(FEATURES)}
    cols["kind"] = np.digitize(z[:, 0], [-1.0, 0.0, 1.0]).astype(np.int64)
    cols["clicked"] = (z[:, 1] + 0.5 * rng.standard_normal(rows, dtype=np.float32) > 0).astype(
        np.int64)
    reg = z[:, 2] + 0.1 * rng.standard_normal(rows, dtype=np.float32)
    cols["dwell"] = pa.array(reg, mask=rng.random(rows) >= 0.3)  # labelled on 30% of rows
    return pa.table(cols)


def write_set(folder: Path, rows: int, shards: int, seed: int) -> None:
    import pyarrow.parquet as pq

    if (folder / "done").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    per = rows // shards
    for i in range(shards):
        pq.write_table(make_table(per, seed * 10_000 + i), folder / f"part-{i:04d}.parquet",
                       row_group_size=131_072)
    (folder / "done").write_text(str(rows))


def write_single(folder: Path, target: Path) -> None:
    import pyarrow.parquet as pq

    if target.is_file():
        return
    files = sorted(folder.glob("*.parquet"))
    with pq.ParquetWriter(target, pq.read_schema(files[0])) as w:
        for f in files:
            w.write_table(pq.read_table(f), row_group_size=131_072)


def config(path: str, val: str, stream: bool) -> dict:
    return {
        "data": {"dataset": "parquet", "path": path, "val_path": val, "stream": stream,
                 "chunk_rows": 65_536, "shuffle_buffer": 262_144, "interleave": 4},
        "trunk": {"type": "mlp", "units": [64, 32]},
        "tasks": {"kind": {"head": "classification", "classes": 4},
                  "clicked": {"head": "binary"},
                  "dwell": {"head": "regression"}},
        "train": {"epochs": 1, "batch_size": 1024, "learning_rate": 0.003, "seed": 0,
                  "validation_fraction": 0.0, "test_fraction": 0.0,
                  "checkpoint": False, "train_metrics_rows": 2048},
    }


def child(cfg_path: str, out: str) -> None:
    """In the subprocess: train, then print one JSON line with RSS and timings."""
    import yaml

    import mtkit

    cfg = yaml.safe_load(Path(cfg_path).read_text())
    t0 = time.perf_counter()
    result = mtkit.train(cfg, out=out, quiet=True)
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = json.loads((Path(out) / "run.json").read_text())
    epoch = result.history[0]
    print(json.dumps({"peak_rss_mb": rss_kb / 1024, "train_rows": info["sizes"]["train"],
                      "train_seconds": epoch["train_seconds"], "steps": epoch["steps"],
                      "wall_seconds": wall,
                      "val_loss": epoch.get("val_loss")}))


def run_one(name: str, cfg: dict, tmp: Path) -> dict:
    import yaml

    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), str(tmp / name)],
                          capture_output=True, text=True, env={**os.environ,
                                                               "TF_CPP_MIN_LOG_LEVEL": "2"})
    if proc.returncode:
        raise SystemExit(f"{name} failed:\n{proc.stdout}\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["rows_per_second"] = out["train_rows"] / out["train_seconds"]
    out["rows_per_second_end_to_end"] = out["train_rows"] / out["wall_seconds"]
    print(f"{name:>11}: {out['train_rows']:>9} rows, peak RSS {out['peak_rss_mb']:7.0f} MB, "
          f"{out['rows_per_second']:9.0f} rows/s in the epoch, wall {out['wall_seconds']:.0f} s",
          flush=True)
    return out


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = report["runs"]
    names = list(runs)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    ax[0].bar(names, [runs[n]["peak_rss_mb"] for n in names], color="tab:blue")
    ax[0].set_ylabel("peak RSS (MB)")
    ax[1].bar(names, [runs[n]["rows_per_second"] / 1000 for n in names], color="tab:green")
    ax[1].set_ylabel("training rows/s (thousands)")
    for a in ax:
        a.tick_params(axis="x", labelsize=8)
    fig.suptitle("one epoch: streamed shards vs in memory")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "mtkit-memory")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    small, large = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    d = args.data_dir / ("quick" if args.quick else "full")
    t0 = time.perf_counter()
    write_set(d / "small", small, 8, seed=1)
    write_set(d / "large", large, 40, seed=2)
    write_set(d / "val", VAL_ROWS, 1, seed=3)
    write_single(d / "small", d / "small.parquet")
    gen = time.perf_counter() - t0
    print(f"data ready in {gen:.0f} s ({d})", flush=True)
    val = str(d / "val" / "part-0000.parquet")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in (("memory_1m", config(str(d / "small.parquet"), val, False)),
                          ("stream_1m", config(str(d / "small"), val, True)),
                          ("stream_10m", config(str(d / "large"), val, True))):
            runs[name] = run_one(name, cfg, Path(tmp))
    rss_ratio = runs["stream_10m"]["peak_rss_mb"] / runs["stream_1m"]["peak_rss_mb"]
    speed_ratio = runs["stream_1m"]["rows_per_second"] / runs["memory_1m"]["rows_per_second"]
    report = {
        "rows": {"small": small, "large": large}, "features": FEATURES, "quick": args.quick,
        "runs": runs,
        "rss_ratio_large_to_small": rss_ratio,
        "throughput_ratio_stream_to_memory": speed_ratio,
        "goals": {"rss_ratio <= 1.2": {"value": rss_ratio, "met": rss_ratio <= 1.2},
                  "throughput_ratio >= 0.8": {"value": speed_ratio, "met": speed_ratio >= 0.8}},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
        "generation_seconds": gen,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(report, indent=2))
    plot(report, RESULTS / "memory.png")
    print(f"RSS 10M/1M = {rss_ratio:.2f} (goal <= 1.2); stream/memory rows/s = "
          f"{speed_ratio:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
