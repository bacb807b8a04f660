"""The built-in heads' decoders: raw output → readable rows, numpy only.

The heads name these (``decoder = "mtkit.builtin.heads._decode:categorical"``); the name is
stored in exported models and the TensorFlow-free runtime imports this module, which needs
nothing but numpy (a lean ``pip install --no-deps mtkit`` deployment still decodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def label_of(labels: list[str] | None, index: int) -> str | None:
    """The name of class ``index``, or None when the classes are unnamed."""
    return labels[index] if labels and 0 <= index < len(labels) else None


def categorical(spec: dict[str, Any], out: np.ndarray) -> list[dict[str, Any]]:
    """Class index, its label (when named) and its probability."""
    labels = spec.get("labels")
    rows = out.reshape(len(out), -1).astype(np.float64)
    idx = np.argmax(rows, axis=1)
    return [{"class": int(i), "label": label_of(labels, int(i)), "probability": float(r[i])}
            for i, r in zip(idx, rows, strict=True)]


def binary(spec: dict[str, Any], out: np.ndarray) -> list[dict[str, Any]]:
    """Class 0/1 at the threshold, its label (when named) and the probability of 1."""
    labels = spec.get("labels")
    thr = float(spec.get("threshold", 0.5))
    rows = out.reshape(len(out), -1).astype(np.float64)
    return [{"class": int(r[0] >= thr), "label": label_of(labels, int(r[0] >= thr)),
             "probability": float(r[0])} for r in rows]


def multilabel(spec: dict[str, Any], out: np.ndarray) -> list[dict[str, Any]]:
    """The classes at or above the threshold (and their labels) and every probability."""
    labels = spec.get("labels")
    thr = float(spec.get("threshold", 0.5))
    out_rows = []
    for r in out.reshape(len(out), -1).astype(np.float64):
        on = [int(i) for i in np.flatnonzero(r >= thr)]
        item: dict[str, Any] = {"classes": on, "probabilities": [float(v) for v in r]}
        if labels:
            item["labels"] = [label_of(labels, i) for i in on]
        out_rows.append(item)
    return out_rows


def regression(spec: dict[str, Any], out: np.ndarray) -> list[dict[str, Any]]:
    """The value (a list of values for several units)."""
    rows = out.reshape(len(out), -1).astype(np.float64)
    if rows.shape[1] == 1:
        return [{"value": float(r[0])} for r in rows]
    return [{"value": [float(v) for v in r]} for r in rows]
