"""Per-task control (issue 23): class weights, per-group learning rates, a frozen trunk,
and warm start of a bigger config from a trained run — real training runs, tiny models."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mtkit
from mtkit import rundir
from tests.conftest import assert_clean_error, run_cli

TASKS = {"a": {"head": "classification", "classes": 3}, "b": {"head": "binary"},
         "c": {"head": "regression"}}


def _config(tasks=None, **train) -> dict:
    return {"data": {"dataset": "synthetic", "rows": 240, "features": 6},
            "trunk": {"type": "mlp", "units": [8], "batch_norm": True},
            "tasks": tasks or TASKS,
            "train": {"epochs": 2, "batch_size": 32, "seed": 2, "learning_rate": 0.01, **train}}


def _weights(model) -> dict[str, np.ndarray]:
    from mtkit.training.warm_start import _layers

    return {f"{name}/{i}": w.numpy().copy() for name, layer in _layers(model).items()
            for i, w in enumerate(layer.weights)}


def test_class_weighted_masked_loss_matches_a_hand_computation():
    from mtkit.builtin.losses.sparse_categorical_crossentropy import (
        SparseCategoricalCrossentropy,
    )
    from mtkit.training.masking import masked_sum_and_count

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=8).astype(np.float32)
    y = np.array([0, 1, 2, -1, 2, -1, 0, 1])
    cw = np.array([0.5, 2.0, 3.0], np.float32)
    loss = SparseCategoricalCrossentropy(SparseCategoricalCrossentropy.Params())
    total, count = masked_sum_and_count(loss, y, probs, cw)
    present = y >= 0
    expected = sum(-np.log(probs[i, y[i]]) * cw[y[i]] for i in np.flatnonzero(present))
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)
    assert float(count) == present.sum()  # the mean divides by labelled rows, as Keras does
    # a batch whose labels are all missing contributes exactly zero
    total0, count0 = masked_sum_and_count(loss, np.full(8, -1), probs, cw)
    assert float(total0) == 0.0 and float(count0) == 0.0


def test_balanced_class_weights_equal_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    from mtkit.data import Arrays
    from mtkit.training.class_weights import resolve_class_weights

    y = np.array([0, 0, 0, 0, 1, 2, 2, -1, -1, 1, 0])
    cfg = _config({"a": {"head": "classification", "classes": 3, "class_weight": "balanced"}})
    plan = mtkit.plan(cfg)
    got = resolve_class_weights(plan, Arrays(inputs={}, labels={"a": y}))["a"]
    ref = compute_class_weight("balanced", classes=np.arange(3), y=y[y >= 0])
    np.testing.assert_allclose(got, ref, rtol=1e-6)


@pytest.mark.parametrize("loss_name", ["binary_crossentropy", "focal"])
def test_multilabel_class_weights_match_a_hand_computation(loss_name):
    """Each label's loss times its negative/positive weight, averaged over the labels of a
    row, summed over labelled rows (a NaN row contributes exactly zero)."""
    from mtkit.builtin.losses.binary_crossentropy import BinaryCrossentropy
    from mtkit.builtin.losses.focal import Focal
    from mtkit.training.masking import masked_sum_and_count

    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, size=(6, 3)).astype(np.float32)
    y = (rng.uniform(size=(6, 3)) > 0.5).astype(np.float32)
    y[[1, 4]] = np.nan
    cw = np.array([[0.5, 1.0, 2.0], [3.0, 0.25, 1.5]], np.float32)
    if loss_name == "focal":
        loss, gamma = Focal(Focal.Params(gamma=2.0)), 2.0
    else:
        loss, gamma = BinaryCrossentropy(BinaryCrossentropy.Params()), 0.0
    total, count = masked_sum_and_count(loss, y, p, cw)
    expected = 0.0
    for i in range(6):
        if np.isnan(y[i]).any():
            continue
        p_t = np.where(y[i] == 1, p[i], 1 - p[i]).astype(np.float64)
        elem = -((1 - p_t) ** gamma) * np.log(p_t)
        expected += np.mean(elem * np.where(y[i] == 1, cw[1], cw[0]))
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)
    assert float(count) == 4.0
    # weights of 1 are the unweighted loss; an unlabelled batch contributes exactly zero
    plain, _ = masked_sum_and_count(loss, y, p)
    ones, _ = masked_sum_and_count(loss, y, p, np.ones((2, 3), np.float32))
    np.testing.assert_allclose(float(ones), float(plain), rtol=1e-6)
    total0, count0 = masked_sum_and_count(loss, np.full((6, 3), np.nan, np.float32), p, cw)
    assert float(total0) == 0.0 and float(count0) == 0.0


def test_which_losses_give_per_label_values():
    """Multilabel class weights need ``Loss.per_element``; the contract's default is None."""
    from mtkit.builtin.losses.binary_crossentropy import BinaryCrossentropy
    from mtkit.builtin.losses.focal import Focal
    from mtkit.builtin.losses.mse import MeanSquaredError
    from mtkit.training.class_weights import _has_per_element

    assert _has_per_element(BinaryCrossentropy(BinaryCrossentropy.Params()))
    assert _has_per_element(Focal(Focal.Params()))
    mse = MeanSquaredError(MeanSquaredError.Params())
    assert not _has_per_element(mse) and mse.per_element(None, None) is None


