"""Scores of each source on its own split: its tasks, plus its dataset-level metrics."""

from __future__ import annotations

from typing import Any

from mtkit.mixtures.sources import labelled_plan
from mtkit.planning import Plan


def evaluate_sources(plan: Plan, model: Any, sources: dict[str, Any], split: str
                     ) -> dict[str, Any]:
    """{source: {"tasks": {task: scores}, "dataset": {...}, "rows": n}} on ``split``."""
    from mtkit.training.evaluate import evaluate_split

    out: dict[str, Any] = {}
    for name, splits in sources.items():
        arrays = getattr(splits, split)
        if arrays is None:
            continue
        sub = labelled_plan(plan, plan.sources[name])
        scores = evaluate_split(sub, model, arrays)
        scores["rows"] = len(arrays)
        out[name] = scores
    return out
