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


def metric_direction(plan: Any, task: str, metric: str) -> int:
    """+1 / -1 as the task's head declares it (``Head.metric_direction``), 0 if it does not;
    a task without metrics is judged by its loss (lower is better)."""
    if metric == "loss":
        return -1
    return int(plan.tasks[task].head.metric_direction(metric) or 0)


def primary_metric(plan: Any, task: str) -> str:
    return plan.tasks[task].metrics[0] if plan.tasks[task].metrics else "loss"


def _provider(head: Any) -> str:
    from mtkit.registry import get_registry

    for e in get_registry().entries:
        if e.kind == "head" and e.cls is type(head):
            return e.provider
    return "?"


def check_directions(plan: Any, source: str) -> None:
    """Δm signs each task's change by its metric's direction: refuse a metric whose head
    does not declare one, before anything trains (a guessed sign would flip the verdict)."""
    for task in plan.tasks:
        m = primary_metric(plan, task)
        if metric_direction(plan, task, m) == 0:
            head = plan.tasks[task].head
            raise ConfigError(
                f"{source}: field 'tasks.{task}.metrics': Δm needs to know whether metric "
                f"'{m}' is better higher or lower, and head '{head.name}' (plugin package "
                f"'{_provider(head)}') does not declare it. Fix: list a metric with a "
                "direction first for this task (e.g. "
                f"{_directed(head)}), or mark the metric's function in the head plugin with "
                "@mtkit.metrics.higher_is_better or @mtkit.metrics.lower_is_better.")


def _directed(head: Any) -> str:
    names = [n for n in head.metric_functions() if head.metric_direction(n)]
    return ", ".join(names) if names else "loss"


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
    directions = {t: metric_direction(plan, t, metrics[t]) for t in tasks}
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
    lines += _experts_markdown(report)
    return "\n".join(lines)


def expert_usage(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{variant: the gates' mean weight per expert at the last epoch, mean over seeds};
    empty for a trunk without gates."""
    out = {}
    for r in report["variants"]:
        if r["kind"] != "multi":
            continue
        last = [d[-1]["experts"] for d in (r["diagnostics"] or {}).values()
                if d and "experts" in d[-1]]
        if not last:
            continue
        out[r["variant"]] = [
            {"task": g["task"], "layer": g["layer"],
             "experts": {e: float(np.mean([seed[i]["experts"][e] for seed in last]))
                         for e in g["experts"]}}
            for i, g in enumerate(last[0])]
    return out


def _experts_markdown(report: dict[str, Any]) -> list[str]:
    usage = expert_usage(report)
    if not usage:
        return []
    lines = ["## Expert utilisation", "",
             "Mean gate weight of each expert over the diagnostics sample, last epoch, mean "
             "over seeds (a row sums to 1; an expert near 0 everywhere is unused).", ""]
    for variant, gates in usage.items():
        experts = list(dict.fromkeys(e for g in gates for e in g["experts"]))
        lines += [f"{variant}:", "", "| gate (task) | " + " | ".join(experts) + " |",
                  "|---|" + "---|" * len(experts)]
        for g in gates:
            cells = [f"{g['experts'][e]:.3f}" if e in g["experts"] else "" for e in experts]
            lines.append(f"| {g['layer']} ({g['task'] or 'shared'}) | {' | '.join(cells)} |")
        lines.append("")
    return lines


def draw_experts(ax: Any, gates: list[dict[str, Any]], title: str) -> None:
    """Heat map: one row per gate, one column per expert, the mean gate weight."""
    experts = list(dict.fromkeys(e for g in gates for e in g["experts"]))
    grid = np.array([[g["experts"].get(e, np.nan) for e in experts] for g in gates])
    im = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(experts)), experts, rotation=60, fontsize=6, ha="right")
    ax.set_yticks(range(len(gates)), [f"{g['layer']} ({g['task'] or 'shared'})" for g in gates],
                  fontsize=6)
    ax.set_title(title, fontsize=9)
    ax.figure.colorbar(im, ax=ax)


def plot(report: dict[str, Any], path: Path) -> None:
    """Δm per weighting, and per-task trunk gradient norms / mean cosine over epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    multi = [r for r in report["variants"] if r["kind"] == "multi"]
    usage = expert_usage(report)
    fig, axes = plt.subplots(1, 4 if usage else 3, figsize=(20 if usage else 15, 4))
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
    for ax in axes[1:3]:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=6)
    if usage:
        variant, gates = next(iter(usage.items()))
        draw_experts(axes[3], gates, f"expert utilisation, {variant} (mean gate weight)")
    fig.tight_layout()
    rundir.atomic_write(path, lambda p: fig.savefig(p, dpi=90, format="png"))
    plt.close(fig)


def write_report(out: Path, report: dict[str, Any]) -> None:
    rundir.write_json(out / "compare.json", report)
    rundir.write_text(out / "compare.md", markdown(report))
    plot(report, out / "compare.png")


def load(out: Path) -> dict[str, Any]:
    return json.loads((out / "compare.json").read_text(encoding="utf-8"))
