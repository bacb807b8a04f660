"""Expert utilisation (``Trunk.gates`` → diagnostics ``experts``): the recorded mean gate
weights equal a numpy softmax over the same rows and the trained weights, computed here
independently; every gated trunk's declared gates exist with one column per expert."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mtkit
from mtkit.tf_import import import_tensorflow

ROOT = Path(__file__).resolve().parents[3]
EXPERT = {"type": "mlp", "units": [4]}
CONFIG = {
    "data": {"dataset": "synthetic", "rows": 160, "features": 5},
    "trunk": {"type": "mmoe", "experts": 3, "expert": EXPERT, "gate_activation": "tanh",
              "gates": {"b": {"hidden": [4]}}},
    "tasks": {"a": {"head": "classification", "classes": 3}, "b": {"head": "regression"}},
    "train": {"epochs": 2, "batch_size": 40, "learning_rate": 0.05, "seed": 0,
              "diagnostics_rows": 32, "checkpoint": False},
}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_recorded_gate_weights_equal_a_numpy_softmax(tmp_path):
    from mtkit.data import sample
    from mtkit.dataprep import prepare
    from mtkit.training.epoch_data import model_view

    result = mtkit.train(CONFIG, out=tmp_path / "run", quiet=True)
    gates = {g["layer"]: g for g in result.history[-1]["diagnostics"]["experts"]}
    assert set(gates) == {"gate_a", "gate_b"}
    assert gates["gate_a"]["task"] == "a"
    # the same 32 rows the callback samples; the final weights (after the last epoch)
    plan = mtkit.plan(CONFIG)
    splits, specs = prepare(plan)
    cfg = plan.config.train
    rows = sample(model_view(plan, sample(splits.train, cfg.train_metrics_rows, cfg.seed), specs),
                  32, cfg.seed + 17)
    x = np.concatenate([v.reshape(len(v), -1) for v in rows.inputs.values()], 1).astype(np.float64)
    trunk = result.model.get_layer("trunk")
    w, b = (np.asarray(v, np.float64) for v in trunk.get_layer("gate_a").get_weights())
    want_a = _softmax(x @ w + b).mean(axis=0)
    w1, b1 = (np.asarray(v, np.float64) for v in trunk.get_layer("gate_b_hidden0").get_weights())
    w2, b2 = (np.asarray(v, np.float64) for v in trunk.get_layer("gate_b").get_weights())
    want_b = _softmax(np.tanh(x @ w1 + b1) @ w2 + b2).mean(axis=0)
    for layer, want in (("gate_a", want_a), ("gate_b", want_b)):
        got = np.array(list(gates[layer]["experts"].values()))
        assert list(gates[layer]["experts"]) == ["expert0", "expert1", "expert2"]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert not np.allclose(want_a, 1 / 3, atol=1e-3)  # the gates learned something to measure
    # the history of every epoch holds them, and `mtkit report RUN` draws the panel
    assert all("experts" in e["diagnostics"] for e in result.history)
    from mtkit.comparison.diagnostics_plot import plot_run

    assert plot_run(tmp_path / "run").stat().st_size > 1000


@pytest.mark.parametrize("trunk,n_gates", [
    ({"type": "omoe", "experts": 2, "expert": EXPERT}, 3),
    ({"type": "cgc", "shared_experts": 2, "task_experts": 1, "expert": EXPERT}, 3),
    ({"type": "ple", "levels": 2, "shared_experts": 1, "task_experts": 2, "expert": EXPERT}, 7),
])
def test_declared_gates_exist_with_one_column_per_expert(trunk, n_gates, trunk_model, tasks,
                                                         batch):
    from mtkit.registry import get_registry

    import_tensorflow()
    cls = get_registry().get("trunk", trunk["type"])
    plugin = cls(cls.Params.model_validate({k: v for k, v in trunk.items() if k != "type"}))
    declared = plugin.gates(tasks(3))
    assert len(declared) == n_gates
    model = trunk_model(trunk, 3)
    import keras

    probe = keras.Model(model.inputs, [model.get_layer(g.layer).output for g in declared])
    outs = probe(batch())
    for g, w in zip(declared, outs, strict=True):
        w = np.asarray(w)
        assert w.shape == (16, len(g.experts)), g
        np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-5)
        if g.task is not None and trunk["type"] in ("cgc", "ple"):  # own experts, then shared
            own = [e for e in g.experts if "_of_" in e]
            assert own and all(e.endswith(f"_of_{g.task}") for e in own), g


def test_a_raw_column_table_reports_expert_use(tmp_path):
    result = mtkit.train(ROOT / "configs" / "recommender.yaml", out=tmp_path / "rec", quiet=True,
                         overrides=["train.epochs=1", "train.checkpoint=false",
                                    "train.diagnostics_rows=64"])
    (diag,) = [e["diagnostics"] for e in result.history]
    assert [g["layer"] for g in diag["experts"]] == ["gate_click", "gate_dwell", "gate_rating"]
    for g in diag["experts"]:
        assert sum(g["experts"].values()) == pytest.approx(1.0, rel=1e-5)


def test_compare_reports_expert_utilisation(tmp_path):
    import json

    cfg = {**CONFIG, "train": {**CONFIG["train"], "epochs": 1}}
    result = mtkit.compare(cfg, ["sum"], [0], tmp_path / "cmp")
    history = json.loads((tmp_path / "cmp" / "runs" / "mtl-sum-seed0" / "history.json")
                         .read_text())["epochs"]
    recorded = history[-1]["diagnostics"]["experts"]
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "## Expert utilisation" in md
    for g in recorded:  # one table row per gate, the recorded weights to 3 decimals
        cells = " | ".join(f"{v:.3f}" for v in g["experts"].values())
        assert f"| {g['layer']} ({g['task']}) | {cells} |" in md
    from mtkit.comparison.report import expert_usage

    assert list(expert_usage(result.report)) == ["mtl-sum"]  # baselines are not mixtures
