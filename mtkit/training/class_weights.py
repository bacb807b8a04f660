"""``tasks.<name>.class_weight`` → one weight per class, checked against the head.

Resolved once per run from the train split (``balanced`` counts its labelled rows), before
anything is written. Only the *training* loss is weighted: validation and test losses,
which early stopping and the metrics use, stay unweighted (as with Keras' ``class_weight``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import Arrays, label_present
from mtkit.errors import ConfigError
from mtkit.planning import Plan


def _classes(plan: Plan, name: str) -> int | None:
    """Classes of the task's head when its label is one class per row (the head says)."""
    return plan.tasks[name].head.class_count()


def resolve_class_weights(plan: Plan, train: Arrays) -> dict[str, np.ndarray]:
    """{task: float32 array of one weight per class} for each task that sets class_weight."""
    out: dict[str, np.ndarray] = {}
    for name, tc in plan.config.tasks.items():
        spec = tc.class_weight
        if spec is None:
            continue
        field = f"{plan.source}: field 'tasks.{name}.class_weight'"
        kind = plan.tasks[name].head.output_type
        n = _classes(plan, name)
        if n is None:
            raise ConfigError(
                f"{field}: head '{tc.head}' gives {kind} outputs; class weights apply to heads "
                "whose label is one class per row (classification, binary). For a multilabel "
                "head, give each label its own binary task, or remove class_weight.")
        if isinstance(spec, list):
            if len(spec) != n:
                raise ConfigError(f"{field}: {len(spec)} weights given for the {n} classes of "
                                  f"head '{tc.head}'; give exactly one weight per class.")
            weights = np.asarray(spec, np.float32)
        elif isinstance(spec, dict):
            bad = [k for k in spec if k >= n]
            if bad:
                raise ConfigError(f"{field}: class {bad[0]} does not exist (head '{tc.head}' has "
                                  f"classes 0..{n - 1}).")
            weights = np.ones(n, np.float32)
            for k, w in spec.items():
                weights[k] = w
        else:  # balanced: n_labelled / (classes × count), as scikit-learn's compute_class_weight
            y = train.labels[name]
            y = np.asarray(y[label_present(y)]).reshape(-1).astype(np.int64)
            if y.size == 0:
                raise ConfigError(f"{field}: 'balanced' needs labelled training rows, and task "
                                  f"'{name}' has none in the train split.")
            counts = np.bincount(y, minlength=n).astype(np.float64)
            weights = np.where(counts > 0, y.size / (n * np.maximum(counts, 1)), 1.0).astype(
                np.float32)
        if not np.any(weights > 0):
            raise ConfigError(f"{field}: every class weight is 0, so the task would not train; "
                              "give at least one class a positive weight.")
        out[name] = weights
    return out


def describe(weights: dict[str, Any]) -> dict[str, list[float]]:
    """For run.json: the resolved weights, rounded for reading."""
    return {k: [round(float(w), 6) for w in v] for k, v in weights.items()}
