"""Per-task metrics in plain numpy, shared by training, evaluation and the TF-free runtime.

Each function takes only the labelled rows: ``y_true`` without missing labels and the
matching ``y_pred`` rows of the head's raw output. Each carries its direction
(``@higher_is_better`` / ``@lower_is_better``), which export's reduced-precision check reads
to judge a metric drop; a head's own undecorated metric falls back to its name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray], float]


def higher_is_better(fn: MetricFn) -> MetricFn:
    """Mark ``fn`` as a score (accuracy, AUC, ...): a drop is a loss of quality."""
    fn.higher_is_better = True  # type: ignore[attr-defined]
    return fn


def lower_is_better(fn: MetricFn) -> MetricFn:
    """Mark ``fn`` as an error (MAE, RMSE, ...): a rise is a loss of quality."""
    fn.higher_is_better = False  # type: ignore[attr-defined]
    return fn


_SCORE_NAMES = {"accuracy", "auc", "exact_match", "r2"}
_ERROR_NAMES = {"mae", "mse", "rmse", "loss"}


def direction(name: str, fn: Any = None) -> int:
    """+1 when higher is better, -1 when lower is, 0 when unknown (reported, not judged).

    A decorated function says it itself; otherwise the usual names decide
    (``*accuracy``, ``auc``, ``r2`` up; ``mae``, ``mse``, ``rmse``, ``loss`` down).
    """
    marked = getattr(fn, "higher_is_better", None)
    if marked is not None:
        return 1 if marked else -1
    if name in _SCORE_NAMES or name.endswith("accuracy"):
        return 1
    if name in _ERROR_NAMES:
        return -1
    return 0


@higher_is_better
def accuracy_categorical(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)))


@higher_is_better
def accuracy_binary(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((y_pred.reshape(y_true.shape) >= 0.5) == (y_true >= 0.5)))


@higher_is_better
def exact_match(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    hit = (y_pred.reshape(y_true.shape) >= 0.5) == (y_true >= 0.5)
    return float(np.mean(hit.reshape(len(y_true), -1).all(axis=1)))


@higher_is_better
def auc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties counted half."""
    y = y_true.reshape(-1) >= 0.5
    s = y_pred.reshape(-1).astype(np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@lower_is_better
def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y_pred.reshape(y_true.shape) - y_true)))


@lower_is_better
def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean((y_pred.reshape(y_true.shape) - y_true) ** 2))


@lower_is_better
def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.sqrt(mse(y_true, y_pred)))


@higher_is_better
def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    var = float(np.sum((y_true - y_true.mean(axis=0)) ** 2))
    if var == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((y_pred.reshape(y_true.shape) - y_true) ** 2)) / var
