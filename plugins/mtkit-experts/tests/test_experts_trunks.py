"""The gated trunks alone: per-task shapes, gates that are mixtures, gates that stay per task."""

from __future__ import annotations

import numpy as np
import pytest

FAST_MLP = {"type": "mlp", "units": [8]}
GATED = {
    "mmoe": {"type": "mmoe", "experts": 3, "expert": FAST_MLP, "gate_hidden": [4]},
    "cgc": {"type": "cgc", "shared_experts": 2, "task_experts": 2, "expert": FAST_MLP},
    "ple": {"type": "ple", "levels": 2, "shared_experts": 1, "task_experts": 1, "expert": FAST_MLP},
}
OMOE = {"type": "omoe", "experts": 3, "expert": FAST_MLP, "gate_hidden": [4]}
ALL = {**GATED, "omoe": OMOE, "cross_stitch": {"type": "cross_stitch", "levels": 2, "expert": FAST_MLP}}


def gate_layers(model) -> list:
    """The softmax Dense layers of a trunk: its gates (experts live inside sub-models)."""
    import keras

    return [layer for layer in model.layers
            if getattr(layer, "activation", None) is keras.activations.softmax]


@pytest.mark.parametrize("kind", list(ALL))
@pytest.mark.parametrize("n_tasks", [2, 3, 6])
def test_one_feature_tensor_per_task_with_the_expert_width(kind, n_tasks, trunk_model, batch):
    model = trunk_model(ALL[kind], n_tasks)
    out = model(batch(rows=5))
    assert sorted(out) == sorted(f"t{i}" for i in range(n_tasks))
    for tensor in out.values():
        assert tuple(tensor.shape) == (5, 8)  # the expert mlp's last width


@pytest.mark.parametrize("kind", list(GATED))
def test_gate_outputs_are_mixtures(kind, trunk_model, batch):
    model = trunk_model(GATED[kind], 4)
    gates = gate_layers(model)
    expected = {"mmoe": 4, "cgc": 4, "ple": 2 * 4 + 1}[kind]  # ple: 4 task gates per level + 1 shared
    assert len(gates) == expected, [g.name for g in gates]
    import keras

    probe = keras.Model(model.inputs, [g.output for g in gates])
    for w in probe(batch(rows=32, seed=3)):
        w = np.asarray(w)
        assert (w >= 0).all()
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-5)
        assert w.std(axis=0).max() > 0  # input-dependent, not a constant


@pytest.mark.parametrize("kind", list(GATED))
def test_a_task_features_depend_only_on_its_own_gate(kind, trunk_model, batch):
    n = 3
    model = trunk_model(GATED[kind], n)
    x = batch(rows=8, seed=1)
    before = {k: np.asarray(v) for k, v in model(x).items()}
    rng = np.random.default_rng(0)
    names = [g.name for g in gate_layers(model) if g.name.endswith("gate_t1")]
    assert names, "no gate of task t1 found"
    for name in names:
        layer = model.get_layer(name)
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel + rng.normal(size=kernel.shape), bias + 1.0])
    after = {k: np.asarray(v) for k, v in model(x).items()}
    assert np.abs(after["t1"] - before["t1"]).max() > 1e-3
    for other in ("t0", "t2"):
        np.testing.assert_array_equal(after[other], before[other])


def test_omoe_one_gate_is_a_mixture_and_every_task_gets_the_same_features(trunk_model, batch):
    import keras

    model = trunk_model(OMOE, 3)
    gates = gate_layers(model)
    assert [g.name for g in gates] == ["gate"]  # one gate for all tasks, not one per task
    w = np.asarray(keras.Model(model.inputs, gates[0].output)(batch(rows=32, seed=3)))
    assert w.shape == (32, 3) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-5)
    assert w.std(axis=0).max() > 0
    x = batch(rows=8, seed=1)
    before = {k: np.asarray(v) for k, v in model(x).items()}
    np.testing.assert_array_equal(before["t0"], before["t1"])
    np.testing.assert_array_equal(before["t0"], before["t2"])
    layer = model.get_layer("gate")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel + np.random.default_rng(0).normal(size=kernel.shape), bias + 1.0])
    after = {k: np.asarray(v) for k, v in model(x).items()}
    for task in ("t0", "t1", "t2"):  # the shared gate moves every task's features
        assert np.abs(after[task] - before[task]).max() > 1e-3


