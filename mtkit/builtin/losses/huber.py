"""Built-in loss: Huber (quadratic near zero, linear beyond `delta`), robust to outliers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class HuberParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delta: float = Field(1.0, gt=0.0)


class Huber(Loss):
    """Huber loss: quadratic within `delta`, linear outside."""

    name = "huber"
    Params = HuberParams
    accepts = frozenset({"regression"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras

        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        return keras.losses.huber(y_true, y_pred, delta=self.params.delta)


@hookimpl
def register_losses(register):
    register(Huber)
