"""Judge a reduced-precision model by what matters: its task metrics on the test split.

fp16 and int8 outputs differ from fp32 by far more than parity tolerances, so they are
compared on the metrics each head reports (and the dataset's own metrics), as deltas
against the fp32 ONNX model on the same rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mtkit.metrics import direction
from mtkit.runtime.session import run_batched


def directions(plan: Any, scores: dict[str, Any]) -> dict[str, int]:
    """``{"task.metric": +1 / -1 / 0}``: which way each scored metric is better, as its
    head (or, for ``(dataset).metric``, the dataset) declares it."""
    out = {f"{name}.{m}": plan.tasks[name].head.metric_direction(m)
           for name, row in scores["tasks"].items() for m in row if m != "labelled"}
    out |= {f"(dataset).{m}": plan.dataset.metric_direction(m) for m in scores.get("dataset", {})}
    return out


def onnx_scores(plan: Any, session: Any, inputs: dict[str, np.ndarray],
                labels: dict[str, np.ndarray], batch_size: int = 256) -> dict[str, Any]:
    """Per-task metrics (and dataset metrics) of an onnxruntime session; no losses. The
    scores carry ``directions``: which way each metric is better, as its head says."""
    from mtkit.scoring import score

    preds = run_batched(session, inputs, batch_size)
    scores = score(plan, labels, preds, with_loss=False)
    scores["directions"] = directions(plan, scores)
    return scores


def _flat(scores: dict[str, Any]) -> dict[tuple[str, str], float]:
    out = {}
    for task, row in scores["tasks"].items():
        for metric, value in row.items():
            if metric != "labelled":
                out[(task, metric)] = value
    for metric, value in scores.get("dataset", {}).items():
        out[("(dataset)", metric)] = value
    return out


def deltas(base: dict[str, Any], other: dict[str, Any], max_drop: float) -> list[dict[str, Any]]:
    """Rows {task, metric, fp32, value, delta, worse_by, ok}.

    ``worse_by`` is the absolute drop for higher-is-better metrics (accuracy, AUC, ...) and
    the relative increase for errors (MAE, RMSE, ...); a row fails above ``max_drop``.
    """
    rows = []
    b, o = _flat(base), _flat(other)
    for key, ref in b.items():
        got = o.get(key, float("nan"))
        sign = base.get("directions", {}).get(f"{key[0]}.{key[1]}", direction(key[1]))
        worse = None
        if sign and isinstance(ref, float | int) and isinstance(got, float | int) \
                and math.isfinite(ref) and math.isfinite(got):
            worse = (ref - got) if sign > 0 else (got - ref) / max(abs(ref), 1e-12)
        rows.append({"task": key[0], "metric": key[1], "fp32": ref, "value": got,
                     "delta": got - ref if isinstance(got, float | int) else None,
                     "worse_by": worse, "ok": worse is None or worse <= max_drop})
    return rows


def table(rows: list[dict[str, Any]], precision: str, max_drop: float) -> str:
    lines = [f"{precision} vs fp32 on the test split (fails if worse by more than {max_drop:g})",
             f"{'task':<16} {'metric':<20} {'fp32':>10} {precision:>10} {'delta':>10}  result"]
    for r in rows:
        delta = "-" if r["delta"] is None else f"{r['delta']:+.4g}"
        lines.append(f"{r['task']:<16} {r['metric']:<20} {r['fp32']:>10.4g} {r['value']:>10.4g} "
                     f"{delta:>10}  {'ok' if r['ok'] else 'FAIL'}")
    return "\n".join(lines)
