"""``tasks.<name>.class_weight`` → one weight per class (or, for a multilabel head, a
(2, labels) array: each label's negative and positive weight), checked against the head.

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
from mtkit.plugin_types import Loss


def _classes(plan: Plan, name: str) -> int | None:
    """Classes of the task's head when its label is one class per row (the head says)."""
    return plan.tasks[name].head.class_count()


def _is_multilabel(plan: Plan, name: str) -> bool:
    head = plan.tasks[name].head
    return head.class_count() is None and head.output_type == "multilabel"


def _has_per_element(loss: Any) -> bool:
    return type(loss).per_element is not Loss.per_element


def _multilabel(plan: Plan, name: str, spec: Any, train: Arrays, field: str) -> np.ndarray:
    """(2, labels): row 0 weighs each label's negatives, row 1 its positives."""
    tc, task = plan.config.tasks[name], plan.tasks[name]
    labels = int(np.prod(task.head.label_shape()))
    loss_name = tc.loss.type if tc.loss is not None else task.head.default_loss
    if not _has_per_element(task.loss):
        raise ConfigError(
            f"{field}: a multilabel class weight weighs each label before the row's mean, and "
            f"loss '{loss_name}' gives only per-row values (it does not implement "
            "Loss.per_element); use binary_crossentropy or focal, or remove class_weight.")
    shape_hint = (f"give a (2, labels) list, here (2, {labels}): [[negative weight of each "
                  "label], [positive weight of each label]], or 'balanced'")
    if isinstance(spec, dict) or (isinstance(spec, list) and not isinstance(spec[0], list)):
        raise ConfigError(f"{field}: head '{tc.head}' is multilabel ({labels} labels), so its "
                          f"class weights are per label and per value; {shape_hint}.")
    if isinstance(spec, list):
        rows = [len(r) for r in spec]
        if len(spec) != 2 or any(n != labels for n in rows):
            raise ConfigError(f"{field}: got a list of {len(spec)} rows of {rows} weights; "
                              f"{shape_hint}.")
        return np.asarray(spec, np.float32)
    # balanced, per label: n_labelled / (2 × count of the value), as scikit-learn per column
    y = np.asarray(train.labels[name], np.float64)
    y = y[label_present(y)].reshape(-1, labels)
    if len(y) == 0:
        raise ConfigError(f"{field}: 'balanced' needs labelled training rows, and task "
                          f"'{name}' has none in the train split.")
    counts = np.stack([(y == 0).sum(0), (y == 1).sum(0)]).astype(np.float64)
    return np.where(counts > 0, len(y) / (2 * np.maximum(counts, 1)), 1.0).astype(np.float32)


def resolve_class_weights(plan: Plan, train: Arrays) -> dict[str, np.ndarray]:
    """{task: float32 weights} for each task that sets class_weight: one per class, or
    (2, labels) for a multilabel head (negative and positive weight of each label)."""
    out: dict[str, np.ndarray] = {}
    for name, tc in plan.config.tasks.items():
        spec = tc.class_weight
        if spec is None:
            continue
        field = f"{plan.source}: field 'tasks.{name}.class_weight'"
        kind = plan.tasks[name].head.output_type
        n = _classes(plan, name)
        if n is None and _is_multilabel(plan, name):
            weights = _multilabel(plan, name, spec, train, field)
        elif n is None:
            raise ConfigError(
                f"{field}: head '{tc.head}' gives {kind} outputs; class weights apply to heads "
                "whose label is one class per row (classification, binary) or one 0/1 per "
                "label (multilabel); remove class_weight.")
        elif isinstance(spec, list) and spec and isinstance(spec[0], list):
            raise ConfigError(f"{field}: a list of lists is the multilabel form, and head "
                              f"'{tc.head}' has one class per row; give {n} weights, one per "
                              "class.")
        elif isinstance(spec, list):
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
    return {k: np.round(np.asarray(v, np.float64), 6).tolist() for k, v in weights.items()}
