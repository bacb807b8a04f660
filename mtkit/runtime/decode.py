"""Raw head outputs → readable predictions, driven by the decode specs stored in the model.

Per task (``decode["type"]``): ``categorical`` → class index, label, probability;
``binary`` → class 0/1 and the probability of 1; ``multilabel`` → the classes above the
threshold and every probability; ``regression`` → the value(s). A dataset-level
``digit_sequence`` decoder reads a number from a length head and digit heads. Unknown
types pass the raw output through, so a plugin head still gets its numbers back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.runtime.metadata import ModelMeta, TaskMeta


def _label(labels: list[str] | None, index: int) -> str | None:
    return labels[index] if labels and 0 <= index < len(labels) else None


def decode_task(task: TaskMeta, out: np.ndarray) -> list[dict[str, Any]]:
    """One dict per row of ``out`` (the task's raw output, shape (N, ...))."""
    kind = task.decode.get("type", task.output_type)
    labels = task.decode.get("labels") or task.labels
    rows = out.reshape(len(out), -1).astype(np.float64)
    if kind == "categorical":
        idx = np.argmax(rows, axis=1)
        return [{"class": int(i), "label": _label(labels, int(i)), "probability": float(r[i])}
                for i, r in zip(idx, rows, strict=True)]
    if kind == "binary":
        thr = float(task.decode.get("threshold", 0.5))
        return [{"class": int(r[0] >= thr), "label": _label(labels, int(r[0] >= thr)),
                 "probability": float(r[0])} for r in rows]
    if kind == "multilabel":
        thr = float(task.decode.get("threshold", 0.5))
        out_rows = []
        for r in rows:
            on = [int(i) for i in np.flatnonzero(r >= thr)]
            item: dict[str, Any] = {"classes": on, "probabilities": [float(v) for v in r]}
            if labels:
                item["labels"] = [_label(labels, i) for i in on]
            out_rows.append(item)
        return out_rows
    if kind == "regression":
        if rows.shape[1] == 1:
            return [{"value": float(r[0])} for r in rows]
        return [{"value": [float(v) for v in r]} for r in rows]
    return [{"raw": out[i].tolist()} for i in range(len(out))]


def decode_digit_sequence(spec: dict[str, Any], raw: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Number strings from a length head and digit heads (Goodfellow et al. 2013).

    ``n = argmax(length)``; the number is the argmax of the first ``min(n, K)`` digit
    heads; ``n == overflow_class`` means more than K digits (marked by a trailing ``+``).
    ``probability`` is the product of the chosen classes' probabilities: the model's
    confidence in the whole transcription, for thresholding by coverage.
    """
    length = raw[spec["length"]].reshape(len(raw[spec["length"]]), -1)
    digits = [raw[d].reshape(len(raw[d]), -1) for d in spec["digits"]]
    overflow = spec.get("overflow_class")
    n = np.argmax(length, axis=1)
    out = []
    for row, count in enumerate(n):
        used = digits[: min(int(count), len(digits))]
        picks = [int(np.argmax(d[row])) for d in used]
        prob = float(length[row, count]) * float(np.prod([d[row, p] for d, p in zip(used, picks,
                                                                                   strict=True)]))
        over = overflow is not None and int(count) == int(overflow)
        out.append({"number": "".join(map(str, picks)) + ("+" if over else ""),
                    "length": int(count), "overflow": over, "probability": prob})
    return out


DATASET_DECODERS = {"digit_sequence": ("sequence", decode_digit_sequence)}
"""Dataset decoder type → (key in each decoded example, function)."""


def decode(meta: ModelMeta, raw: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One dict per example: ``{task: decoded, ...}`` plus any dataset-level decoding."""
    n = len(next(iter(raw.values()))) if raw else 0
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for name, task in meta.tasks.items():
        for row, item in zip(rows, decode_task(task, raw[name]), strict=True):
            row[name] = item
    kind = meta.decode.get("type")
    if kind in DATASET_DECODERS:
        key, fn = DATASET_DECODERS[kind]
        key = meta.decode.get("name", key)
        if key in meta.tasks:  # never shadow a task's own prediction
            key = f"{kind}_{key}"
        for row, item in zip(rows, fn(meta.decode, raw), strict=True):
            row[key] = item
    return rows
