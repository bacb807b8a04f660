"""``every: k`` for the gradient weightings: solve for the task weights on every k-th step,
reuse them in between.

A Gram-based method (MGDA, CAGrad, IMTL, Nash-MTL, Aligned-MTL, ...) updates with
``d = sum_t w_t g_t``. Finding ``w`` needs every task's gradient (``T`` backward passes in
parameter mode); applying a known ``w`` needs only the gradient of ``sum_t w_t L_t``, one
backward pass. So two compiled steps are built once: the method's own step (which also
stores its ``w`` in the weighting's checkpointed variable) and a *reuse* step, and a
Python-side choice picks one per batch from the weighting's step count. Choosing in Python
keeps each graph free of a ``tf.cond`` over both paths (which would trace, and under XLA
compile, the expensive branch into every step).
"""

from __future__ import annotations

from typing import Any

from mtkit.planning import Plan
from mtkit.plugin_types import WeightingMode
from mtkit.training.step import StepParts, _apply_total, _forward, _gradients, _scaler, compile_step


def reuse_step(plan: Plan, parts: StepParts):
    """A replica step with the last solve's weights ``w`` held fixed: the objective
    ``sum_t w_t L_t``. In ``shared_gradients`` mode only the shared variables follow it and
    each task's own variables get their unweighted gradient, as in that mode's solve step;
    in ``feature_gradients`` mode the whole model follows the weighted sum, as there."""
    import tensorflow as tf

    scaled, weighting = _scaler(parts.optimizer), plan.weighting
    shared_ids = {id(v) for v in parts.shared_variables}
    parameter_mode = WeightingMode(weighting.mode) == WeightingMode.SHARED_GRADIENTS

    def replica_step(inputs, labels):
        with tf.GradientTape(persistent=parameter_mode) as tape:
            f = _forward(plan, parts, inputs, labels, with_features=False)
            w = weighting.held_weights()
            weighted = tf.add_n([w[k] * f.losses[k] for k in f.losses])
            total = scaled(weighted + f.reg)
            if parameter_mode:
                unweighted = scaled(tf.add_n(list(f.losses.values())) + f.reg)
        if not parameter_mode:
            _apply_total(parts, plan, tape, total)
            return f.values, f.counts
        model_vars = parts.model.trainable_variables
        shared = [v for v in model_vars if id(v) in shared_ids]
        own = [v for v in model_vars if id(v) not in shared_ids]
        # Each replica's share of the global gradient: the optimizer sums the replicas.
        pairs = list(zip(_gradients(tape, total, shared), shared, strict=True))
        pairs += list(zip(_gradients(tape, unweighted, own), own, strict=True))
        del tape
        parts.optimizer.apply_gradients(pairs)
        return f.values, f.counts

    return replica_step


class PeriodicStep:
    """Calls the solve step when the weighting's step count is a multiple of ``every``,
    the reuse step otherwise. The count is read from its variable at the first call (after
    a resumed run restored it) and then followed on the host, so no step waits for the
    device; both compiled steps advance the variable, which the checkpoint saves."""

    def __init__(self, solve: Any, reuse: Any, every: int, counter: Any) -> None:
        self.solve, self.reuse, self.every, self.counter = solve, reuse, every, counter
        self.position: int | None = None

    def __call__(self, batch: Any, *proposed: Any) -> Any:
        if self.position is None:
            self.position = int(self.counter.numpy())
        step = self.solve if self.position % self.every == 0 else self.reuse
        self.position += 1
        return step(batch, *proposed)  # proposed: the time budget's progress, if any


def make_periodic_step(plan: Plan, parts: StepParts, builder: Any, jit_compile: bool) -> PeriodicStep:
    """The solve step (``builder``, the mode's usual replica step) and the reuse step,
    compiled once each, behind a ``PeriodicStep``."""
    weighting = plan.weighting
    counter = weighting.period_counter()
    advance = lambda: counter.assign_add(1)  # noqa: E731
    solve = compile_step(builder(plan, parts), parts.strategy, jit_compile, after=advance,
                         progress=parts.progress)
    reuse = compile_step(reuse_step(plan, parts), parts.strategy, jit_compile, after=advance,
                         progress=parts.progress)
    return PeriodicStep(solve, reuse, weighting.every, counter)
