"""MMoE paper's synthetic experiment (Ma et al. 2018, sec. 3.2/5.2) reproduced with mtkit.

Two regression tasks whose correlation p is set by the ``mmoe_synthetic`` dataset (plugin
package mtkit-experts). For p in 1.0, 0.9, 0.5, 0.0 and several seeds, train a
shared-bottom model (core ``mlp`` trunk), MMoE and PLE with similar hidden sizes and the
same towers, and record each task's final test loss (MSE). The paper's finding: the
shared-bottom model gets worse as p falls, MMoE much less.

Usage: .venv/bin/python benchmarks/mmoe_synthetic.py [--seeds 3] [--epochs 4] [--rows 30000]
→ benchmarks/results/mmoe_synthetic.json and .png (about 5 minutes on 2 CPU cores).
Defaults: d = 100, c = 1, m = 10 sinusoids, 30 000 rows (20% test, 10% of the rest validation), 4 epochs of
batch 128, Adam 3e-3; the paper's sizes for shared-bottom (113 units) and MMoE (8 x 16).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CORRELATIONS = (1.0, 0.9, 0.5, 0.0)
TASKS = ("y1", "y2")
TOWER = {"head": "regression", "hidden": [8]}
MODELS = {
    # the paper's sizes (sec. 5.2): a 113-unit shared bottom vs 8 experts of 16 units
    "shared_bottom": {"type": "mlp", "units": [113]},
    "mmoe": {"type": "mmoe", "experts": 8, "expert": {"type": "mlp", "units": [16]}},
    # per level: 2 shared experts + 2 own experts per task, 16 units each; 2 levels
    "ple": {"type": "ple", "levels": 2, "shared_experts": 2, "task_experts": 2,
            "expert": {"type": "mlp", "units": [16]}},
}


def config(trunk: dict, p: float, seed: int, args: argparse.Namespace) -> dict:
    return {
        "data": {"dataset": "mmoe_synthetic", "rows": args.rows, "dim": args.dim, "correlation": p,
                 "scale": args.scale},
        "trunk": trunk,
        "tasks": {t: dict(TOWER) for t in TASKS},
        "train": {"epochs": args.epochs, "batch_size": args.batch_size,
                  "learning_rate": args.learning_rate, "seed": seed, "checkpoint": False,
                  "validation_fraction": 0.1, "test_fraction": 0.2, "train_metrics_rows": 512},
    }


def run_all(args: argparse.Namespace) -> list[dict]:
    import mtkit

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for p in CORRELATIONS:
                for name, trunk in MODELS.items():
                    t0 = time.perf_counter()
                    res = mtkit.train(config(trunk, p, seed, args), out=Path(tmp) / f"{name}_{p}_{seed}",
                                      quiet=True)
                    row = {"model": name, "correlation": p, "seed": seed,
                           "seconds": round(time.perf_counter() - t0, 2),
                           "params": int(res.model.count_params())}
                    for t in TASKS:
                        row[f"test_loss_{t}"] = res.metrics["tasks"][t]["loss"]
                        row[f"train_loss_{t}"] = res.history[-1]["train"][t]["loss"]
                    rows.append(row)
                    print(f"seed {seed} p={p:.1f} {name:13s} " + " ".join(
                        f"{t}={row[f'test_loss_{t}']:.3f}" for t in TASKS), flush=True)
    return rows


def summarise(rows: list[dict]) -> dict:
    """Mean and std over seeds of each task's test loss, per model and correlation."""
    out: dict = {}
    for name in MODELS:
        out[name] = {}
        for p in CORRELATIONS:
            sel = [r for r in rows if r["model"] == name and r["correlation"] == p]
            out[name][str(p)] = {
                t: {"mean": statistics.fmean(r[f"test_loss_{t}"] for r in sel),
                    "std": statistics.pstdev(r[f"test_loss_{t}"] for r in sel)} for t in TASKS}
            out[name][str(p)]["mean_of_tasks"] = statistics.fmean(
                out[name][str(p)][t]["mean"] for t in TASKS)
    return out


def degradation(summary: dict) -> dict:
    """Mean task loss at p=0 over that at p=1, per model: how much unrelatedness hurts."""
    return {name: summary[name]["0.0"]["mean_of_tasks"] / summary[name]["1.0"]["mean_of_tasks"]
            for name in summary}


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(TASKS), figsize=(5 * len(TASKS), 3.6), sharey=True)
    for ax, task in zip(axes, TASKS, strict=True):
        for name in summary:
            means = [summary[name][str(p)][task]["mean"] for p in CORRELATIONS]
            stds = [summary[name][str(p)][task]["std"] for p in CORRELATIONS]
            ax.errorbar(CORRELATIONS, means, yerr=stds, marker="o", capsize=3, label=name)
        ax.set_title(f"task {task}: final test loss (MSE)")
        ax.set_xlabel("task correlation p")
        ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test MSE (mean ± std over seeds)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rows", type=int, default=30000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--learning-rate", type=float, default=0.003)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    from mtkit import rundir

    t0 = time.perf_counter()
    rows = run_all(args)
    summary = summarise(rows)
    report = {
        "what": "MMoE synthetic experiment (Ma et al. 2018): final test MSE per task vs task correlation",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "models": MODELS,
        "tower": TOWER,
        "summary": summary,
        "loss_ratio_p0_over_p1": degradation(summary),
        "runs": rows,
        "total_seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time(), 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    rundir.write_json(args.out / "mmoe_synthetic.json", report)
    rundir.atomic_write(args.out / "mmoe_synthetic.png", lambda p: plot(summary, p))
    print("loss ratio p=0 / p=1:", {k: round(v, 3) for k, v in report["loss_ratio_p0_over_p1"].items()})
    print(f"total {report['total_seconds']} s (cpu {report['cpu_seconds']} s) "
          f"→ {args.out / 'mmoe_synthetic.json'}")
    return report


if __name__ == "__main__":
    main()
