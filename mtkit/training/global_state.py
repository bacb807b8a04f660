"""Process-wide TensorFlow/Keras settings a run needs, set for the run and restored after.

Keras's dtype policy is global: a run that left ``mixed_float16`` set would change every
model built later in the same process (a notebook, a test worker), so it is restored.
TensorFlow's op determinism has no public switch-off; it stays on once a run asked for it
(it only makes later ops reproducible, never wrong).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from mtkit.config import TrainConfig
from mtkit.errors import TrainingError


@contextmanager
def run_settings(cfg: TrainConfig, source: str) -> Iterator[None]:
    """Seed everything, set op determinism and the dtype policy (restored on exit)."""
    import keras
    import tensorflow as tf

    if cfg.mixed_precision and not tf.config.list_physical_devices("GPU") and not os.environ.get(
            "MTKIT_ALLOW_CPU_MIXED_PRECISION"):
        raise TrainingError(
            f"{source}: field 'train.mixed_precision': this machine has no GPU, and float16 "
            "compute is slower than float32 on CPUs (no float16 units to use); remove "
            "train.mixed_precision or train on a GPU with tensor cores (compute capability 7.0+)."
        )
    policy = keras.mixed_precision.global_policy()
    keras.utils.set_random_seed(cfg.seed)
    if cfg.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if cfg.mixed_precision else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(policy)
