"""The Keras optimizer a config names (the names live once, in ``config.OPTIMIZERS``)."""

from __future__ import annotations

from typing import Any

from mtkit.config import OPTIMIZERS


def make_optimizer(name: str, learning_rate: float, mixed_precision: bool = False) -> Any:
    """The Keras optimizer ``name``; wrapped in a LossScaleOptimizer for mixed precision."""
    import keras

    optimizer = getattr(keras.optimizers, OPTIMIZERS[name])(learning_rate=learning_rate)
    return keras.optimizers.LossScaleOptimizer(optimizer) if mixed_precision else optimizer
