"""``CategoryOneHot``: category ids (N, 1) → one-hot (N, depth), in-graph.

Keras' ``CategoryEncoding`` has no tf2onnx converter; ``one_hot`` lowers to ONNX
``OneHot``, which it does.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="mtkit")
class CategoryOneHot(keras.layers.Layer):
    """int ids (N, 1), 0 = unseen, 1 = missing, 2.. = vocabulary → float32 (N, depth)."""

    def __init__(self, depth: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.depth = int(depth)

    def call(self, ids: Any) -> Any:
        flat = keras.ops.reshape(keras.ops.cast(ids, "int32"), (-1,))
        return keras.ops.one_hot(flat, self.depth, dtype="float32")

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.depth)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "depth": self.depth}
