"""Built-in weighting: GradNorm, balancing the tasks' gradient norms.

Chen et al., "GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep
Multitask Networks", ICML 2018 (arXiv:1711.02257). Loss weights ``w_t`` are learned so
that the weighted gradient norms ``G_t = w_t |g_t|`` approach ``mean(G) * r_t^alpha``,
where ``r_t`` is task t's relative inverse training rate (``L_t / L_t(0)`` over its mean):
a task that trains slowly gets a larger gradient. Each step takes one gradient step on
``sum_t |G_t - target_t|`` (target held constant) and renormalises ``sum_t w_t = T``.

With ``gradients: features`` (the default) ``g_t`` is the gradient w.r.t. the shared
representation and the weights scale the task losses (whole model); with
``gradients: parameters`` it is the trunk's parameters' gradient (the paper uses the last
shared layer) and the trunk receives ``sum_t w_t g_t``. The weights, the initial losses
and which tasks have been seen are ``tf.Variable`` state, checkpointed with the run.

Deliberately as the paper (Algorithm 1), not as LibMTL: ``L_t(0)`` is the loss of the first
step in which the task has labels (LibMTL: the mean loss of epoch 0, so its GradNorm is
a plain sum for a whole epoch), and the weights themselves take the gradient step and are
renormalised to sum to T (LibMTL: ``w = T softmax(p)`` with ``p`` stepped by Adam). The
first update is the same (golden-tested, tests/weighting/test_weighting_golden.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mtkit.builtin.weightings._gram import GRADIENTS_DESCRIPTION, GradientParams, GramWeighting
from mtkit.builtin.weightings.sum import fixed_weights
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class GradNormParams(GradientParams):
    gradients: Literal["parameters", "features"] = Field("features", description=GRADIENTS_DESCRIPTION)
    alpha: float = Field(1.5, ge=0.0, description="Asymmetry: how strongly slow tasks are favoured.")
    weight_lr: float = Field(0.025, gt=0.0, description="Step size of the weight updates.")
    min_weight: float = Field(1e-3, gt=0.0, description="Weights are kept at least this large.")
    weights: dict[str, float] | None = Field(
        None, description="Initial weights, rescaled to sum to the number of tasks; "
        "overrides each task's `weight` (default 1.0).")


class GradNorm(GramWeighting):
    """Learn loss weights that equalise the tasks' training rates (Chen et al. 2018)."""

    name = "gradnorm"
    Params = GradNormParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        fixed_weights(tasks, self.params.weights)

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        t = len(tasks)
        first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        start = fixed_weights(tasks, self.params.weights)
        start = [start[n] * t / sum(start.values()) for n in self.names]
        self.weights = tf.Variable(tf.constant(start, tf.float64), trainable=False,
                                   name="gradnorm_weights", aggregation=first)
        self.initial_losses = tf.Variable(tf.ones([t], tf.float64), trainable=False,
                                          name="gradnorm_initial_losses", aggregation=first)
        self.seen = tf.Variable(tf.zeros([t], tf.float64), trainable=False,
                                name="gradnorm_seen", aggregation=first)

    def variables(self) -> dict[str, Any]:
        return {**super().variables(), "gradnorm_weights": self.weights,
                "gradnorm_initial_losses": self.initial_losses, "gradnorm_seen": self.seen}

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        import tensorflow as tf

        p = self.params
        act = tf.cast(active, tf.float64)
        n_act = tf.maximum(tf.reduce_sum(act), 1.0)
        first_time = active & (self.seen.read_value() <= 0) & (losses > 0)
        initial = tf.where(first_time, losses, self.initial_losses.read_value())
        self.initial_losses.assign(initial)
        self.seen.assign(tf.maximum(self.seen.read_value(), tf.cast(first_time, tf.float64)))

        w = self.weights.read_value()
        norms = tf.sqrt(tf.linalg.diag_part(gram))
        ratio = tf.math.divide_no_nan(losses, initial) * act
        rel = tf.math.divide_no_nan(ratio, tf.reduce_sum(ratio) / n_act)
        g = w * norms
        target = tf.reduce_sum(g * act) / n_act * rel**p.alpha
        grad = tf.sign(g - target) * norms * act
        new = tf.maximum(w - p.weight_lr * grad, p.min_weight)
        self.weights.assign(new * len(self.names) / tf.reduce_sum(new))
        return w


@hookimpl
def register_weightings(register):
    register(GradNorm)