def test_balanced_multilabel_weights_equal_scikit_learns_per_label():
    from sklearn.utils.class_weight import compute_class_weight

    from mtkit.data import Arrays
    from mtkit.training.class_weights import resolve_class_weights

    y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [np.nan] * 3, [1, 0, 1], [1, 0, 0]],
                 np.float32)
    cfg = _config({"m": {"head": "multilabel", "classes": 3, "class_weight": "balanced"}})
    got = resolve_class_weights(mtkit.plan(cfg), Arrays(inputs={}, labels={"m": y}))["m"]
    labelled = y[~np.isnan(y).any(axis=1)]
    assert got.shape == (2, 3)
    for j in range(3):
        ref = compute_class_weight("balanced", classes=np.array([0.0, 1.0]), y=labelled[:, j])
        np.testing.assert_allclose(got[:, j], ref, rtol=1e-6)


def test_multilabel_class_weights_train_end_to_end(tmp_path):
    tasks = {"m": {"head": "multilabel", "classes": 3, "class_weight": [[1, 1, 1], [2, 3, 4]]},
             "c": {"head": "regression"}}
    run = mtkit.train(_config(tasks, epochs=1), out=tmp_path / "run", quiet=True)
    assert np.isfinite(run.history[0]["train"]["m"]["loss"])
    info = json.loads((tmp_path / "run" / rundir.INFO).read_text())
    assert info["training"]["class_weights"] == {"m": [[1.0, 1.0, 1.0], [2.0, 3.0, 4.0]]}


def test_group_learning_rates_scale_one_sgd_step(tmp_path):
    """w(lr) = w0 - lr·g after one SGD step: with task a's rate 0.1, 0.2, 0.3 its head moves
    by equal differences, while the trunk and the other heads move exactly alike."""
    runs = []
    for i, lr in enumerate((0.1, 0.2, 0.3)):
        tasks = {**TASKS, "a": {**TASKS["a"], "learning_rate": lr}}
        cfg = _config(tasks, optimizer="sgd", learning_rate=0.05, epochs=1, steps_per_epoch=1)
        cfg["trunk"]["batch_norm"] = False
        runs.append(_weights(mtkit.train(cfg, out=tmp_path / f"r{i}", quiet=True).model))
    head_a = [k for k in runs[0] if k.startswith("a/")]
    others = [k for k in runs[0] if k not in head_a]
    assert head_a and any(k.startswith("trunk/") for k in others)
    for k in head_a:
        step1, step2 = runs[1][k] - runs[0][k], runs[2][k] - runs[1][k]
        np.testing.assert_allclose(step1, step2, atol=1e-6)
        assert np.abs(step1).max() > 1e-5  # the head really moved with its rate
    for k in others:
        np.testing.assert_array_equal(runs[0][k], runs[1][k])
        np.testing.assert_array_equal(runs[1][k], runs[2][k])
    info = json.loads((tmp_path / "r2" / rundir.INFO).read_text())
    assert info["training"]["learning_rates"] == {"a": 0.3}


