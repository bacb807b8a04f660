"""`mtkit.runtime.Predictor` on a real exported model: metadata, decoding, batching, providers."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from mtkit.errors import MtkitError
from mtkit.runtime import Predictor, providers
from tests.export.fixtures import TRAIN_CONFIG, features


def test_metadata_round_trip_matches_run_json(trained_run, exported_model):
    info = json.loads((trained_run / "run.json").read_text())
    p = Predictor(exported_model)
    assert p.inputs == info["inputs"]
    assert p.tasks == list(TRAIN_CONFIG["tasks"])
    for name, task in info["tasks"].items():
        meta = p.meta.tasks[name]
        assert (meta.head, meta.output_type, meta.decode) == (task["head"], task["output_type"],
                                                             task["decode"])
    assert p.meta.tasks["segment"].labels == ["low", "mid", "high"]
    assert p.meta.precision == "fp32" and p.meta.dataset == "synthetic"


def test_decoded_predictions_follow_the_raw_outputs(exported_model):
    p = Predictor(exported_model, provider="cpu")
    x = features(20)
    raw = p.run(x)
    rows = p.predict({"features": x})
    assert len(rows) == 20
    for i, row in enumerate(rows):
        seg = row["segment"]
        assert seg["class"] == int(np.argmax(raw["segment"][i]))
        assert seg["label"] == ["low", "mid", "high"][seg["class"]]
        assert seg["probability"] == pytest.approx(float(raw["segment"][i].max()))
        churn = row["churn"]
        assert churn["probability"] == pytest.approx(float(raw["churn"][i, 0]))
        assert churn["class"] == int(raw["churn"][i, 0] >= 0.5)
        tags = row["tags"]
        assert tags["classes"] == [int(j) for j in np.flatnonzero(raw["tags"][i] >= 0.5)]
        assert len(tags["probabilities"]) == 3
        assert row["risk"]["value"] == pytest.approx(float(raw["risk"][i, 0]))


def test_large_inputs_are_batched_with_identical_results(exported_model):
    x = features(203, seed=3)
    whole = Predictor(exported_model, batch_size=256).run(x)
    small = Predictor(exported_model, batch_size=16, threads=1).run(x)
    for task in whole:
        assert whole[task].shape[0] == 203
        np.testing.assert_allclose(small[task], whole[task], rtol=1e-6, atol=1e-7)


def test_float64_and_int_inputs_are_cast_but_strings_refused(exported_model):
    p = Predictor(exported_model)
    x = features(4)
    np.testing.assert_allclose(p.run(x.astype(np.float64))["risk"], p.run(x)["risk"], rtol=1e-6)
    assert p.run(np.ones((2, 8), np.int64))["segment"].shape == (2, 3)
    with pytest.raises(MtkitError, match="dtype"):
        p.run(np.full((2, 8), "x"))
    with pytest.raises(MtkitError, match="without the batch axis"):
        p.run(x[0])
    with pytest.raises(MtkitError, match="unknown 'extra'"):
        p.run({"features": x, "extra": x})


def test_auto_provider_uses_cpu_when_cuda_cannot_work(exported_model, capfd):
    problem = providers.cuda_problem(ort)
    p = Predictor(exported_model, provider="auto")
    if problem is None:
        pytest.skip("a usable GPU is present; the CPU fallback cannot be observed here")
    assert p.provider == "CPUExecutionProvider"
    captured = capfd.readouterr()
    assert "CUDA" not in captured.err + captured.out


def test_cuda_provider_on_a_machine_without_it_is_a_clear_error(exported_model):
    if providers.cuda_problem(ort) is None:
        pytest.skip("a usable GPU is present")
    with pytest.raises(MtkitError, match=r"provider='cuda' cannot be used: .*onnxruntime-gpu"):
        Predictor(exported_model, provider="cuda")
    with pytest.raises(MtkitError, match="unknown"):
        Predictor(exported_model, provider="tpu")
