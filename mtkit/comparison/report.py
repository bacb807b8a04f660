"""The comparison's numbers: per task and seed the test metric of every variant, Δm
(Maninis et al. 2019) against the single-task baselines, mean ± spread, a ranking, costs,
and the training diagnostics; written as compare.json, compare.md and compare.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mtkit import rundir
from mtkit.errors import ConfigError

_DIRECTION = {"accuracy": 1, "auc": 1, "exact_match": 1, "r2": 1, "f1": 1,
              "mae": -1, "mse": -1, "rmse": -1, "loss": -1}
"""Fallback directions (+1: higher is better) for heads that do not declare theirs."""


def metric_direction(plan: Any, task: str, metric: str) -> int:
    head = plan.tasks[task].head
    fn = getattr(head, "metric_direction", None)
    d = fn(metric) if fn is not None else _DIRECTION.get(metric, 0)
    return int(d or 0)


def primary_metric(plan: Any, task: str) -> str:
    return plan.tasks[task].metrics[0] if plan.tasks[task].metrics else "loss"


def check_directions(plan: Any, source: str) -> None:
    for task in plan.tasks:
        m = primary_metric(plan, task)
        if m != "loss" and metric_direction(plan, task, m) == 0:
            raise ConfigError(
                f"{source}: field 'tasks.{task}.metrics': Δm needs to know whether '{m}' is "
                "better higher or lower, and its head does not say; list a metric with a "
                "direction first (e.g. accuracy, mae), or declare it in the head plugin.")


def delta_m(multi: dict[str, float], single: dict[str, float], directions: dict[str, int]) -> float:
    """Δm = (1/T) Σ_t s_t (M_m,t − M_b,t) / M_b,t × 100, s_t = +1 if higher is better else −1
    (Maninis et al. 2019, 'Attentive single-tasking of multiple tasks')."""
    terms = [directions[t] * (multi[t] - single[t]) / abs(single[t]) for t in single]
    return float(100.0 * np.mean(terms))


def _run_numbers(run: Path, tasks: list[str], metrics: dict[str, str]) -> dict[str, Any]:
    m = rundir.read_json(run / rundir.METRICS)
    h = rundir.read_json(run / rundir.HISTORY)["epochs"]
    steps = sum(int(e.get("steps", 0)) for e in h)
    train_s = sum(float(e.get("train_seconds", 0.0)) for e in h)
    values = {}
    for t in tasks:
        row = m.get("tasks", {}).get(t, {})
        values[t] = float(row.get(metrics[t], row.get("loss", float("nan"))))
    diag = [e["diagnostics"] for e in h if "diagnostics" in e]
    return {"metrics": values, "split": m.get("split"),
            "wall_seconds": round(sum(float(e.get("seconds", 0.0)) for e in h), 3),
            "step_ms": round(1000 * train_s / steps, 3) if steps else None,
            "epochs": len(h), "diagnostics": diag}


def build_report(out: Path, variants: list[Any], seeds: list[int], plan: Any) -> dict[str, Any]:
    tasks = list(plan.tasks)
    metrics = {t: primary_metric(plan, t) for t in tasks}
    directions = {t: (metric_direction(plan, t, metrics[t]) if metrics[t] != "loss" else -1)
                  for t in tasks}
    runs = {v.name: {s: _run_numbers(out / "runs" / v.run_name(s), tasks, metrics)
                     for s in seeds} for v in variants}
    single = {s: {t: runs[f"single-{t}"][s]["metrics"][t] for t in tasks} for s in seeds}
    rows = []
    for v in variants:
        per_seed = runs[v.name]
        own = ({s: {t: per_seed[s]["metrics"][t] for t in tasks} for s in seeds}
               if v.task is None else None)
        dm = [delta_m(own[s], single[s], directions) for s in seeds] if own else None
        rows.append({
            "variant": v.name, "kind": "single" if v.task else "multi",
            "task": v.task, "weighting": v.weighting,
            "metrics": {t: {"mean": float(np.mean([per_seed[s]["metrics"][t] for s in seeds])),
                            "std": float(np.std([per_seed[s]["metrics"][t] for s in seeds])),
                            "seeds": {str(s): per_seed[s]["metrics"][t] for s in seeds}}
                        for t in ([v.task] if v.task else tasks)},
            "delta_m": ({"mean": float(np.mean(dm)), "std": float(np.std(dm)),
                         "seeds": {str(s): d for s, d in zip(seeds, dm, strict=True)}}
                        if dm else None),
            "wall_seconds": float(np.mean([per_seed[s]["wall_seconds"] for s in seeds])),
            "step_ms": (float(np.mean([per_seed[s]["step_ms"] for s in seeds]))
                        if all(per_seed[s]["step_ms"] for s in seeds) else None),
            "diagnostics": {str(s): per_seed[s]["diagnostics"] for s in seeds} if not v.task
            else None,
        })
    ranking = sorted((r for r in rows if r["kind"] == "multi"),
                     key=lambda r: -r["delta_m"]["mean"])
    return {"tasks": tasks, "metrics": metrics, "directions": directions, "seeds": seeds,
            "split": runs[variants[0].name][seeds[0]]["split"], "variants": rows,
            "ranking": [r["variant"] for r in ranking]}


def markdown(report: dict[str, Any]) -> str:
    tasks, seeds = report["tasks"], report["seeds"]
    arrow = {1: "↑", -1: "↓"}
    head = " | ".join(f"{t} {report['metrics'][t]} {arrow[report['directions'][t]]}"
                      for t in tasks)
    lines = [f"# mtkit compare: {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), "
             f"{report['split']} split", "",
             "Δm: mean relative change against the single-task baselines, signed so that "
             "positive is better (Maninis et al. 2019).", "",
             f"| variant | {head} | Δm % | wall s | step ms |",
             "|---|" + "---|" * (len(tasks) + 3)]
    for r in report["variants"]:
        cells = []
        for t in tasks:
            m = r["metrics"].get(t)
            cells.append(f"{m['mean']:.4f} ± {m['std']:.4f}" if m else "")
        dm = f"{r['delta_m']['mean']:+.2f} ± {r['delta_m']['std']:.2f}" if r["delta_m"] else "—"
        step = f"{r['step_ms']:.2f}" if r["step_ms"] else "—"
        lines.append(f"| {r['variant']} | {' | '.join(cells)} | {dm} | "
                     f"{r['wall_seconds']:.1f} | {step} |")
    lines += ["", "Ranking by Δm: " + " > ".join(report["ranking"]), ""]
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path) -> None:
    """Δm per weighting, and per-task trunk gradient norms / mean cosine over epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    multi = [r for r in report["variants"] if r["kind"] == "multi"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    names = [r["weighting"] for r in multi]
    axes[0].bar(names, [r["delta_m"]["mean"] for r in multi],
                yerr=[r["delta_m"]["std"] for r in multi], color="tab:blue")
    axes[0].axhline(0, color="k", lw=0.8)
    axes[0].set_title("Δm % vs single-task (higher is better)")
    for r in multi:
        diag = r["diagnostics"][str(report["seeds"][0])]
        if not diag:
            continue
        epochs = range(1, len(diag) + 1)
        for t in report["tasks"]:
            axes[1].plot(epochs, [d["grad_norm"].get(t, np.nan) for d in diag],
                         label=f"{r['weighting']}:{t}")
        axes[2].plot(epochs, [np.mean(list(d["cosine"].values())) if d["cosine"] else np.nan
                              for d in diag], label=r["weighting"])
    axes[1].set_title(f"trunk gradient norm per task (seed {report['seeds'][0]})")
    axes[1].set_yscale("log")
    axes[2].set_title("mean pairwise gradient cosine")
    axes[2].axhline(0, color="k", lw=0.8)
    for ax in axes[1:]:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=6)
    fig.tight_layout()
    rundir.atomic_write(path, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)


def write_report(out: Path, report: dict[str, Any]) -> None:
    rundir.write_json(out / "compare.json", report)
    rundir.write_text(out / "compare.md", markdown(report))
    plot(report, out / "compare.png")


def load(out: Path) -> dict[str, Any]:
    return json.loads((out / "compare.json").read_text(encoding="utf-8"))