def test_a_group_with_its_own_optimizer_takes_that_optimizers_step(tmp_path):
    """After one step a head's update depends only on its own optimizer: task a with
    {optimizer: sgd, learning_rate: 0.1} in an Adam run moves exactly as in an all-SGD run
    at 0.1, while the trunk (Adam at 0.01 here) moves differently."""
    runs = {}
    for name, train, a in (("sgd", {"optimizer": "sgd", "learning_rate": 0.1}, {}),
                           ("mixed", {"optimizer": "adam", "learning_rate": 0.01},
                            {"optimizer": "sgd", "learning_rate": 0.1})):
        cfg = _config({**TASKS, "a": {**TASKS["a"], **a}}, epochs=1, steps_per_epoch=1, **train)
        cfg["trunk"]["batch_norm"] = False
        runs[name] = _weights(mtkit.train(cfg, out=tmp_path / name, quiet=True).model)
    head_a = [k for k in runs["sgd"] if k.startswith("a/")]
    assert head_a
    for k in head_a:
        np.testing.assert_allclose(runs["mixed"][k], runs["sgd"][k], rtol=1e-6, atol=1e-7)
    trunk = [k for k in runs["sgd"] if k.startswith("trunk/")]
    assert any(not np.allclose(runs["mixed"][k], runs["sgd"][k]) for k in trunk)
    info = json.loads((tmp_path / "mixed" / rundir.INFO).read_text())
    assert info["training"]["optimizers"] == {"a": "sgd"}
    assert info["training"]["learning_rates"] == {"a": 0.1}


def test_warm_start_into_a_bigger_config_with_a_frozen_trunk(tmp_path):
    three = mtkit.train(_config(), out=tmp_path / "three", quiet=True)
    before = _weights(three.model)
    tasks = {**TASKS, "d": {"head": "binary"}}
    cfg = _config(tasks)
    cfg["trunk"]["trainable"] = False
    four = mtkit.train(cfg, out=tmp_path / "four", quiet=True, init_from=tmp_path / "three")
    after = _weights(four.model)
    report = json.loads((tmp_path / "four" / "init_from.json").read_text())
    assert four.warm_start is not None and not report["skipped"]
    assert all(x.startswith("d") for x in report["new"]) and report["new"]
    trunk = [k for k in before if k.startswith("trunk/")]
    assert any("bn" in k for k in trunk)  # BatchNorm moving statistics are frozen too
    for k in trunk:  # frozen: bit-identical after training
        np.testing.assert_array_equal(after[k], before[k])
    for k in before:  # the old heads started from the trained run and went on training
        if k.startswith(("a", "b", "c")) and not k.startswith("trunk"):
            assert not np.array_equal(after[k], before[k]) or k.endswith("/1")
    first = four.history[0]["train"]
    assert first["a"]["loss"] < three.history[0]["train"]["a"]["loss"]  # warm, not from scratch


