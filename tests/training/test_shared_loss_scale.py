"""Mixed precision with parameter groups (issue 23): one dynamic loss scale for every group.

Keras' LossScaleOptimizer is the reference for the scale's schedule; the shared scale must
also skip a step for *every* group when any gradient overflows, on any replica."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mtkit
from mtkit import rundir
from tests.training.test_task_control import TASKS, _config, _weights

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

INF, NAN = float("inf"), float("nan")
# finite runs long enough to grow (growth_steps 3), overflows in a row, a NaN, growth again
SEQUENCE = [[1.0, 2.0], [0.5, -1.0], [2.0, 1.0], [1.0, 1.0], [INF, 1.0], [1.0, INF],
            [NAN, 0.0], [1.0, -2.0], [3.0, 1.0], [1.0, 1.0], [0.25, 4.0], [1.0, 1.0]]


def test_scale_schedule_matches_keras_loss_scale_optimizer():
    from mtkit.training.loss_scale import SharedLossScale

    ref_var, var = tf.Variable([0.0, 0.0]), tf.Variable([0.0, 0.0])
    ref = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0,
                                              dynamic_growth_steps=3)
    shared = SharedLossScale(keras.optimizers.SGD(0.1), initial_scale=8.0, growth_steps=3)
    ref.build([ref_var])
    shared.build([var])
    scales, ref_scales = [], []
    for g in SEQUENCE:
        grad = tf.constant(g)
        ref.apply_gradients([(grad, ref_var)])
        shared.apply_gradients([(grad, var)])
        ref_scales.append(float(ref.dynamic_scale.numpy()))
        scales.append(float(shared.scale.numpy()))
        np.testing.assert_array_equal(var.numpy(), ref_var.numpy())
    assert scales == ref_scales
    assert len(set(scales)) >= 3  # it really grew and shrank
    assert shared.inner.iterations.numpy() == ref.iterations.numpy() == 9  # 3 skipped


def _grouped(make):
    from mtkit.training.param_groups import Group, GroupedOptimizer

    a, b = tf.Variable([1.0, 1.0]), tf.Variable([1.0])
    group = Group(name="b", learning_rate=0.5, optimizer=make(0.5), variables=[b])
    return GroupedOptimizer(make(0.1), [group]), a, b


def test_an_overflow_in_one_group_skips_every_group():
    from mtkit.training.loss_scale import SharedLossScale

    grouped, a, b = _grouped(keras.optimizers.SGD)
    opt = SharedLossScale(grouped, initial_scale=4.0)
    opt.build([a, b])
    opt.apply_gradients([(tf.constant([4.0, 8.0]), a), (tf.constant([INF]), b)])
    np.testing.assert_array_equal(a.numpy(), [1.0, 1.0])  # a's gradient was finite
    np.testing.assert_array_equal(b.numpy(), [1.0])
    assert float(opt.scale.numpy()) == 2.0
    assert grouped.main.iterations.numpy() == grouped.groups[0].optimizer.iterations.numpy() == 0
    opt.apply_gradients([(tf.constant([4.0, 8.0]), a), (tf.constant([2.0]), b)])
    np.testing.assert_allclose(a.numpy(), [1.0 - 0.1 * 2.0, 1.0 - 0.1 * 4.0])  # unscaled by 2
    np.testing.assert_allclose(b.numpy(), [1.0 - 0.5 * 1.0])
    # what the shared scale prevents: a loss scale per group lets the finite group step
    per_group, a2, _ = _grouped(lambda r: keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(r), initial_scale=4.0))
    per_group.build([a2])
    per_group.groups[0].optimizer.build(per_group.groups[0].variables)
    per_group.apply_gradients([(tf.constant([4.0, 8.0]), a2),
                               (tf.constant([INF]), per_group.groups[0].variables[0])])
    assert not np.array_equal(a2.numpy(), [1.0, 1.0])


MIRRORED = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from mtkit.training.loss_scale import SharedLossScale
    from mtkit.training.param_groups import Group, GroupedOptimizer

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        a, b = tf.Variable([1.0, 1.0]), tf.Variable([1.0])
        grouped = GroupedOptimizer(keras.optimizers.SGD(0.1), [
            Group(name="b", learning_rate=0.5, optimizer=keras.optimizers.SGD(0.5),
                  variables=[b])])
        opt = SharedLossScale(grouped, initial_scale=4.0)
        opt.build([a, b])

    @tf.function
    def step(bad_replica):
        def replica():
            rid = tf.distribute.get_replica_context().replica_id_in_sync_group
            gb = tf.where(tf.equal(rid, bad_replica), float("inf"), 2.0)
            opt.apply_gradients([(tf.constant([4.0, 8.0]), a), (tf.reshape(gb, [1]), b)])
        strategy.run(replica)

    out = []
    for bad in (1, -1):  # the second replica overflows; then no replica does
        step(tf.constant(bad))
        out.append({"a": [x.numpy().tolist() for x in strategy.experimental_local_results(a)],
                    "b": [x.numpy().tolist() for x in strategy.experimental_local_results(b)],
                    "scale": [float(x.numpy()) for x in
                              strategy.experimental_local_results(opt.scale)]})
    print("RESULT " + json.dumps(out))
""")


