"""The one session factory: measured defaults, user knobs, the saved optimised model."""

from __future__ import annotations

import os

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from mtkit.errors import MtkitError
from mtkit.runtime import Predictor
from mtkit.runtime.session import (
    SMALL_MODEL_BYTES,
    SessionConfig,
    available_cores,
    open_session,
    run_batched,
    session_options,
)
from tests.export.fixtures import features


def test_available_cores_counts_only_the_cpus_this_process_may_use():
    cores = available_cores()
    assert 1 <= cores <= len(os.sched_getaffinity(0))


def test_defaults_use_the_available_cores_without_spinning_at_full_optimisation(
        exported_model, tmp_path):
    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * SMALL_MODEL_BYTES)  # only its size is read here
    opts = session_options(ort, SessionConfig(), big)
    assert opts.intra_op_num_threads == available_cores()
    # a small model: one thread (its ops are shorter than waking a second worker)
    assert exported_model.stat().st_size < SMALL_MODEL_BYTES
    assert session_options(ort, SessionConfig(), exported_model).intra_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    custom = session_options(ort, SessionConfig(threads=1, spinning=True, optimization="basic"))
    assert custom.intra_op_num_threads == 1
    assert custom.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert custom.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC


@pytest.mark.parametrize("kwargs, words", [({"threads": 0}, "threads must be at least 1"),
                                           ({"optimization": "max"}, "optimization 'max'")])
def test_bad_knobs_are_refused_clearly(kwargs, words):
    with pytest.raises(MtkitError, match=words):
        SessionConfig(**kwargs)


def test_knobs_change_speed_settings_not_results(exported_model):
    x = features(40, seed=3)
    base = Predictor(exported_model, provider="cpu").run(x)
    tuned = Predictor(exported_model, provider="cpu", threads=1, batch_size=7,
                      session=SessionConfig(spinning=True, optimization="none")).run(x)
    assert tuned.keys() == base.keys()
    for k in base:
        np.testing.assert_allclose(tuned[k], base[k], rtol=1e-5, atol=1e-6)


def test_saved_optimised_model_is_written_once_and_reused(exported_model, tmp_path):
    cache = tmp_path / "cache" / "model.optimized.onnx"
    config = SessionConfig(optimized_model=cache)
    x = features(5, seed=4)
    first = Predictor(exported_model, provider="cpu", session=config)
    assert cache.is_file() and not list(cache.parent.glob(".*.tmp"))
    stamp = cache.stat().st_mtime_ns
    second = Predictor(exported_model, provider="cpu", session=config)  # loads the saved graph
    assert cache.stat().st_mtime_ns == stamp
    assert second.tasks == first.tasks  # the mtkit metadata survives optimisation
    for k, v in first.run(x).items():
        np.testing.assert_allclose(second.run(x)[k], v, rtol=1e-6, atol=1e-7)
    # onnxruntime rewrote the graph (fused nodes), so the saved file is not a plain copy
    assert len(onnx.load(str(cache)).graph.node) < len(onnx.load(str(exported_model)).graph.node)


def test_run_batched_matches_one_call(exported_model):
    session = open_session(exported_model, "cpu")
    x = {"features": features(23, seed=5)}
    whole = run_batched(session, x, 100)
    sliced = run_batched(session, x, 4)
    for k in whole:
        np.testing.assert_allclose(sliced[k], whole[k], rtol=1e-6, atol=1e-7)
        assert len(sliced[k]) == 23