def test_freeze_patterns_keep_only_the_matching_layers_as_loaded(tmp_path):
    """Fine-tune the top of a warm-started trunk: the first Dense + BatchNorm (moving
    statistics included) stay bit-identical to the source run, the second block trains."""
    cfg = _config(epochs=1)
    cfg["trunk"]["units"] = [8, 6]
    src = _weights(mtkit.train(cfg, out=tmp_path / "src", quiet=True).model)
    cfg["trunk"]["freeze"] = ["mlp_dense0", "mlp_bn0*"]
    tuned = mtkit.train(cfg, out=tmp_path / "tuned", quiet=True, init_from=tmp_path / "src")
    after = _weights(tuned.model)
    frozen = [k for k in src if k.startswith(("trunk/mlp_dense0/", "trunk/mlp_bn0/"))]
    trained = [k for k in src if k.startswith(("trunk/mlp_dense1/", "trunk/mlp_bn1/"))]
    assert len(frozen) == 2 + 4 and len(trained) == 2 + 4  # kernel, bias; BN's 4 weights
    for k in frozen:
        np.testing.assert_array_equal(after[k], src[k], err_msg=k)
    for k in trained:  # gamma, beta and the moving statistics all move
        assert not np.array_equal(after[k], src[k]), k
    names = {v.path for v in tuned.model.trainable_variables}
    assert not any("mlp_dense0" in n or "mlp_bn0" in n for n in names)


@pytest.mark.parametrize("tasks,needle", [
    ({"a": {"head": "classification", "classes": 3, "class_weight": [1, 2]}},
     "2 weights given for the 3 classes"),
    ({"a": {"head": "classification", "classes": 3, "class_weight": [1, -2, 1]}},
     "class weights must be finite and 0 or more"),
    ({"a": {"head": "classification", "classes": 3, "class_weight": {5: 2.0}}},
     "class 5 does not exist"),
    ({"m": {"head": "multilabel", "classes": 2, "class_weight": [1, 2]}},
     "its class weights are per label and per value"),
    ({"m": {"head": "multilabel", "classes": 3, "class_weight": [[1, 1, 1], [2, 2]]}},
     "here (2, 3)"),
    ({"m": {"head": "multilabel", "classes": 2, "class_weight": [[1, 1], [2, -1]]}},
     "class weights must be finite and 0 or more"),
    ({"a": {"head": "classification", "classes": 2, "class_weight": [[1, 1], [2, 2]]}},
     "a list of lists is the multilabel form"),
    ({"r": {"head": "regression", "class_weight": [1, 2]}},
     "class weights apply to heads whose label is one class per row"),
])
def test_bad_class_weights_are_clean_errors(tmp_path, tasks, needle):
    import yaml

    path = tmp_path / "cfg.yaml"
    cfg = _config(tasks)
    path.write_text(yaml.safe_dump(cfg))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert_clean_error(proc, "class_weight", needle)
    assert not (tmp_path / "run").exists()


def test_init_from_a_run_with_another_trunk_is_refused_and_writes_nothing(tmp_path):
    import yaml

    mtkit.train(_config(epochs=1), out=tmp_path / "src", quiet=True)
    cfg = _config()
    cfg["trunk"]["units"] = [16]  # every trunk weight has another shape
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet",
                   "--init-from", str(tmp_path / "src"))
    assert_clean_error(proc, "--init-from", "none of the trunk's weights fits this model")
    assert not (tmp_path / "run").exists()


def test_learning_rate_for_an_unknown_task_names_it(tmp_path):
    import yaml

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(_config()))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet",
                   "--set", "tasks.bb.learning_rate=0.1")
    assert_clean_error(proc, "no task 'bb'", "did you mean 'b'")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("weighting", ["sum", "pcgrad"])
def test_group_rates_resume_equal_a_straight_run(tmp_path, weighting):
    """Each group's optimizer state is checkpointed: 1 epoch + resume = 2 epochs straight
    (in loss mode and in a gradient mode, whose step builds its own update list)."""
    tasks = {**TASKS, "b": {**TASKS["b"], "learning_rate": 0.03}}
    cfg = _config(tasks, epochs=2)
    cfg["trunk"]["learning_rate"] = 0.003
    cfg["weighting"] = weighting
    straight = mtkit.train(cfg, out=tmp_path / "straight", quiet=True)
    mtkit.train({**cfg, "train": {**cfg["train"], "epochs": 1}}, out=tmp_path / "cut", quiet=True)
    resumed = mtkit.train(cfg, out=tmp_path / "cut", quiet=True, resume=True)
    a, b = _weights(straight.model), _weights(resumed.model)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)
