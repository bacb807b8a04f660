"""Built-in weighting: MGDA, the multiple-gradient descent algorithm (and MGDA-UB).

Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018
(arXiv:1810.04650). The update is the minimum-norm point of the convex hull of the task
gradients, ``d = sum_t w_t g_t`` with ``w = argmin_{w in simplex} |sum_t w_t g_t|``: it
decreases every task's loss at once unless the point is Pareto-stationary (``d = 0``).
``gradients: parameters`` is MGDA on the trunk's parameters; ``gradients: features`` is
MGDA-UB, which solves the same problem on the gradients w.r.t. the shared representation
(an upper bound of the former, at the cost of one backward pass). Optionally the
gradients are normalised first (the paper's ``l2``, ``loss``, ``loss+``): the weights are
the min-norm point of the *normalised* gradients and then scale the *raw* task losses,
``d = sum_t w_t g_t``, as in Sener & Koltun's code (``multi_task/train_multi_task.py``:
``grads[t] / gn[t]`` → ``find_min_norm_element`` → ``loss = sum_t scale[t] * loss_t``).
(LibMTL's parameter-gradient path instead applies them to the normalised gradients, which
makes the update grow like ``1 / L`` as the losses shrink; its representation path
follows the authors.) A present task with an exactly-zero gradient is part of the hull,
so the update is then ``d = 0`` (Pareto-stationary), the limit of a tiny gradient.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mtkit.builtin.weightings._gram import GradientParams, GramWeighting
from mtkit.hookspecs import hookimpl


class MGDAParams(GradientParams):
    normalization: Literal["none", "l2", "loss", "loss+"] = Field(
        "none", description="Scale each task gradient by 1/|g|, 1/loss, 1/(loss*|g|) or not at all.")


class MGDA(GramWeighting):
    """Min-norm point of the task gradients' hull (Sener & Koltun 2018); MGDA-UB on features."""

    name = "mgda"
    Params = MGDAParams

    def normalizers(self, gram: Any, losses: Any) -> Any:
        import tensorflow as tf

        norms = tf.sqrt(tf.linalg.diag_part(gram))
        kind = self.params.normalization
        if kind == "l2":
            return norms
        if kind == "loss":
            return losses
        if kind == "loss+":
            return losses * norms
        return tf.ones_like(norms)

    def weights_from_gram(self, gram: Any, losses: Any, active: Any) -> Any:
        import tensorflow as tf

        from mtkit.builtin.weightings._min_norm import min_norm_weights

        scale = self.normalizers(gram, losses)
        # A zero normaliser (zero gradient or zero loss) leaves the gradient unnormalised:
        # it is the zero vector either way under 'l2' / 'loss+', and stays in the hull.
        inv = tf.where(scale > 0, 1.0 / tf.where(scale > 0, scale, 1.0), tf.ones_like(scale))
        return min_norm_weights(gram * inv[:, None] * inv[None, :], active)


@hookimpl
def register_weightings(register):
    register(MGDA)
