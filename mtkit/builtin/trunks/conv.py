"""Built-in trunk: a stack of 2-D convolution blocks over one image input."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from mtkit.builtin.trunks._activations import Activation
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Trunk


class ConvParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: list[PositiveInt] = Field(default_factory=lambda: [32, 64], min_length=1,
                               description="Filters per conv block.")
    convs_per_block: int = Field(1, ge=1)
    kernel_size: int = Field(3, ge=1)
    pooling: Literal["max", "avg", "none"] = "max"
    pool_size: int = Field(2, ge=1)
    batch_norm: bool = True
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = "relu"
    dense: list[PositiveInt] = Field(default_factory=list, description="Shared dense layers after.")
    dense_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    global_pool: bool = Field(False, description="Global average pooling instead of flatten.")


class Conv(Trunk):
    """Conv blocks (conv → batch norm → activation → pooling → dropout), then flatten/dense."""

    name = "conv"
    Params = ConvParams
    example: ClassVar[dict[str, Any]] = {"filters": [4, 8], "dense": [8]}

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> Any:
        import keras

        if len(inputs) != 1:
            raise ConfigError(
                f"trunk 'conv' takes exactly one image input; the model has {len(inputs)} "
                f"({', '.join(inputs)}). Use the 'mlp' trunk or a custom trunk for several."
            )
        (name, x), = inputs.items()
        if len(x.shape) == 3:  # (batch, H, W) → add a channel axis
            x = keras.layers.Reshape((*x.shape[1:], 1), name="add_channel")(x)
        if len(x.shape) != 4:
            raise ConfigError(
                f"trunk 'conv' needs an image input of shape (height, width[, channels]); "
                f"input '{name}' has per-example shape {tuple(x.shape[1:])}."
            )
        p = self.params
        for b, filters in enumerate(p.filters):
            for c in range(p.convs_per_block):
                x = keras.layers.Conv2D(filters, p.kernel_size, padding="same",
                                        use_bias=not p.batch_norm, name=f"conv{b}_{c}")(x)
                if p.batch_norm:
                    x = keras.layers.BatchNormalization(synchronized=True, name=f"conv{b}_{c}_bn")(x)
                x = keras.layers.Activation(p.activation, name=f"conv{b}_{c}_act")(x)
            if p.pooling != "none" and min(x.shape[1:3]) >= p.pool_size:
                pool = keras.layers.MaxPooling2D if p.pooling == "max" else keras.layers.AveragePooling2D
                x = pool(p.pool_size, name=f"pool{b}")(x)
            if p.dropout:
                x = keras.layers.Dropout(p.dropout, name=f"conv{b}_dropout")(x)
        if p.global_pool:
            x = keras.layers.GlobalAveragePooling2D(name="global_pool")(x)
        else:
            x = keras.layers.Flatten(name="flatten")(x)
        for i, units in enumerate(p.dense):
            x = keras.layers.Dense(units, activation=p.activation, name=f"shared_dense{i}")(x)
            if p.dense_dropout:
                x = keras.layers.Dropout(p.dense_dropout, name=f"shared_dense{i}_dropout")(x)
        return x


@hookimpl
def register_trunks(register):
    register(Conv)
