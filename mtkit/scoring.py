"""Scores of a split's predictions: per-task masked loss and metrics, plus dataset metrics.

Numpy in, numpy out: export's metric check and the TF-free ``mtkit evaluate`` use it as
well as training. Only ``with_loss=True`` reaches the loss plugins (and so TensorFlow).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import label_present
from mtkit.planning import Plan


def task_losses_np(plan: Plan, labels: dict[str, np.ndarray], preds: dict[str, np.ndarray]):
    """Masked mean loss per task, computed with the task's own loss plugin."""
    from mtkit.training.masking import masked_mean

    return {name: float(masked_mean(task.loss, labels[name], preds[name]))
            for name, task in plan.tasks.items()}


def score(plan: Plan, labels: dict[str, np.ndarray], preds: dict[str, np.ndarray],
          with_loss: bool = True) -> dict[str, Any]:
    """{"tasks": {task: {loss, metrics..., labelled}}, "dataset": {...}}.

    A diverged model's outputs overflow in the metrics; the training loop reports that
    itself (naming the task), so numpy's overflow warnings are silenced here.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _score(plan, labels, preds, with_loss)


def _score(plan: Plan, labels: dict[str, np.ndarray], preds: dict[str, np.ndarray],
           with_loss: bool) -> dict[str, Any]:
    losses = task_losses_np(plan, labels, preds) if with_loss else {}
    tasks: dict[str, Any] = {}
    for name, task in plan.tasks.items():
        y = labels[name]
        present = label_present(y)
        row: dict[str, Any] = {"labelled": int(present.sum())}
        if with_loss:
            row["loss"] = losses[name]
        fns = task.head.metric_functions()
        for m in task.metrics:
            row[m] = fns[m](y[present], preds[name][present]) if present.any() else float("nan")
        tasks[name] = row
    return {"tasks": tasks, "dataset": _dataset_metrics(plan, labels, preds)}


def _dataset_metrics(plan: Plan, labels: dict[str, np.ndarray], preds: dict[str, np.ndarray]
                     ) -> dict[str, Any]:
    """The dataset plugin's own metrics. A task mixture has them per source only
    (``mtkit.mixtures.evaluate``); a source scores them on the tasks it labels, and a
    dataset whose metrics need tasks the source does not label gives none."""
    if getattr(plan, "sources", None):
        return {}
    if not set(plan.tasks) < set(labels):  # not one source's share of a mixture's tasks
        return plan.dataset.evaluate(labels, preds)
    try:
        return plan.dataset.evaluate({k: labels[k] for k in plan.tasks}, preds)
    except (KeyError, ValueError, IndexError):
        return {}


def weighted_total(plan: Plan, scores: dict[str, Any]) -> float:
    """Σ task weight × task loss: the quantity early stopping monitors."""
    return float(sum(plan.tasks[k].info.weight * v["loss"] for k, v in scores["tasks"].items()))
