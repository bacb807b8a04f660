"""Built-in weighting: DWA, dynamic weight average.

Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019
(arXiv:1803.10704), eq. 7. Each epoch's weights follow the tasks' recent rate of change:
``w_k(t) = K exp(r_k(t-1) / T) / sum_i exp(r_i(t-1) / T)`` with
``r_k(t-1) = L_k(t-1) / L_k(t-2)`` (mean training loss of an epoch), ``K`` the number of
tasks and ``T`` a temperature; the first two epochs use ``w_k = 1``. The last two epochs'
losses live in a ``tf.Variable``, so a resumed run continues with the right weights.
A task without labels in an epoch keeps its previous loss (ratio 1).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings.sum import fixed_weights
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting


class DWAParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(2.0, gt=0.0, description="Softness of the weights (paper: 2).")
    weights: dict[str, float] | None = Field(
        None, description="Fixed task priorities multiplying the DWA weights; "
        "overrides each task's `weight` (default 1.0).")


class DWA(Weighting):
    """Weights from each task's loss ratio over the last two epochs (Liu et al. 2019)."""

    name = "dwa"
    Params = DWAParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        fixed_weights(tasks, self.params.weights)

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        self.fixed = fixed_weights(tasks, self.params.weights)
        # Row 0: the last epoch's mean losses, row 1: the epoch before.
        self.history = tf.Variable(tf.ones([2, len(tasks)]), trainable=False, name="dwa_history")
        self.epochs_seen = tf.Variable(0, dtype=tf.int64, trainable=False, name="dwa_epochs")

    def variables(self) -> dict[str, Any]:
        return {"dwa_history": self.history, "dwa_epochs": self.epochs_seen}

    def current_weights(self) -> Any:
        """``(K,)`` weights for this epoch (a tensor; ones during the first two epochs)."""
        import tensorflow as tf

        hist = self.history.read_value()
        ratio = tf.math.divide_no_nan(hist[0], hist[1])
        k = float(len(self.names))
        w = k * tf.nn.softmax(ratio / self.params.temperature)
        return tf.where(self.epochs_seen.read_value() >= 2, w, tf.ones_like(w))

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        w = self.current_weights()
        terms = [tf.where(present[n], self.fixed[n] * w[i] * losses[n], 0.0)
                 for i, n in enumerate(self.names)]
        return tf.add_n(terms)

    def end_epoch(self, epoch: int, train_losses: dict[str, float]) -> None:
        last = self.history.numpy()[0]
        new = [float(train_losses[n]) if math.isfinite(train_losses.get(n, math.nan))
               and train_losses[n] > 0 else float(last[i]) for i, n in enumerate(self.names)]
        self.history.assign([new, list(last)])
        self.epochs_seen.assign_add(1)


@hookimpl
def register_weightings(register):
    register(DWA)
