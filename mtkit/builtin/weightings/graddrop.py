"""Built-in weighting: GradDrop, gradient sign dropout.

Chen et al., "Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign
Dropout", NeurIPS 2020 (arXiv:2010.06808). At the shared representation ``A`` (here: the
trunk's output), with ``∇_t`` task ``t``'s gradient w.r.t. ``A``, the batch-separated
sign-corrected gradients ``S_t = Σ_batch sign(A) · ∇_t`` give each feature a positive
sign purity ``P = ½ (1 + Σ_t S_t / Σ_t |S_t|)`` (equation 1). With ``U`` uniform in
[0, 1] per feature, the mask ``M_t = [P > U]·[S_t > 0] + [P < U]·[S_t < 0]`` keeps, for
each feature, only the tasks whose gradient has the sign drawn with probability ``P``
(equation 2), and the trunk receives ``Σ_t ∇_t · (ℓ + (1 − ℓ) M_t)`` with leak ``ℓ``;
the heads receive their own gradients unchanged. This follows LibMTL's
``LibMTL/weighting/GradDrop.py`` (representation gradients only, its 1e-7 in the
denominator, its leak), checked on identical inputs and draws
(tests/weighting/golden). ``P`` is computed from the sums over the *global* batch (an
all-reduce across replicas) and ``U`` from a stateless generator keyed by ``seed`` and
a checkpointed step counter, so every replica applies the same mask and a resumed run
continues the sequence. A task absent from the batch has ``∇_t = 0`` and so no mask bit.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings._draws import next_seed, step_counter
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting, WeightingMode


class GradDropParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leak: float = Field(0.0, ge=0.0, le=1.0, description="Share of every task's gradient "
                        "that passes whatever its sign (0: pure sign dropout; 1: plain sum).")
    seed: int = Field(0, description="Seed of the random sign draws.")


def graddrop_gradient(grads: Any, features: Any, uniform: Any, leak: float,
                      summed: Any | None = None) -> Any:
    """``Σ_t ∇_t (ℓ + (1 − ℓ) M_t)`` for stacked gradients ``grads`` ``(T, B, ...)``.

    ``summed`` is ``S`` ``(T, ...)``, the batch sums of ``sign(A) ∇_t`` (global under
    several replicas); by default this replica's own.
    """
    import tensorflow as tf

    s = tf.reduce_sum(grads * tf.sign(features)[None], axis=1) if summed is None else summed
    purity = 0.5 * (1.0 + tf.reduce_sum(s, 0) / (tf.reduce_sum(tf.abs(s), 0) + 1e-7))
    keep_pos = tf.cast(purity > uniform, grads.dtype)[None] * tf.cast(s > 0, grads.dtype)
    keep_neg = tf.cast(purity < uniform, grads.dtype)[None] * tf.cast(s < 0, grads.dtype)
    mask = (keep_pos + keep_neg)[:, None]  # the same mask for every row of the batch
    return tf.reduce_sum(grads * (leak + (1.0 - leak) * mask), axis=0)


class GradDrop(Weighting):
    """Keep, per feature, the gradient sign drawn by its sign purity (Chen et al. 2020)."""

    name = "graddrop"
    mode = WeightingMode.FEATURE_SURGERY
    Params = GradDropParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        super().setup(tasks)
        self.step = step_counter("graddrop_step")

    def variables(self) -> dict[str, Any]:
        return {"graddrop_step": self.step}

    def feature_gradient(self, feature_grads: dict[str, Any], features: Any,
                         present: dict[str, Any]) -> Any:
        import tensorflow as tf

        grads = tf.stack([feature_grads[k] for k in feature_grads])  # (T, B, ...)
        local = tf.reduce_sum(grads * tf.sign(features)[None], axis=1)
        summed = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM,
                                                                local)
        uniform = tf.random.stateless_uniform(tf.shape(features)[1:],
                                              seed=next_seed(self.params.seed, self.step),
                                              dtype=grads.dtype)
        return graddrop_gradient(grads, features, uniform, self.params.leak, summed)


@hookimpl
def register_weightings(register):
    register(GradDrop)
