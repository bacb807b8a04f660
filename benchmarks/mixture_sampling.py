"""Task mixtures: how the sampling choice moves per-task results, side by side in one run.

Trains ``configs/mixture.yaml`` (the multi-digit numbers labelled for every task, plus a
4× larger source labelled only for ``digit1``) once per sampling setup, with the same
seed, model and number of steps, and records each source's test scores: per task, and
the numbers source's sequence accuracy. Proportional sampling spends ~80% of the rows on
the digit1-only source; equal sampling gives the fully labelled numbers half the rows.

Usage: .venv/bin/python benchmarks/mixture_sampling.py [--steps 300] [--epochs 4] [--seeds 0 1]
→ benchmarks/results/mixture_sampling.json and .png (a few minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CONFIG = ROOT / "configs" / "mixture.yaml"

SETUPS = {
    "proportional": ["data.sampling.mode=proportional"],
    "temperature T=2": ["data.sampling.mode=temperature", "data.sampling.temperature=2.0"],
    "equal": ["data.sampling.mode=equal"],
    "temperature T=2, per step": ["data.sampling.mode=temperature",
                                  "data.sampling.temperature=2.0", "data.sampling.per=step"],
}


def run_one(name: str, overrides: list[str], tmp: Path, seed: int = 0) -> dict:
    import mtkit
    from mtkit.mixtures import sampling

    t0 = time.perf_counter()
    overrides = [*overrides, f"train.seed={seed}"]
    slug = name.replace(" ", "_").replace(",", "").replace("=", "")
    res = mtkit.train(CONFIG, out=tmp / f"{slug}_{seed}", quiet=True, overrides=overrides)
    plan = mtkit.plan(CONFIG, overrides)
    sizes = {k: s["rows"] for k, s in res.metrics["sources"].items()}  # test rows
    train_sizes = json.loads((res.run_dir / "run.json").read_text())["sizes"]
    src = res.metrics["sources"]
    return {
        "setup": name,
        "seed": seed,
        "source_probabilities": sampling.probabilities(
            {k: v for k, v in _train_sizes(plan).items()}, plan.config.data.sampling),
        "test_rows": sizes,
        "joined_train_rows": train_sizes.get("train"),
        "numbers": {"sequence_accuracy": src["numbers"]["dataset"].get("sequence_accuracy"),
                    **{t: r["accuracy"] for t, r in src["numbers"]["tasks"].items()}},
        "first_digits": {t: r["accuracy"] for t, r in src["first_digits"]["tasks"].items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _train_sizes(plan) -> dict[str, int]:
    from mtkit.dataprep import prepare

    splits, _ = prepare(plan)
    return splits.train_sizes()


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [("numbers", "sequence_accuracy"), ("numbers", "length"), ("numbers", "digit1"),
               ("numbers", "digit3"), ("first_digits", "digit1")]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(rows)
    for i, r in enumerate(rows):
        ax.bar([j + i * width for j in range(len(metrics))], [r[s][m] for s, m in metrics],
               width, label=r["setup"])
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))])
    ax.set_xticklabels([f"{s}\n{m}" for s, m in metrics], fontsize=8)
    ax.set_ylabel("test accuracy")
    ax.set_title("Task mixture: sampling vs per-source test accuracy (same steps; seed mean)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300, help="steps per epoch")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = ap.parse_args()
    common = [f"data.sampling.steps_per_epoch={args.steps}", f"train.epochs={args.epochs}"]
    load0 = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:  # setups side by side within each seed
            for name, overrides in SETUPS.items():
                rows.append(run_one(name, common + overrides, Path(tmp), seed))
                print(json.dumps(rows[-1]))
    means = []
    for name in SETUPS:
        mine = [r for r in rows if r["setup"] == name]
        mean = {"setup": name, "seeds": [r["seed"] for r in mine],
                "source_probabilities": mine[0]["source_probabilities"]}
        for src in ("numbers", "first_digits"):
            mean[src] = {k: round(sum(r[src][k] for r in mine) / len(mine), 4)
                         for k in mine[0][src]}
        means.append(mean)
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
              "note": "2 CPU cores shared with other sessions (load average "
                      f"{load0:.1f} at start, {os.getloadavg()[0]:.1f} at end); accuracies "
                      "are seeded, times are noisy.",
              "steps": args.steps * args.epochs, "means": means, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "mixture_sampling.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(means, RESULTS / "mixture_sampling.png")


if __name__ == "__main__":
    main()
