"""A head whose metrics are its own: ``spread`` (lower is better), ``closeness`` (higher is
better) and ``wobble`` (no direction declared, and a name mtkit cannot guess from)."""

from typing import Any

import numpy as np

import mtkit
from mtkit.metrics import higher_is_better, lower_is_better


@lower_is_better
def spread(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Standard deviation of the residuals: an error, smaller is better."""
    return float(np.std(y_pred.reshape(y_true.shape) - y_true))


@higher_is_better
def closeness(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """1 / (1 + mean absolute error): a score in (0, 1], larger is better."""
    return float(1.0 / (1.0 + np.mean(np.abs(y_pred.reshape(y_true.shape) - y_true))))


def wobble(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Deliberately undeclared: neither marked nor a name with a known direction."""
    return float(np.mean(y_pred))


class GaugeHead(mtkit.Head):
    """One linear output with the fixture's own metrics."""

    name = "gauge"
    output_type = "regression"
    default_loss = "mse"
    default_metrics = ("spread", "closeness")
    continuous = True

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        return keras.layers.Dense(1, name=task_name)(features)

    def metric_functions(self) -> dict[str, Any]:
        return {"spread": spread, "closeness": closeness, "wobble": wobble}


@mtkit.hookimpl
def register_heads(register):
    register(GaugeHead)
