"""Base of the weightings that keep a running copy of every task's parameter gradient.

MoCo, DB-MTL and ExcessMTL keep ``(tasks, parameters)`` state across steps, so they need
the size of the shared parameters before training starts: ``setup_shared`` (called by the
training loop in ``shared_gradients`` mode) allocates it as checkpointed variables. They
only run on the trunk's parameter gradients (as in their reference code).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from mtkit.builtin.weightings import _gradients as grads_lib
from mtkit.plugin_types import TaskInfo, Weighting


class BufferedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BufferedWeighting(Weighting):
    """``combine_gradients`` on the flattened ``(T, P)`` matrix; subclasses implement ``update``."""

    mode = "shared_gradients"
    Params = BufferedParams
    buffer_name = "buffer"

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        self.first = tf.VariableAggregation.ONLY_FIRST_REPLICA
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False,
                                name=f"{self.name}_step", aggregation=self.first)
        self.buffer = None

    def setup_shared(self, shapes: list[tuple[int, ...]]) -> None:
        import math

        import tensorflow as tf

        size = sum(math.prod(s) for s in shapes)
        self.buffer = tf.Variable(tf.zeros([len(self.names), size], tf.float32), trainable=False,
                                  name=f"{self.name}_{self.buffer_name}", aggregation=self.first)

    def variables(self) -> dict[str, Any]:
        out = {f"{self.name}_step": self.step}
        if self.buffer is not None:
            out[f"{self.name}_{self.buffer_name}"] = self.buffer
        return out

    def update(self, matrix: Any, losses: Any, active: Any, step: Any) -> Any:
        """The 1-D update from the ``(T, P)`` gradients, ``(T,)`` float64 losses and mask."""
        raise NotImplementedError

    def combine_gradients(self, grads: dict[str, list[Any]], losses: dict[str, Any],
                          present: dict[str, Any]) -> list[Any]:
        import tensorflow as tf

        matrix = grads_lib.task_matrix(grads, self.names)
        matrix = tf.where(tf.math.is_finite(matrix), matrix, tf.zeros_like(matrix))
        if self.buffer is None:  # used outside the training loop without setup_shared
            self.setup_shared([tuple(int(d) for d in matrix.shape[1:])])
        self.step.assign_add(1)
        step = tf.cast(self.step.read_value(), tf.float64)
        active = grads_lib.stack_scalars(present, self.names, tf.bool)
        d = self.update(matrix, grads_lib.stack_scalars(losses, self.names), active, step)
        return grads_lib.unflatten(d, grads[self.names[0]])


def masked_rows(active: Any, new: Any, old: Any) -> Any:
    """Rows of ``new`` where the task is active, of ``old`` elsewhere."""
    import tensorflow as tf

    return tf.where(active[:, None], new, old)
