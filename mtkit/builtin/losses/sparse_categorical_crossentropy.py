"""Built-in loss: sparse categorical cross-entropy on softmax probabilities."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class SparseCategoricalCrossentropyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label_smoothing: float = Field(
        0.0, ge=0.0, lt=1.0, description="Mix the one-hot target with the uniform "
        "distribution: (1 - s)·onehot + s/classes (Szegedy et al. 2016).")


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of a class index against softmax probabilities."""

    name = "sparse_categorical_crossentropy"
    Params = SparseCategoricalCrossentropyParams
    accepts = frozenset({"categorical"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras

        s = self.params.label_smoothing
        if not s:
            return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        classes = y_pred.shape[-1]
        onehot = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"),
                                   classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(onehot, y_pred, label_smoothing=s)


@hookimpl
def register_losses(register):
    register(SparseCategoricalCrossentropy)
