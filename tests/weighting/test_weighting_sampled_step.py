"""The sampled step (``Weighting.samples > 1``: MoDo, SDMGrad) through mtkit's real step.

One SGD step at rate 1 moves each variable by minus its gradient, so the step's update is
checked against gradients taken by hand: sample ``i`` is rows ``i, i + 3, ...`` of the
batch (sliced here, not masked), each task's loss its mean over the sample's labelled
rows; MoDo's weights follow its equation in numpy, the trunk moves by ``G_3^T lambda``,
each head by the mean of its three samples' gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import mtkit
from mtkit.errors import MtkitError

tf = pytest.importorskip("tensorflow")


def config(weighting: dict, batch: int = 12) -> dict:
    return {
        "data": {"dataset": "synthetic", "rows": 200, "features": 6, "missing": {"taskB": 0.5}},
        "trunk": {"type": "mlp", "units": [10]},
        "tasks": {"taskA": {"head": "classification", "classes": 3},
                  "taskB": {"head": "regression"}, "taskC": {"head": "binary"}},
        "weighting": weighting,
        "train": {"epochs": 1, "batch_size": batch, "steps_per_epoch": 2, "checkpoint": False,
                  "train_metrics_rows": 16},
    }


def _setup(weighting: dict, batch: int = 12):
    import keras

    from mtkit.assembly import assemble
    from mtkit.dataprep import prepare
    from mtkit.training.step import StepParts, make_train_step

    plan = mtkit.plan(config(weighting, batch))
    splits, specs = prepare(plan)
    keras.utils.set_random_seed(0)
    asm = assemble(plan, specs)
    opt = keras.optimizers.SGD(1.0)
    plan.weighting.setup(plan.task_infos)
    opt.build(asm.model.trainable_variables)
    step = make_train_step(plan, StepParts(asm.model, asm.features_model, asm.shared_variables,
                                           opt, tf.distribute.get_strategy()))
    return plan, splits, asm, step


def project(y: np.ndarray) -> np.ndarray:
    u = np.sort(y)[::-1]
    css = np.cumsum(u)
    rho = np.nonzero(u * np.arange(1, len(y) + 1) > css - 1)[0][-1]
    return np.maximum(y - (css[rho] - 1) / (rho + 1), 0)


def test_modo_step_uses_three_interleaved_samples():
    from mtkit.training.masking import masked_mean

    gamma, rho = 0.3, 0.1
    plan, splits, asm, step = _setup({"type": "modo", "gamma": gamma, "rho": rho})
    model, shared_ids = asm.model, {id(v) for v in asm.shared_variables}
    rows = np.arange(12)
    inputs = {k: tf.constant(v[rows]) for k, v in splits.train.inputs.items()}
    labels = {k: v[rows] for k, v in splits.train.labels.items()}
    assert 0 < np.isfinite(labels["taskB"]).sum() < 12  # a partly labelled task
    shared = [v for v in model.trainable_variables if id(v) in shared_ids]
    own = [v for v in model.trainable_variables if id(v) not in shared_ids]
    G, heads = [], [np.zeros(v.shape) for v in own]
    for i in range(3):
        sub = rows[i::3]
        with tf.GradientTape(persistent=True) as tape:
            out = model({k: tf.gather(v, sub) for k, v in inputs.items()}, training=True)
            losses = {k: masked_mean(plan.tasks[k].loss, tf.constant(labels[k][sub]), out[k])
                      for k in plan.tasks}
            total = tf.add_n(list(losses.values()))
        G.append(np.stack([np.concatenate([g.numpy().ravel() for g in tape.gradient(losses[k], shared)])
                           for k in plan.tasks]))
        for j, g in enumerate(tape.gradient(total, own)):
            heads[j] += (0 if g is None else g.numpy()) / 3
    lam = np.full(3, 1 / 3)
    lam = project(lam - gamma * (G[0] @ G[1].T @ lam + rho * lam))
    d = G[2].T @ lam
    before_shared = np.concatenate([v.numpy().ravel() for v in shared])
    before_own = [v.numpy().copy() for v in own]
    step((inputs, {k: tf.constant(v) for k, v in labels.items()}))
    np.testing.assert_allclose(plan.weighting.lambd.numpy(), lam, rtol=1e-5, atol=1e-7)
    moved = before_shared - np.concatenate([v.numpy().ravel() for v in shared])
    np.testing.assert_allclose(moved, d, rtol=1e-4, atol=1e-6)
    for v, b, g in zip(own, before_own, heads, strict=True):
        np.testing.assert_allclose(b - v.numpy(), g, rtol=1e-4, atol=1e-6, err_msg=v.path)


def test_a_batch_smaller_than_the_samples_is_refused():
    with pytest.raises(MtkitError, match=r"train.batch_size.*at least 3"):
        _setup({"type": "sdmgrad"}, batch=2)
