"""``NumericEncode``: impute, standardise and (optionally) flag missing numbers, in-graph.

Plain arithmetic (IsNaN, Where, Sub, Div), so tf2onnx converts it exactly. Unlike Keras'
``Normalization`` it skips missing cells (NaN → the train mean, i.e. 0 after scaling) and
never divides by ~0: the stored std of a constant column is 1.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="mtkit")
class NumericEncode(keras.layers.Layer):
    """(N, 1) raw numbers with NaN → (N, 1) standardised, or (N, 2) with a missing flag."""

    def __init__(self, mean: float = 0.0, std: float = 1.0, missing_indicator: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mean, self.std, self.missing_indicator = float(mean), float(std), missing_indicator

    def call(self, x: Any) -> Any:
        x = keras.ops.cast(x, "float32")
        missing = keras.ops.isnan(x)
        z = keras.ops.where(missing, keras.ops.zeros_like(x), (x - self.mean) / self.std)
        if not self.missing_indicator:
            return z
        return keras.ops.concatenate([z, keras.ops.cast(missing, "float32")], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], 2 if self.missing_indicator else 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "std": self.std,
                "missing_indicator": self.missing_indicator}
