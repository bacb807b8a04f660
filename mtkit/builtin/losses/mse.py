"""Built-in loss: mean squared error."""

from __future__ import annotations

from typing import Any

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class MeanSquaredError(Loss):
    """Mean squared error over a row's targets."""

    name = "mse"
    accepts = frozenset({"regression"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras

        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=-1)


@hookimpl
def register_losses(register):
    register(MeanSquaredError)
