"""Built-in weighting: Aligned-MTL, aligning the task gradients' principal components.

Senushkin et al., "Independent Component Alignment for Multi-Task Learning", CVPR 2023
(arXiv:2305.19000). The task gradients ``G`` are replaced by the closest matrix with
condition number one: with ``G^T G = V diag(l) V^T``, the aligned gradients are
``G B`` with ``B = sqrt(l_min) V diag(l)^-1/2 V^T`` (orthogonal, all of norm
``sqrt(l_min)``), and the update is their sum, ``d = G B w``, with task preferences ``w``
(the fixed task weights, default 1). Directions in which the
tasks' gradients are numerically dependent (eigenvalues below ``max(l) T eps``) are
dropped, as in the authors' code.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.builtin.weightings.sum import fixed_weights
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo


class AlignedMTLParams(GradientParams):
    weights: dict[str, float] | None = Field(
        None, description="Task preferences w in d = G B w; overrides each task's `weight` (default 1.0).")


def aligned_weights(gram: Any, active: Any, preferences: Any = None) -> Any:
    """``B w`` (``w``: task preferences, default ones) for the active tasks' Gram matrix."""
    import tensorflow as tf

    t = gram.shape[0]
    act = tf.cast(active, tf.float64)
    m = gram * act[:, None] * act[None, :]
    lam, vec = tf.linalg.eigh(m)
    tol = tf.reduce_max(lam) * t * 1.1920929e-07  # float32 eps: the gradients are float32
    keep = lam > tol
    inv_sqrt = tf.where(keep, 1.0 / tf.sqrt(tf.where(keep, lam, 1.0)), 0.0)
    lam_min = tf.reduce_min(tf.where(keep, lam, tf.constant(float("inf"), tf.float64)))
    lam_min = tf.where(tf.reduce_any(keep), lam_min, 0.0)
    b = tf.sqrt(lam_min) * tf.matmul(vec * inv_sqrt[None, :], vec, transpose_b=True)
    prefs = tf.ones([t], tf.float64) if preferences is None else tf.cast(preferences, tf.float64)
    return tf.linalg.matvec(b, prefs * act) * act


class AlignedMTL(GramWeighting):
    """Sum of the task gradients aligned to condition number one (Senushkin et al. 2023)."""

    name = "aligned_mtl"
    Params = AlignedMTLParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        fixed_weights(tasks, self.params.weights)

    def setup(self, tasks: list[TaskInfo]) -> None:
        super().setup(tasks)
        fixed = fixed_weights(tasks, self.params.weights)
        self.preferences = [fixed[n] for n in self.names]

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        return aligned_weights(gram, active, self.preferences)


@hookimpl
def register_weightings(register):
    register(AlignedMTL)
