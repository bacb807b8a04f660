"""Built-in weighting: SDMGrad, stochastic direction-oriented multi-objective gradient descent.

Xiao, Ban & Ji, "Direction-oriented Multi-objective Learning: Simple and Provable
Stochastic Algorithms", NeurIPS 2023 (openreview 4Ks8RPcXd9, arXiv:2305.18409),
Algorithm 1; reference: LibMTL ``LibMTL/weighting/SDMGrad.py``
(median-research-group/LibMTL@4336804, from the authors' OptMN-Lab/sdmgrad). The update
stays near the average gradient ``g0`` by regularising MGDA's problem towards it,

    w = argmin_{w in simplex}  1/2 |G w|^2 + lamda g0 . G w,
    d = (G_zeta^T w + lamda g0_zeta) / (1 + lamda),

with the objective's gradient estimated from two independent samples ``xi1, xi2``
(``G_xi1 G_xi2^T w + lamda G_xi1 G_xi2^T 1/T``, after dividing that matrix by the
squared mean of its diagonal's square roots, as the reference does) and the step taken
on a third sample ``zeta``. ``w`` is found as in the reference: ``niter`` projected SGD
steps with rate 5 and momentum 0.5 (fresh momentum each step), warm-started from the
previous step's ``w`` (checkpointed; start ``1/T``). Each head gets the mean of its three
samples' gradients: a deliberate difference, since the reference's heads accumulate the
*sum* of the three, which triples their step against the trunk's and against every other
method (MoDo's reference divides by 3). The samples are interleaved thirds of the batch
(``mtkit.training.sampled_step``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.weightings import _gradients as grads_lib
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting, WeightingMode

INNER_RATE, INNER_MOMENTUM = 5.0, 0.5  # the reference's torch.optim.SGD(lr=5, momentum=0.5)
EPS = 1e-8  # the reference's guard in GG / (scale^2 + 1e-8)


class SDMGradParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lamda: float = Field(0.3, ge=0.0, description="Pull towards the average gradient (reference 0.3).")
    niter: int = Field(20, ge=1, le=200, description="Projected SGD steps on w per step (reference 20).")


class SDMGrad(Weighting):
    """MGDA regularised towards the average gradient, from independent samples (Xiao et al. 2023)."""

    name = "sdmgrad"
    mode = WeightingMode.SHARED_GRADIENTS
    samples = 3
    Params = SDMGradParams

    def setup(self, tasks: list[TaskInfo]) -> None:
        import tensorflow as tf

        super().setup(tasks)
        self.names = [t.name for t in tasks]
        t = len(tasks)
        self.w = tf.Variable(tf.fill([t], tf.constant(1.0 / t, tf.float64)), trainable=False,
                             name="sdmgrad_w", aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def variables(self) -> dict[str, Any]:
        return {"sdmgrad_w": self.w}

    def solve(self, xi1: Any, xi2: Any) -> Any:
        """The reference's inner loop on ``w`` from two samples' ``(T, P)`` matrices."""
        import tensorflow as tf

        from mtkit.builtin.weightings._min_norm import project_to_simplex

        lamda = self.params.lamda
        gg = tf.cast(tf.matmul(xi1, xi2, transpose_b=True), tf.float64)
        diag = tf.maximum(tf.linalg.diag_part(gg), 0.0)
        scale = tf.reduce_mean(tf.sqrt(diag))
        gg = gg / (scale**2 + EPS)
        gg_mean = tf.reduce_mean(gg, axis=1)
        everyone = tf.ones([len(self.names)], tf.bool)

        def body(k, w, buf):  # torch's SGD momentum: buf = grad, then buf = m * buf + grad
            grad = tf.linalg.matvec(gg, w) + lamda * gg_mean
            buf = INNER_MOMENTUM * buf + grad
            return k + 1, project_to_simplex(w - INNER_RATE * buf, everyone), buf

        w0 = self.w.read_value()
        _, w, _ = tf.while_loop(lambda k, *_: k < self.params.niter, body,
                                (tf.constant(0), w0, tf.zeros_like(w0)))
        self.w.assign(w)
        return w

    def combine_gradient_samples(self, grads: list[dict[str, list[Any]]],
                                 losses: list[dict[str, Any]],
                                 present: list[dict[str, Any]]) -> list[Any]:
        import tensorflow as tf

        zeta, xi1, xi2 = (grads_lib.task_matrix(g, self.names) for g in grads)
        w = self.solve(xi1, xi2)
        lamda = self.params.lamda
        t = len(self.names)
        mix = (w + lamda / t) / (1.0 + lamda)  # (G^T w + lamda mean_t g_t) / (1 + lamda)
        return grads_lib.unflatten(grads_lib.combine(tf.cast(mix, tf.float32), zeta),
                                   grads[0][self.names[0]])

    def combine_gradients(self, grads: dict[str, list[Any]], losses: dict[str, Any],
                          present: dict[str, Any]) -> list[Any]:
        raise NotImplementedError("sdmgrad needs three gradient samples (combine_gradient_samples)")


@hookimpl
def register_weightings(register):
    register(SDMGrad)