def test_omoe_equals_mmoe_with_tied_gates(trunk_model, batch):
    """OMoE is MMoE whose per-task gates are one: copy OMoE's weights into MMoE, tie its gates."""
    omoe = trunk_model(OMOE, 2)
    mmoe = trunk_model({**OMOE, "type": "mmoe"}, 2)
    for i in range(3):
        mmoe.get_layer(f"expert{i}").set_weights(omoe.get_layer(f"expert{i}").get_weights())
    for task in ("t0", "t1"):
        mmoe.get_layer(f"gate_{task}_hidden0").set_weights(omoe.get_layer("gate_hidden0").get_weights())
        mmoe.get_layer(f"gate_{task}").set_weights(omoe.get_layer("gate").get_weights())
    x = batch(rows=8, seed=6)
    want, got = omoe(x), mmoe(x)
    for task in ("t0", "t1"):
        np.testing.assert_allclose(np.asarray(got[task]), np.asarray(want[task]), rtol=1e-6, atol=1e-6)


def test_cgc_gates_see_only_own_and_shared_experts(trunk_model, batch):
    model = trunk_model(GATED["cgc"], 3)
    # each task gate mixes its 2 own experts + 2 shared ones, never another task's
    assert all(model.get_layer(f"gate_t{i}").units == 4 for i in range(3))
    x = batch(rows=8, seed=2)
    before = {k: np.asarray(v) for k, v in model(x).items()}
    expert = model.get_layer("expert0_of_t0")
    expert.set_weights([w + 0.5 for w in expert.get_weights()])
    after = {k: np.asarray(v) for k, v in model(x).items()}
    assert np.abs(after["t0"] - before["t0"]).max() > 1e-3
    np.testing.assert_array_equal(after["t1"], before["t1"])
    np.testing.assert_array_equal(after["t2"], before["t2"])


def test_cross_stitch_starts_near_identity_and_mixes_columns(trunk_model, batch):
    model = trunk_model({**ALL["cross_stitch"], "levels": 1, "self_weight": 0.8}, 3)
    alphas = np.concatenate([model.get_layer(f"level1_stitch_t{k}").get_weights()[0]
                             for k in range(3)], axis=1)  # column k = task k's α row
    np.testing.assert_allclose(np.diag(alphas), 0.8)
    np.testing.assert_allclose(alphas.sum(axis=0), 1.0, atol=1e-6)
    x = batch(rows=8, seed=4)
    before = {k: np.asarray(v) for k, v in model(x).items()}
    column = model.get_layer("level1_column_t0")
    column.set_weights([w + 0.5 for w in column.get_weights()])
    after = {k: np.asarray(v) for k, v in model(x).items()}
    for k in ("t0", "t1", "t2"):  # α_k0 > 0: every task sees column 0
        assert np.abs(after[k] - before[k]).max() > 1e-4


def test_cross_stitch_with_self_weight_one_keeps_columns_separate(trunk_model, batch):
    model = trunk_model({**ALL["cross_stitch"], "self_weight": 1.0}, 2)
    x = batch(rows=8, seed=5)
    before = {k: np.asarray(v) for k, v in model(x).items()}
    column = model.get_layer("level1_column_t0")
    column.set_weights([w + 0.5 for w in column.get_weights()])
    after = {k: np.asarray(v) for k, v in model(x).items()}
    assert np.abs(after["t0"] - before["t0"]).max() > 1e-3
    np.testing.assert_array_equal(after["t1"], before["t1"])


def test_conv_experts_over_images(trunk_model, tasks):
    import keras
    from mtkit_experts.mmoe import MMoE

    from mtkit.registry import get_registry

    params = MMoE.Params.model_validate({
        "experts": 2, "expert": {"type": "conv", "filters": [4], "batch_norm": False}})
    assert get_registry().get("trunk", "mmoe") is MMoE
    inputs = {"image": keras.Input((8, 8, 1), name="image")}
    out = MMoE(params).build(dict(inputs), tasks(2))
    model = keras.Model(inputs, out)
    y = model({"image": np.zeros((2, 8, 8, 1), "float32")})
    assert tuple(y["t0"].shape) == (2, 4 * 4 * 4)  # flattened conv features
