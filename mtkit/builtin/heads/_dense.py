"""Optional hidden layers shared by the built-in heads (task-specific, not shared)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class DenseStack(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: list[PositiveInt] = Field(default_factory=list, description="Task-specific hidden units.")
    activation: str = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


def dense_stack(features: Any, params: DenseStack, task_name: str) -> Any:
    """Flatten the features, then the head's own hidden layers."""
    import keras

    x = features
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name=f"{task_name}_flatten")(x)
    for i, units in enumerate(params.hidden):
        x = keras.layers.Dense(units, activation=params.activation, name=f"{task_name}_dense{i}")(x)
        if params.dropout:
            x = keras.layers.Dropout(params.dropout, name=f"{task_name}_dropout{i}")(x)
    return x
