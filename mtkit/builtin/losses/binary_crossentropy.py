"""Built-in loss: binary cross-entropy, averaged over a multilabel row."""

from __future__ import annotations

from typing import Any

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Loss


class BinaryCrossentropy(Loss):
    """Binary cross-entropy on sigmoid probabilities (mean over the labels of a row)."""

    name = "binary_crossentropy"
    accepts = frozenset({"binary", "multilabel"})

    def per_example(self, y_true: Any, y_pred: Any) -> Any:
        import keras

        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        return keras.losses.binary_crossentropy(y_true, y_pred)

    def per_element(self, y_true: Any, y_pred: Any) -> Any:
        """Each label's cross-entropy (``per_example`` is their mean), for multilabel
        class weights."""
        import keras

        y_true = keras.ops.reshape(keras.ops.cast(y_true, y_pred.dtype), keras.ops.shape(y_pred))
        return keras.ops.binary_crossentropy(y_true, y_pred)


@hookimpl
def register_losses(register):
    register(BinaryCrossentropy)
