"""Built-in trunk: a multilayer perceptron over all inputs (flattened and concatenated)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from mtkit.builtin.trunks._activations import Activation
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Trunk


class MLPParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: list[PositiveInt] = Field(default_factory=lambda: [64, 64], min_length=1)
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm: bool = False


class MLP(Trunk):
    """Dense layers shared by all tasks; every input is flattened and concatenated."""

    name = "mlp"
    Params = MLPParams
    example: ClassVar[dict[str, Any]] = {"units": [16, 8], "batch_norm": True}

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> Any:
        import keras

        flat = [
            keras.layers.Flatten(name=f"flatten_{k}")(v) if len(v.shape) > 2 else v
            for k, v in inputs.items()
        ]
        flat = [keras.ops.cast(f, "float32") if "int" in str(f.dtype) else f for f in flat]
        x = flat[0] if len(flat) == 1 else keras.layers.Concatenate(name="concat_inputs")(flat)
        for i, units in enumerate(self.params.units):
            x = keras.layers.Dense(units, name=f"mlp_dense{i}")(x)
            if self.params.batch_norm:
                x = keras.layers.BatchNormalization(synchronized=True, name=f"mlp_bn{i}")(x)
            x = keras.layers.Activation(self.params.activation, name=f"mlp_act{i}")(x)
            if self.params.dropout:
                x = keras.layers.Dropout(self.params.dropout, name=f"mlp_dropout{i}")(x)
        return x


@hookimpl
def register_trunks(register):
    register(MLP)
