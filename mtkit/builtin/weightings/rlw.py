"""Built-in weighting: RLW, random loss weighting.

Lin et al., "Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task
Learning", TMLR 2022 (arXiv:2111.10603). Every step draws ``eps ~ N(0, I)`` and weighs the
losses by ``softmax(eps)`` (the paper's default normal sampling): in expectation all tasks
count equally, and the noise helps escape poor balance points. The draw is stateless,
keyed by ``seed`` and a checkpointed step counter, so replicas agree and runs repeat.
Tasks without labels in the batch are left out of the softmax.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings._draws import next_seed, step_counter
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting


class RLWParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int = Field(0, description="Seed of the random weights.")


def rlw_weights(eps: Any, mask: Any) -> Any:
    """``softmax(eps)`` over the present tasks (0 for the others), LibMTL's ``RLW.backward``."""
    import tensorflow as tf

    return tf.nn.softmax(tf.where(mask, eps, -1e9))


class RLW(Weighting):
    """Random loss weights, softmax of a standard normal draw per step (Lin et al. 2021)."""

    name = "rlw"
    Params = RLWParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        super().setup(tasks)
        self.names = [t.name for t in tasks]
        self.step = step_counter("rlw_step")

    def variables(self) -> dict[str, Any]:
        return {"rlw_step": self.step}

    def draw(self, present: dict[str, Any]) -> Any:
        """This step's ``(T,)`` weights: softmax of N(0, 1) draws over the present tasks."""
        import tensorflow as tf

        eps = tf.random.stateless_normal([len(self.names)],
                                         seed=next_seed(self.params.seed, self.step))
        return rlw_weights(eps, tf.stack([present[n] for n in self.names]))

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        w = tf.stop_gradient(self.draw(present))
        return tf.add_n([tf.where(present[n], w[i] * losses[n], 0.0)
                         for i, n in enumerate(self.names)])


@hookimpl
def register_weightings(register):
    register(RLW)
