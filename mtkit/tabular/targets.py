"""Targets in user terms: regression losses computed on standardised values.

The model's regression outputs are de-standardised in-graph (``Rescaling(std, mean)``),
so predictions, metrics and ONNX outputs are in the user's units. The loss is computed
on ``(y - mean) / std`` of both label and prediction, which is exactly the loss of the
standardised problem: a target in the thousands no longer swamps the other tasks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.plugin_types import Loss


def standardise_loss(loss: Loss, mean: list[float], std: list[float]) -> None:
    """Make ``loss.per_example`` see standardised labels and predictions (in place, once)."""
    if getattr(loss, "_mtkit_standardised", None) is not None:
        return
    inner = loss.per_example
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)
    scalar = m.size == 1

    def per_example(y_true: Any, y_pred: Any) -> Any:
        mm = float(m[0]) if scalar else m
        ss = float(s[0]) if scalar else s
        return inner((y_true - mm) / ss, (y_pred - mm) / ss)

    loss.per_example = per_example  # type: ignore[method-assign]
    loss._mtkit_standardised = (m, s)  # type: ignore[attr-defined]
