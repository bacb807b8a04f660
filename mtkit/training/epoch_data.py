"""Training batches per epoch, and train rows as the model sees them (for train metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.dataprep import InputSpecs, has_augment
from mtkit.planning import Plan


class EpochData:
    """Training batches, one tf.data pipeline per epoch, deterministic by (seed, epoch).

    Each epoch permutes the rows once (numpy, seeded) and hands tf.data ready-made batches
    (slices of a [steps, batch, ...] array), so a step costs the pipeline one slice instead
    of per-element shuffling, batching or gathering. Augmentation, if the dataset has any,
    runs in parallel map calls; prefetching keeps the next batches ready while the device
    runs the step.
    """

    def __init__(self, plan: Plan, arrays: Arrays) -> None:
        self.plan, self.arrays, self.n = plan, arrays, len(arrays)

    def steps_per_epoch(self) -> int:
        cfg = self.plan.config.train
        steps = -(-self.n // cfg.batch_size)
        return min(steps, cfg.steps_per_epoch) if cfg.steps_per_epoch else steps

    def dataset(self, epoch: int) -> Any:
        import tensorflow as tf

        cfg = self.plan.config.train
        bs = cfg.batch_size
        order = np.random.default_rng([cfg.seed, epoch]).permutation(self.n)
        if cfg.steps_per_epoch:
            order = order[: cfg.steps_per_epoch * bs]
        drop = cfg.jit_compile and len(order) >= bs  # XLA: one static batch shape
        full = len(order) // bs * bs
        parts = [order[:full].reshape(-1, bs)] if full else []
        if len(order) > full and not drop:
            parts.append(order[full:][None])
        data = (self.arrays.inputs, self.arrays.labels)
        ds = None
        for idx in parts:  # at most two: the full batches, then the remainder batch
            batches = tf.nest.map_structure(lambda a, i=idx: a[i], data)
            part = tf.data.Dataset.from_tensor_slices(batches)
            ds = part if ds is None else ds.concatenate(part)
        augment = self.plan.dataset.augment if has_augment(self.plan) else None
        if augment is not None:
            def aug(step, batch):
                seed = tf.stack([tf.cast(cfg.seed * 7919 + epoch, tf.int64), step])
                return augment(batch[0], seed), batch[1]

            ds = ds.enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE)


def model_view(plan: Plan, arrays: Arrays, specs: InputSpecs) -> Arrays:
    """Train rows as the model sees them, for train metrics.

    A dataset may store train inputs larger than the model input and crop them in
    ``augment`` (SVHN: 64×64 stored, random 54×54 fed); such rows go through ``augment``
    once, with a fixed seed. Rows already shaped like the model input are returned as is.
    """
    if all(tuple(v.shape[1:]) == specs.shapes.get(k) for k, v in arrays.inputs.items()):
        return arrays
    import tensorflow as tf

    seed = tf.constant([plan.config.train.seed, 0], tf.int64)
    out = plan.dataset.augment({k: tf.constant(v) for k, v in arrays.inputs.items()}, seed)
    return Arrays(inputs={k: np.asarray(v) for k, v in out.items()}, labels=arrays.labels)
