"""Training batches of a task mixture, with the interface of ``EpochData``.

The numpy schedule (``mtkit.mixtures.sampling``) fixes, per epoch, which row of which
source fills every slot of every batch; tf.data then slices ready-made global batches
from the joined train arrays, as ``EpochData`` does. A source whose dataset augments has
its own ``augment`` applied to its rows only (every batch is run through it and the
source's rows are kept), so sources with and without augmentation mix freely.
A streaming source (``mtkit.streaming``) can plug in behind the same schedule later: the
schedule only needs each source's size and a way to fetch rows by index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.config import SamplingConfig
from mtkit.dataprep import has_augment
from mtkit.mixtures import sampling
from mtkit.mixtures.sources import source_plan
from mtkit.planning import Plan


class MixtureEpochData:
    def __init__(self, plan: Plan, splits: Any) -> None:
        self.plan, self.splits = plan, splits
        self.arrays = splits.train
        self.sizes = splits.train_sizes()
        self.sampling = plan.config.data.sampling or SamplingConfig()
        self.probs = sampling.probabilities(self.sizes, self.sampling)

    def steps_per_epoch(self) -> int:
        cfg = self.plan.config.train
        return sampling.steps_per_epoch(self.sizes, self.sampling, cfg.batch_size,
                                        cfg.steps_per_epoch)

    def schedule(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(source index, joined-train row) of every slot, each (steps, batch_size)."""
        cfg = self.plan.config.train
        choice = sampling.source_choice(self.probs, self.steps_per_epoch(), cfg.batch_size,
                                        self.sampling.per, cfg.seed, epoch)
        return choice, sampling.row_schedule(self.sizes, choice, cfg.seed, epoch)

    def dataset(self, epoch: int) -> Any:
        import tensorflow as tf

        cfg = self.plan.config.train
        choice, rows = self.schedule(epoch)
        data = (self.arrays.inputs, self.arrays.labels)
        batches = tf.nest.map_structure(lambda a: a[rows], data)
        augmenters = [(i, source_plan(self.plan, s).dataset.augment)
                      for i, s in enumerate(self.plan.sources.values())
                      if has_augment(source_plan(self.plan, s))]
        if not augmenters:
            return tf.data.Dataset.from_tensor_slices(batches).prefetch(tf.data.AUTOTUNE)
        ds = tf.data.Dataset.from_tensor_slices((batches, choice.astype(np.int32))).enumerate()

        def aug(step, element):
            (inputs, labels), src = element
            seed = tf.stack([tf.cast(cfg.seed * 7919 + epoch, tf.int64), step])
            for i, fn in augmenters:
                out = fn(inputs, seed)
                keep = tf.equal(src, i)
                inputs = {k: tf.where(tf.reshape(keep, [-1] + [1] * (len(v.shape) - 1)),
                                      tf.cast(out[k], v.dtype), v) for k, v in inputs.items()}
            return inputs, labels

        ds = ds.map(aug, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE)


def make_epoch_data(plan: Plan, splits: Any) -> Any:
    """``MixtureEpochData`` for a mixture, ``StreamEpochData`` for streamed shards, else
    the plain ``EpochData``."""
    if plan.sources:
        return MixtureEpochData(plan, splits)
    from mtkit.streaming.data import StreamSplits

    if isinstance(splits, StreamSplits):
        from mtkit.streaming.pipeline import StreamEpochData

        return StreamEpochData(plan, splits)
    from mtkit.training.epoch_data import EpochData

    return EpochData(plan, splits.train)
