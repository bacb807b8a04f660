"""Base class of the gradient weightings: task gradients → Gram matrix → task weights.

PCGrad, MGDA, CAGrad, IMTL, Nash-MTL, Aligned-MTL and GradNorm all end in a linear
combination ``d = sum_t w_t g_t`` of the task gradients, with ``w`` a function of the
gradients' inner products (and sometimes the losses). So a method only implements
``weights_from_gram(gram, losses, active)``, and this base runs it in either mode:

* ``gradients: parameters`` (``shared_gradients`` mode): ``g_t`` are the gradients of
  the trunk variables; the trunk receives ``d``, the heads their own gradients.
* ``gradients: features`` (``feature_gradients`` mode): ``g_t`` are the gradients
  w.r.t. the shared representation, and ``w`` weighs the task losses (one backward
  pass for the model). Sener & Koltun's MGDA-UB bound makes this the cheap variant.

``every: k`` solves for ``w`` on every k-th step only and reuses the last solution in
between: those steps need just the weighted-sum gradient, one backward pass, instead of
one per task (parameter mode) — the cost of ``k - 1`` steps in ``k`` drops to about a
``sum`` step's. ``w`` lives in a checkpointed ``tf.Variable`` (and so does the step
count), so ``--resume`` continues the period where it stopped; the step functions are in
``mtkit.training.periodic_step``. Methods with their own state (GradNorm's weights,
GradVac's targets, PCGrad's draws) advance it on solve steps only.

A task is *active* in a step when it has labels in the batch; inactive tasks get weight 0
and are left out of the solvers. A task with labels whose gradient is exactly zero stays
active (it is a task that is already solved, not an absent one): MGDA then returns the
Pareto-stationary ``d = 0`` and CAGrad averages over all present tasks, as the references
do, so the update is continuous between ``g = 0`` and a tiny ``g``. Methods whose
problem has no solution with a zero gradient (IMTL-G's unit vectors, Nash-MTL's and
FairGrad's ``g_t . d = 1 / a_t``) leave such a task out themselves; its weight cannot
change ``d``, since it multiplies a zero vector.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings import _gradients as grads_lib
from mtkit.plugin_types import TaskInfo, Weighting

GRADIENTS_DESCRIPTION = (
    "'parameters': balance the per-task gradients of the trunk's parameters (one backward "
    "pass per task); 'features': balance the gradients w.r.t. the shared representation "
    "and weigh the losses (about one backward pass in all)."
)


EVERY_DESCRIPTION = (
    "Solve for the task weights every k steps and reuse them in between (those steps take "
    "one backward pass of the weighted sum, about a 'sum' step); 1 = every step, as the "
    "authors do."
)


class GradientParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gradients: Literal["parameters", "features"] = Field("parameters",
                                                         description=GRADIENTS_DESCRIPTION)
    every: int = Field(1, ge=1, description=EVERY_DESCRIPTION)


MODES = {"parameters": "shared_gradients", "features": "feature_gradients"}


class GramWeighting(Weighting):
    """Shared machinery; subclasses implement ``weights_from_gram``."""

    mode = "shared_gradients"
    Params = GradientParams

    def __init__(self, params: BaseModel | None = None) -> None:
        super().__init__(params)
        self.mode = MODES[self.params.gradients]
        self.every = self.params.every

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        self.held, self.steps_taken = None, None
        if self.every > 1:  # only then: an every-step run keeps today's checkpoint layout
            first = tf.VariableAggregation.ONLY_FIRST_REPLICA
            self.held = tf.Variable(tf.zeros([len(tasks)], tf.float32), trainable=False,
                                    name=f"{self.name}_held_weights", aggregation=first)
            self.steps_taken = tf.Variable(0, dtype=tf.int64, trainable=False,
                                           name=f"{self.name}_steps", aggregation=first)

    def variables(self) -> dict[str, Any]:
        if self.held is None:
            return {}
        return {f"{self.name}_held_weights": self.held, f"{self.name}_steps": self.steps_taken}

    def held_weights(self) -> dict[str, Any]:
        w = self.held.read_value()
        return {n: w[i] for i, n in enumerate(self.names)}

    def period_counter(self) -> Any:
        return self.steps_taken

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        """Float64 ``(T,)`` weights from the ``(T, T)`` Gram matrix, the ``(T,)`` loss
        values and the ``(T,)`` boolean active mask; inactive entries are ignored."""
        raise NotImplementedError

    def _weights(self, matrix: Any, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        from mtkit.builtin.weightings._min_norm import sanitize

        gram = sanitize(grads_lib.gram(matrix))
        active = grads_lib.stack_scalars(present, self.names, tf.bool)
        w = self.weights_from_gram(gram, grads_lib.stack_scalars(losses, self.names), active)
        w = tf.cast(tf.where(active & tf.math.is_finite(w), w, tf.zeros_like(w)), tf.float32)
        if self.held is not None:
            self.held.assign(w)
        return w

    def combine_gradients(self, grads: dict[str, list[Any]], losses: dict[str, Any],
                          present: dict[str, Any]) -> list[Any]:
        matrix = grads_lib.task_matrix(grads, self.names)
        w = self._weights(matrix, losses, present)
        return grads_lib.unflatten(grads_lib.combine(w, matrix), grads[self.names[0]])

    def task_weights(self, feature_grads: dict[str, Any], losses: dict[str, Any],
                     present: dict[str, Any]) -> dict[str, Any]:
        matrix = grads_lib.task_matrix(feature_grads, self.names)
        w = self._weights(matrix, losses, present)
        return {n: w[i] for i, n in enumerate(self.names)}
