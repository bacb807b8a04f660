"""Built-in head: regression (linear units)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from mtkit import metrics
from mtkit.builtin.heads._dense import DenseStack, dense_stack
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Head


class RegressionParams(DenseStack):
    model_config = ConfigDict(extra="forbid")
    units: int = Field(1, ge=1, description="Number of regression targets.")


class RegressionHead(Head):
    """Regression: `units` linear outputs; labels float (NaN = missing)."""

    name = "regression"
    Params = RegressionParams
    example: ClassVar[dict[str, Any]] = {"units": 2}
    output_type = "regression"
    default_loss = "mse"
    default_metrics = ("mae", "rmse")
    decoder = "mtkit.builtin.heads._decode:regression"
    label_dtype = "float32"
    continuous = True

    def build(self, features: Any, task_name: str) -> Any:
        import keras

        x = dense_stack(features, self.params, task_name)
        return keras.layers.Dense(self.params.units, name=task_name)(x)

    def label_shape(self) -> tuple[int, ...]:
        return () if self.params.units == 1 else (self.params.units,)

    def metric_functions(self) -> dict[str, Any]:
        return {"mae": metrics.mae, "mse": metrics.mse, "rmse": metrics.rmse, "r2": metrics.r2}

    def decode_spec(self) -> dict[str, Any]:
        return {**super().decode_spec(), "units": self.params.units}


@hookimpl
def register_heads(register):
    register(RegressionHead)
