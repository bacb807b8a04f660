"""Built-in weighting: STCH, smooth Tchebycheff scalarisation.

Lin et al., "Smooth Tchebycheff Scalarization for Multi-Objective Optimization", ICML 2024
(arXiv:2402.19078), eq. 9; reference: the authors' Xi-L/STCH (``STCH_MTL``), as in LibMTL
(``LibMTL/weighting/STCH.py``). The Tchebycheff scalarisation minimises the worst task's
(normalised) loss; its smooth version is the log-sum-exp
``mu log sum_t exp(log(L_t / z_t) / mu)`` (times the number of tasks, as in the
reference), with ``mu`` the smoothing (``mu -> 0``: the max) and ``z`` a nadir point, the
mean loss of each task over the warm-up epoch. Before and during the warm-up the
objective is the log-sum ``sum_t log L_t``. LibMTL counts epochs from 0, so
``warmup_epochs: 4`` (its default) means epochs 1-4 use the log-sum, epoch 5 (LibMTL's
epoch 4) averages the losses for ``z`` while still using the log-sum, and epoch 6 on use
STCH. The epoch count, the loss sums and counts are checkpointed. Tasks without labels in
the batch are left out of the sum and of the average.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting


class STCHParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mu: float = Field(1.0, gt=0.0, description="Smoothing of the max (reference default 1).")
    warmup_epochs: int = Field(4, ge=0, description="Log-sum epochs before the nadir point is "
                               "averaged (LibMTL's STCH_warmup_epoch, default 4).")


class STCH(Weighting):
    """Smooth Tchebycheff: log-sum-exp of the log loss ratios to a nadir point (Lin et al. 2024)."""

    name = "stch"
    Params = STCHParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        t = len(tasks)
        first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.epochs_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="stch_epochs")
        self.loss_sums = tf.Variable(tf.zeros([t], tf.float64), trainable=False,
                                     name="stch_loss_sums", aggregation=first)
        self.counts = tf.Variable(tf.zeros([t], tf.float64), trainable=False,
                                  name="stch_counts", aggregation=first)

    def variables(self) -> dict[str, Any]:
        return {"stch_epochs": self.epochs_done, "stch_loss_sums": self.loss_sums,
                "stch_counts": self.counts}

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        mask = tf.stack([present[n] for n in self.names])
        vec = tf.stack([losses[n] for n in self.names])  # differentiable
        value = tf.cast(tf.stop_gradient(vec), tf.float64)
        epoch = self.epochs_done.read_value()
        warm = self.params.warmup_epochs
        averaging = mask & (epoch == warm)
        self.loss_sums.assign_add(tf.where(averaging, value, 0.0))
        self.counts.assign_add(tf.cast(averaging, tf.float64))
        log_sum = tf.reduce_sum(tf.where(mask, tf.math.log(vec + 1e-20), 0.0))
        nadir = tf.cast(tf.math.divide_no_nan(self.loss_sums.read_value(), self.counts.read_value()),
                        vec.dtype)
        ratio = tf.math.log(tf.math.divide_no_nan(vec, nadir) + 1e-20)
        ratio = tf.where(mask & (nadir > 0), ratio, -1e30)
        top = tf.stop_gradient(tf.reduce_max(ratio))
        mu = self.params.mu
        stch = mu * tf.math.log(tf.reduce_sum(tf.exp((ratio - top) / mu))) * len(self.names)
        use_stch = (epoch > warm) & tf.reduce_any(mask & (nadir > 0))
        return tf.where(use_stch, stch, log_sum)

    def end_epoch(self, epoch: int, train_losses: dict[str, float]) -> None:
        self.epochs_done.assign(epoch)


@hookimpl
def register_weightings(register):
    register(STCH)
