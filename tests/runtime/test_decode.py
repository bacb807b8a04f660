"""Decoders in isolation (numpy only): found through the spec, refused from unknown packages."""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.errors import MtkitError
from mtkit.runtime.decode import decode
from mtkit.runtime.metadata import ModelMeta, TaskMeta, parse


def test_builtin_heads_name_their_decoder_and_the_runtime_uses_it():
    from mtkit.builtin.heads.classification import ClassificationHead

    head = ClassificationHead(ClassificationHead.Params(classes=3, labels=["a", "b", "c"]))
    spec = head.decode_spec()
    assert spec["decoder"] == "mtkit.builtin.heads._decode:categorical"
    meta = ModelMeta(version="0", precision="fp32", inputs={},
                     tasks={"t": TaskMeta("t", "classification", "categorical", None, spec)})
    (row,) = decode(meta, {"t": np.array([[0.1, 0.7, 0.2]], np.float32)})
    assert row["t"] == {"class": 1, "label": "b", "probability": pytest.approx(0.7)}


def test_a_spec_without_decoder_from_an_older_export_still_decodes_builtin_types():
    meta = ModelMeta(version="0", precision="fp32", inputs={},
                     tasks={"y": TaskMeta("y", "regression", "regression", None,
                                          {"type": "regression"})})
    (row,) = decode(meta, {"y": np.array([[0.25]], np.float32)})
    assert row["y"] == {"value": 0.25}


def test_a_decoder_outside_mtkit_and_its_plugins_is_not_imported():
    meta = ModelMeta(version="0", precision="fp32", inputs={},
                     tasks={"t": TaskMeta("t", "x", "x", None,
                                          {"type": "x", "decoder": "json:loads"})})
    with pytest.warns(UserWarning, match="not from mtkit or an installed mtkit plugin"):
        (row,) = decode(meta, {"t": np.array([[1.0]], np.float32)})
    assert row["t"] == {"raw": [1.0]}


def test_unknown_head_types_pass_raw_values_through():
    meta = ModelMeta(version="0", precision="fp32", inputs={},
                     tasks={"box": TaskMeta("box", "bbox", "bbox", None, {"type": "bbox"})})
    (row,) = decode(meta, {"box": np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)})
    assert row["box"] == {"raw": [1.0, 2.0, 3.0, 4.0]}


def test_metadata_errors_name_the_problem():
    with pytest.raises(MtkitError, match="no mtkit metadata"):
        parse({"producer": "x"}, "m.onnx")
    with pytest.raises(MtkitError, match="format '9'"):
        parse({"mtkit.format": "9"}, "m.onnx")
    with pytest.raises(MtkitError, match="not valid JSON"):
        parse({"mtkit.format": "1", "mtkit.inputs": "{", "mtkit.tasks": "[]"}, "m.onnx")
