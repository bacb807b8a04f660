"""Bad input to export / predict / evaluate, each through the real CLI: exit 2, one clear
paragraph naming the culprit, no traceback, nothing written."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from mtkit import rundir
from tests.conftest import assert_clean_error, run_cli
from tests.export.fixtures import copy_run, features


def test_run_directory_without_model(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "run")
    (run / rundir.MODEL).unlink()
    proc = run_cli("export", str(run), "--onnx")
    assert_clean_error(proc, str(run), "model.keras is missing")
    assert not (run / "model.onnx").exists()


def test_not_a_run_directory(tmp_path):
    assert_clean_error(run_cli("export", str(tmp_path), "--onnx"), "not an mtkit run directory")
    assert_clean_error(run_cli("export", str(tmp_path / "nope"), "--onnx"), "does not exist")


def test_corrupt_keras_file(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "run")
    (run / rundir.MODEL).write_bytes(b"this is not a zip archive" * 10)
    proc = run_cli("export", str(run), "--onnx")
    assert_clean_error(proc, "model.keras", "corrupt")
    assert not (run / "model.onnx").exists()


def test_opset_above_18_is_refused(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "run")
    proc = run_cli("export", str(run), "--onnx", "--opset", "19")
    assert_clean_error(proc, "--opset 19", "up to 18")
    assert not (run / "model.onnx").exists()


def test_fp16_and_int8_together_are_refused(trained_run):
    assert_clean_error(run_cli("export", str(trained_run), "--fp16", "--int8"), "--fp16 and --int8")


def test_predict_on_a_file_that_is_not_onnx(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_text("definitely not protobuf")
    np.savez(tmp_path / "x.npz", features=features())
    assert_clean_error(run_cli("predict", str(bad), str(tmp_path / "x.npz")),
                       str(bad), "cannot be loaded as an ONNX model")


def test_predict_on_onnx_without_mtkit_metadata(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["features"], ["y"])], "plain",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "plain.onnx"
    onnx.save(model, str(path))
    np.savez(tmp_path / "x.npz", features=features())
    assert_clean_error(run_cli("predict", str(path), str(tmp_path / "x.npz")),
                       str(path), "no mtkit metadata", "mtkit export")


def test_predict_with_wrong_shape(exported_model, tmp_path):
    np.savez(tmp_path / "x.npz", features=np.zeros((4, 5), np.float32))
    out = tmp_path / "preds.jsonl"
    proc = run_cli("predict", str(exported_model), str(tmp_path / "x.npz"), "--out", str(out))
    assert_clean_error(proc, "input 'features'", "(4, 5)", "(batch, 8)")
    assert not out.exists()


def test_predict_with_wrong_dtype(exported_model, tmp_path):
    np.savez(tmp_path / "x.npz", features=np.full((4, 8), "a"))
    assert_clean_error(run_cli("predict", str(exported_model), str(tmp_path / "x.npz")),
                       "input 'features'", "dtype <U1")


def test_predict_with_missing_input_array(exported_model, tmp_path):
    np.savez(tmp_path / "x.npz", image=features(), other=features())
    assert_clean_error(run_cli("predict", str(exported_model), str(tmp_path / "x.npz")),
                       "'features'", "image, other")


def test_evaluate_run_that_was_not_exported(trained_run):
    assert_clean_error(run_cli("evaluate", str(trained_run)), "has no model.onnx",
                       "mtkit export")