def test_an_overflow_on_one_replica_skips_the_step_on_all():
    """The finite check is all-reduced: the first replica's finite gradients alone must not
    let the step through (2 logical CPU devices, a fresh process)."""
    proc = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                          timeout=300)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
    skipped, stepped = json.loads(line[0][len("RESULT "):])
    assert skipped == {"a": [[1.0, 1.0]] * 2, "b": [[1.0]] * 2, "scale": [2.0, 2.0]}
    # then both replicas' gradients (summed by the optimizers) unscaled by 2
    np.testing.assert_allclose(stepped["a"], [[1.0 - 0.1 * 4.0, 1.0 - 0.1 * 8.0]] * 2)
    np.testing.assert_allclose(stepped["b"], [[1.0 - 0.5 * 2.0]] * 2)
    assert stepped["scale"] == [2.0, 2.0]


def test_mixed_precision_with_two_groups_trains_and_resumes_bit_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("MTKIT_ALLOW_CPU_MIXED_PRECISION", "1")
    tasks = {**TASKS, "b": {**TASKS["b"], "learning_rate": 0.03}}
    cfg = _config(tasks, epochs=2, mixed_precision=True)
    cfg["trunk"]["learning_rate"] = 0.003
    straight = mtkit.train(cfg, out=tmp_path / "straight", quiet=True)
    mtkit.train({**cfg, "train": {**cfg["train"], "epochs": 1}}, out=tmp_path / "cut", quiet=True)
    resumed = mtkit.train(cfg, out=tmp_path / "cut", quiet=True, resume=True)
    hist = straight.history
    assert hist[-1]["train"]["a"]["loss"] < hist[0]["train"]["a"]["loss"]
    a, b = _weights(straight.model), _weights(resumed.model)
    assert any(k.startswith("trunk/") for k in a)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    saved = dict(tf.train.list_variables(str(tmp_path / "cut" / rundir.CHECKPOINTS)))
    assert any(k.startswith("loss_scale/scale") for k in saved), sorted(saved)
    assert any(k.startswith("group_b/") for k in saved) and any(
        k.startswith("group_trunk/") for k in saved)


def test_a_checkpoint_of_keras_loss_scale_optimizer_is_refused_on_resume(tmp_path):
    """Runs checkpointed before the shared scale kept the optimizer inside Keras'
    LossScaleOptimizer: resuming one must not silently reset the optimizer."""
    from mtkit.errors import TrainingError
    from mtkit.training.checkpoints import Checkpoints

    var = tf.Variable([1.0, 2.0])
    old = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.1))
    old.build([var])
    old.apply_gradients([(tf.constant([1.0, 1.0]), var)])
    tf.train.Checkpoint(optimizer=old, v=var).save(str(tmp_path / "old" / "ckpt"))
    new = keras.optimizers.Adam(0.1)
    new.build([var])
    ckpt = Checkpoints(tmp_path / "run", tf.Module(), new, {})
    with pytest.raises(TrainingError, match="cannot resume from checkpoint .*older mtkit"):
        ckpt.restore(tmp_path / "old")
