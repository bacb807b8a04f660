"""One dynamic loss scale for mixed precision, shared by every parameter group.

One scaled loss gives one set of scaled gradients, so there is one scale to unscale them
by and one decision per step: Keras' ``LossScaleOptimizer`` wrapped around each group's
optimizer would keep a scale per group and let a group whose gradients stayed finite step
while another skipped. ``SharedLossScale`` sits in front of the whole optimizer (a plain
Keras optimizer or a ``GroupedOptimizer``) and follows Keras' rule exactly
(keras/src/optimizers/loss_scale_optimizer.py): a step with any non-finite gradient is
skipped for every group and halves the scale; after ``growth_steps`` finite steps in a row
the scale doubles.

Under a distribution strategy the finite check covers every replica: each replica's
non-finite count is all-reduced before the decision (Keras checks the first replica's
local gradients only, before its optimizer sums them). The skip is a ``tf.cond`` in
cross-replica context (``merge_call``), as in Keras, because the optimizers' updates call
``merge_call`` themselves; the scale's own update is branch-free arithmetic on
replica-identical values, so it needs no cond.
"""

from __future__ import annotations

from typing import Any

INITIAL_SCALE = 2.0**15  # Keras' defaults
GROWTH_STEPS = 2000


class SharedLossScale:
    """Dynamic loss scaling in front of ``optimizer``; create it in the strategy's scope."""

    def __init__(self, optimizer: Any, initial_scale: float = INITIAL_SCALE,
                 growth_steps: int = GROWTH_STEPS) -> None:
        import tensorflow as tf

        self.inner, self.growth_steps = optimizer, int(growth_steps)
        self.state = tf.Module(name="loss_scale")
        # aggregation NONE: every replica updates its own copy with the same value
        self.state.scale = tf.Variable(float(initial_scale), dtype=tf.float32, trainable=False,
                                       aggregation=tf.VariableAggregation.NONE, name="scale")
        self.state.good_steps = tf.Variable(0, dtype=tf.int64, trainable=False,
                                            aggregation=tf.VariableAggregation.NONE,
                                            name="good_steps")

    # -- what the trainer, the callbacks and the checkpoints see of an optimizer -------------
    @property
    def main(self) -> Any:
        return getattr(self.inner, "main", self.inner)

    @property
    def groups(self) -> list[Any]:
        return getattr(self.inner, "groups", [])

    @property
    def learning_rate(self) -> Any:
        return self.inner.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.inner.learning_rate = value

    def reset_learning_rates(self, default: float) -> None:
        if hasattr(self.inner, "reset_learning_rates"):
            self.inner.reset_learning_rates(default)
        else:
            self.inner.learning_rate = default

    def build(self, variables: list[Any]) -> None:
        self.inner.build(variables)

    def trackables(self) -> dict[str, Any]:
        inner = self.inner.trackables() if hasattr(self.inner, "trackables") else {}
        return {**inner, "loss_scale": self.state}

    @property
    def scale(self) -> Any:
        return self.state.scale

    # -- scaling and the shared step ------------------------------------------------------
    def scale_loss(self, loss: Any) -> Any:
        import tensorflow as tf

        return loss * tf.cast(self.state.scale, loss.dtype)

    def apply_gradients(self, pairs: list[tuple[Any, Any]]) -> None:
        """Unscale and apply every group's gradients, or skip the step for all of them."""
        import tensorflow as tf

        pairs = [(g, v) for g, v in pairs if g is not None]
        ctx = tf.distribute.get_replica_context()
        local_bad = tf.add_n([tf.reduce_sum(tf.cast(~tf.math.is_finite(g), tf.float32))
                              for g, _ in pairs]) if pairs else tf.constant(0.0)
        finite = tf.equal(ctx.all_reduce(tf.distribute.ReduceOp.SUM, local_bad), 0.0)
        scale = tf.identity(self.state.scale)
        unscaled = [(g / tf.cast(scale, g.dtype), v) for g, v in pairs]

        if tf.__internal__.distribute.strategy_supports_no_merge_call():
            tf.cond(finite, lambda: self._apply(unscaled), lambda: None)
        else:
            def cross_replica(distribution: Any, finite: Any, unscaled: Any) -> None:
                # replica-identical (all-reduced): the first replica's value is every one's
                decided = distribution.experimental_local_results(finite)[0]
                tf.cond(decided, lambda: distribution.extended.call_for_each_replica(
                    self._apply, args=(unscaled,)), lambda: None)

            ctx.merge_call(cross_replica, args=(finite, unscaled))
        self._update_scale(finite, scale)

    def _apply(self, pairs: list[tuple[Any, Any]]) -> None:
        self.inner.apply_gradients(pairs)  # returns nothing: both cond branches are None

    def _update_scale(self, finite: Any, scale: Any) -> None:
        """Keras' rule: finite → count the step, doubling the scale (and restarting the
        count) on the ``growth_steps``-th; non-finite → halve the scale, restart the count."""
        import tensorflow as tf

        steps = self.state.good_steps
        grow = tf.logical_and(finite, tf.equal(steps, self.growth_steps - 1))
        factor = tf.where(grow, 2.0, tf.where(finite, 1.0, 0.5))
        counted = tf.logical_and(finite, tf.logical_not(grow))
        self.state.good_steps.assign(tf.where(counted, steps + 1, tf.zeros_like(steps)))
        self.state.scale.assign(scale * factor)
