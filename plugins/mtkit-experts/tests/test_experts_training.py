"""Training through mtkit with each gated trunk: every task's loss falls; the saved model reloads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import mtkit
from mtkit.api import plan as make_plan
from mtkit.assembly import build_model
from mtkit.dataprep import prepare
from mtkit.tf_import import import_tensorflow
from mtkit.training.evaluate import evaluate_split

ROOT = Path(__file__).resolve().parents[3]
EXPERT = {"type": "mlp", "units": [16]}
TRUNKS = {
    "mmoe": {"type": "mmoe", "experts": 3, "expert": EXPERT},
    "omoe": {"type": "omoe", "experts": 3, "expert": EXPERT},
    "cgc": {"type": "cgc", "expert": EXPERT},
    "ple": {"type": "ple", "levels": 2, "expert": EXPERT, "gates": {"risk": {"hidden": [4]}}},
    "cross_stitch": {"type": "cross_stitch", "levels": 2, "expert": EXPERT},
}


def config(trunk: dict) -> dict:
    return {
        "data": {"dataset": "synthetic", "rows": 800, "features": 8, "missing": {"risk": 0.5}},
        "trunk": trunk,
        "tasks": {"segment": {"head": "classification", "classes": 3},
                  "churn": {"head": "binary"}, "risk": {"head": "regression"}},
        "train": {"epochs": 4, "batch_size": 32, "learning_rate": 0.01, "checkpoint": False},
    }


@pytest.mark.parametrize("kind", list(TRUNKS))
def test_training_lowers_every_task_loss_and_the_model_reloads(kind, tmp_path):
    import_tensorflow()
    import keras

    cfg = config(TRUNKS[kind])
    plan = make_plan(cfg)
    splits, specs = prepare(plan)
    keras.utils.set_random_seed(0)
    untrained = evaluate_split(plan, build_model(plan, specs).model, splits.test)["tasks"]

    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    trained = result.metrics["tasks"]
    first, last = result.history[0]["train"], result.history[-1]["train"]
    for task in ("segment", "churn", "risk"):
        assert trained[task]["loss"] < untrained[task]["loss"], (task, trained, untrained)
        assert last[task]["loss"] < first[task]["loss"], (task, first, last)
    assert trained["risk"]["labelled"] < trained["churn"]["labelled"]  # missing labels masked

    # model.keras holds only built-in Keras objects: it reloads without this package's code
    reloaded = keras.models.load_model(result.run_dir / "model.keras")
    x = {k: v[:16] for k, v in splits.test.inputs.items()}
    want, got = result.model(x), reloaded(x)
    for task in want:
        np.testing.assert_allclose(np.asarray(got[task]), np.asarray(want[task]), rtol=1e-6, atol=1e-6)


def test_recommender_example_trains(tmp_path):
    result = mtkit.train(ROOT / "configs" / "recommender.yaml", out=tmp_path / "rec", quiet=True,
                         overrides=["train.epochs=3", "train.checkpoint=false"])
    first, last = result.history[0]["train"], result.history[-1]["train"]
    for task in ("click", "dwell", "rating"):
        assert last[task]["loss"] < first[task]["loss"], task
    tasks = result.metrics["tasks"]
    assert 0 < tasks["rating"]["labelled"] < 0.5 * tasks["click"]["labelled"]


def test_committed_recommender_csv_matches_its_generator():
    path = ROOT / "configs" / "data" / "make_recommender_csv.py"
    spec = importlib.util.spec_from_file_location("make_recommender_csv", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "configs" / "data" / "recommender.csv").read_text(encoding="utf-8")
    assert committed == gen.generate()
