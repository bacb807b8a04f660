"""Built-in weighting: FAMO, fast adaptive multitask optimisation.

Liu et al., "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023 (arXiv:2306.03792),
Algorithm 1; reference: the authors' Cranial-XIX/FAMO, as in LibMTL
(``LibMTL/weighting/FAMO.py``). FAMO decreases all task losses at an (approximately)
equal *rate* at O(1) cost per step: the objective is ``sum_t z_t log L_t / c`` with
``z = softmax(xi)`` and ``c = sum_t z_t / L_t`` (a constant), whose gradient is
``sum_t (z_t / (c L_t)) g_t``. The logits ``xi`` are learned from how much each log loss
actually fell: ``delta_t = log L_t(before) - log L_t(after)``; ``xi`` takes an Adam step
(learning rate ``w_lr``, L2 decay ``w_gamma``) along ``J_softmax(xi)^T delta``.

One deliberate difference: the reference evaluates the "after" losses with an extra
forward pass on the *same* batch after the optimiser step; mtkit uses the *next* step's
losses (another batch), so FAMO costs no extra pass and needs no change to the training
step. The golden test feeds the reference exactly those losses. The logits, Adam's
moments and the previous losses are checkpointed. A task without labels in the batch is
left out of the objective and of the logit update.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting

_EPS = 1e-8
_BETA1, _BETA2, _ADAM_EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam defaults, as the reference


class FAMOParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    w_lr: float = Field(0.025, gt=0.0, description="Adam learning rate of the logits "
                        "(reference 0.025).")
    w_gamma: float = Field(1e-3, ge=0.0, description="L2 decay of the logits (reference 1e-3).")


class FAMO(Weighting):
    """Equal-rate loss decrease with learned logits, one backward pass (Liu et al. 2023)."""

    name = "famo"
    Params = FAMOParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        t = len(tasks)
        first = tf.VariableAggregation.ONLY_FIRST_REPLICA

        def var(name, value, dtype=tf.float64):
            return tf.Variable(value, dtype=dtype, trainable=False, name=f"famo_{name}",
                               aggregation=first)

        self.state = {
            "logits": var("logits", tf.zeros([t], tf.float64)),
            "adam_m": var("adam_m", tf.zeros([t], tf.float64)),
            "adam_v": var("adam_v", tf.zeros([t], tf.float64)),
            "adam_step": var("adam_step", 0.0),
            "previous": var("previous", tf.zeros([t], tf.float64)),
            "had": var("had", tf.zeros([t], tf.float64)),
        }

    def variables(self) -> dict[str, Any]:
        return {f"famo_{k}": v for k, v in self.state.items()}

    def _update_logits(self, value: Any, mask: Any) -> None:
        """One Adam step on the logits from the previous and the current losses."""
        import tensorflow as tf

        s = self.state
        p = self.params
        both = mask & (s["had"].read_value() > 0)
        delta = tf.where(both, tf.math.log(s["previous"].read_value() + _EPS)
                         - tf.math.log(value + _EPS), 0.0)
        xi = s["logits"].read_value()
        z = tf.nn.softmax(xi)
        grad = z * (delta - tf.reduce_sum(z * delta)) + p.w_gamma * xi  # J^T delta + decay
        step = s["adam_step"].read_value() + 1.0
        m = _BETA1 * s["adam_m"].read_value() + (1 - _BETA1) * grad
        v = _BETA2 * s["adam_v"].read_value() + (1 - _BETA2) * grad**2
        m_hat = m / (1 - _BETA1**step)
        v_hat = v / (1 - _BETA2**step)
        moved = tf.reduce_any(both)
        s["logits"].assign(tf.where(moved, xi - p.w_lr * m_hat / (tf.sqrt(v_hat) + _ADAM_EPS), xi))
        s["adam_m"].assign(tf.where(moved, m, s["adam_m"].read_value()))
        s["adam_v"].assign(tf.where(moved, v, s["adam_v"].read_value()))
        s["adam_step"].assign(tf.where(moved, step, step - 1.0))

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        import tensorflow as tf

        mask = tf.stack([present[n] for n in self.names])
        vec = tf.stack([losses[n] for n in self.names])
        value = tf.cast(tf.stop_gradient(vec), tf.float64)
        self._update_logits(value, mask)
        s = self.state
        s["previous"].assign(tf.where(mask, value, s["previous"].read_value()))
        s["had"].assign(tf.where(mask, tf.ones_like(value), s["had"].read_value()))
        logits = tf.where(mask, s["logits"].read_value(), tf.constant(-1e300, tf.float64))
        z = tf.cast(tf.nn.softmax(logits), vec.dtype)
        d = vec + _EPS
        c = tf.stop_gradient(tf.reduce_sum(tf.where(mask, z / d, 0.0)))
        return tf.reduce_sum(tf.where(mask, tf.math.log(tf.where(mask, d, 1.0)) * z, 0.0)) / c


@hookimpl
def register_weightings(register):
    register(FAMO)
