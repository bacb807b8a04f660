"""Built-in loss: sparse categorical cross-entropy on softmax probabilities."""

from __future__ import annotations

from typing import Any

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy of a class index against softmax probabilities."""

    name = "sparse_categorical_crossentropy"
    accepts = frozenset({"categorical"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras

        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)


@hookimpl
def register_losses(register):
    register(SparseCategoricalCrossentropy)
