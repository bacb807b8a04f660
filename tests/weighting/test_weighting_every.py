"""``every: k``: a gradient method solves for its task weights every k steps and reuses them.

Checked through mtkit's real step on a small model: ``every: 1`` is today's step (same
function, same state, same result); the held weights change only on solve steps; a reuse
step's update is exactly ``sum_t w_t g_t`` on the trunk and each head's own gradient (one
SGD step at rate 1 against a hand-taken gradient); a run resumed in the middle of a period
ends where the uninterrupted run ends.
"""

from __future__ import annotations

import numpy as np
import pytest

import mtkit
from tests.conftest import cut_training_after_first_epoch

tf = pytest.importorskip("tensorflow")

SPE = 6  # steps per epoch; with every: 4 an epoch ends mid-period (6 % 4 = 2)


def config(weighting: dict, **train) -> dict:
    return {
        "data": {"dataset": "synthetic", "rows": 300, "features": 6, "missing": {"taskB": 0.5}},
        "trunk": {"type": "mlp", "units": [12]},
        "tasks": {"taskA": {"head": "classification", "classes": 3},
                  "taskB": {"head": "regression"}, "taskC": {"head": "binary"}},
        "weighting": weighting,
        "train": {"epochs": 2, "batch_size": 8, "steps_per_epoch": SPE, "train_metrics_rows": 16,
                  "checkpoint": False, "learning_rate": 0.01, "seed": 3, **train},
    }


def _setup(weighting: dict, optimizer: str = "adam", rate: float = 0.01):
    import keras

    from mtkit.assembly import assemble
    from mtkit.dataprep import prepare
    from mtkit.training.step import StepParts, make_train_step

    plan = mtkit.plan(config(weighting))
    splits, specs = prepare(plan)
    keras.utils.set_random_seed(0)
    asm = assemble(plan, specs)
    opt = keras.optimizers.SGD(rate) if optimizer == "sgd" else keras.optimizers.Adam(rate)
    plan.weighting.setup(plan.task_infos)
    if plan.weighting.mode == "shared_gradients":
        plan.weighting.setup_shared([tuple(v.shape) for v in asm.shared_variables])
    opt.build(asm.model.trainable_variables)
    step = make_train_step(plan, StepParts(asm.model, asm.features_model, asm.shared_variables,
                                           opt, tf.distribute.get_strategy()))
    return plan, splits, asm, step


def _batches(splits, n: int):
    train = splits.train
    for i in range(n):
        rows = np.arange(8 * i, 8 * i + 8)
        yield ({k: tf.constant(v[rows]) for k, v in train.inputs.items()},
               {k: tf.constant(v[rows]) for k, v in train.labels.items()})


def test_every_one_is_the_plain_step(tmp_path):
    plan, _, _, step = _setup({"type": "mgda", "every": 1})
    assert plan.weighting.variables() == {}  # no extra checkpointed state
    assert isinstance(step, tf.types.experimental.GenericFunction)  # not a PeriodicStep
    a = mtkit.train(config({"type": "cagrad"}), out=tmp_path / "a", quiet=True)
    b = mtkit.train(config({"type": "cagrad", "every": 1}), out=tmp_path / "b", quiet=True)
    for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("gradients", ["parameters", "features"])
def test_weights_change_only_on_solve_steps(gradients):
    plan, splits, _, step = _setup({"type": "imtl", "every": 4, "gradients": gradients})
    held = []
    for batch in _batches(splits, 9):
        step(batch)
        held.append(plan.weighting.held.numpy().copy())
    assert int(plan.weighting.period_counter().numpy()) == 9
    for i in range(1, 9):
        same = np.array_equal(held[i], held[i - 1])
        assert same == (i % 4 != 0), (i, held[i - 1], held[i])  # solves at steps 0, 4, 8


def test_a_reuse_step_applies_the_held_weights():
    """SGD at rate 1: the update is minus the gradient. After the solve step, a reuse step
    must move the trunk by ``sum_t w_t g_t`` and each head by its own task's gradient."""
    from mtkit.training.step import task_losses

    plan, splits, asm, step = _setup({"type": "mgda", "every": 3}, optimizer="sgd", rate=1.0)
    batches = list(_batches(splits, 2))
    step(batches[0])
    w = plan.weighting.held.numpy()
    assert w.sum() > 0.5  # MGDA's simplex weights over the labelled tasks
    model, shared_ids = asm.model, {id(v) for v in asm.shared_variables}
    inputs, labels = batches[1]
    with tf.GradientTape(persistent=True) as tape:
        losses = task_losses(plan, model(inputs, training=True), labels)[0]
        weighted = tf.add_n([float(w[i]) * losses[n] for i, n in enumerate(plan.tasks)])
        plain = tf.add_n(list(losses.values()))
    want = {}
    for v in model.trainable_variables:
        g = tape.gradient(weighted if id(v) in shared_ids else plain, v)
        want[v.path] = v.numpy() - (0 if g is None else g.numpy())
    step(batches[1])
    for v in model.trainable_variables:
        np.testing.assert_allclose(v.numpy(), want[v.path], rtol=1e-5, atol=1e-6, err_msg=v.path)


@pytest.mark.parametrize("weighting", [{"type": "nash_mtl", "every": 4},
                                       {"type": "mgda", "every": 4, "gradients": "features"}])
def test_resume_mid_period_equals_an_uninterrupted_run(tmp_path, monkeypatch, weighting):
    """Epochs of 6 steps with every: 4: the run is cut after epoch 1 (step 6, half-way
    through a period) and resumed; it must end where the straight run ends."""
    cfg = config(weighting, epochs=2, checkpoint=True)
    straight = mtkit.train(cfg, out=tmp_path / "straight", quiet=True)
    cut_training_after_first_epoch(monkeypatch)
    cut = mtkit.train(cfg, out=tmp_path / "cut", quiet=True)
    assert len(cut.history) == 1
    resumed = mtkit.train(cfg, out=tmp_path / "cut", quiet=True, resume=True)
    for a, b in zip(straight.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    reader = tf.train.load_checkpoint(str(tmp_path / "cut" / "checkpoints"))
    key = next(k for k in reader.get_variable_to_shape_map() if "_steps" in k)
    assert int(reader.get_tensor(key)) == 2 * SPE
