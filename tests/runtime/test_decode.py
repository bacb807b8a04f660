"""Decoders in isolation (numpy only), including the multi-digit sequence decoder."""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.errors import MtkitError
from mtkit.runtime.decode import decode, decode_digit_sequence
from mtkit.runtime.metadata import ModelMeta, TaskMeta, parse

SPEC = {"type": "digit_sequence", "length": "length", "digits": ["digit1", "digit2", "digit3"],
        "overflow_class": 4}


def onehot(idx, classes, p=0.9):
    out = np.full((len(idx), classes), (1 - p) / (classes - 1), np.float32)
    out[np.arange(len(idx)), idx] = p
    return out


def test_digit_sequence_reads_numbers_from_length_and_digit_heads():
    raw = {"length": onehot([2, 3, 0, 4, 1], 5),
           "digit1": onehot([7, 1, 5, 9, 0], 10),
           "digit2": onehot([3, 0, 5, 8, 2], 10),
           "digit3": onehot([6, 4, 5, 7, 3], 10)}
    out = decode_digit_sequence(SPEC, raw)
    assert [o["number"] for o in out] == ["73", "104", "", "987+", "0"]
    assert [o["overflow"] for o in out] == [False, False, False, True, False]
    assert out[0]["probability"] == pytest.approx(0.9 ** 3, rel=1e-5)  # length + 2 digits


def test_matches_the_multidigit_plugins_reference_decoder():
    sequences = pytest.importorskip("mtkit_multidigit.sequences")
    rng = np.random.default_rng(0)
    raw = {"length": rng.random((50, 5)), **{f"digit{i}": rng.random((50, 10)) for i in (1, 2, 3)}}
    ours = [o["number"] for o in decode_digit_sequence(SPEC, raw)]
    assert ours == sequences.decode_numbers(SPEC, raw)


def test_decode_adds_the_dataset_decoder_beside_the_tasks():
    tasks = {"length": TaskMeta("length", "classification", "categorical", None,
                                {"type": "categorical", "classes": 5})}
    tasks.update({d: TaskMeta(d, "classification", "categorical", None, {"type": "categorical"})
                  for d in SPEC["digits"]})
    meta = ModelMeta(version="0", precision="fp32", inputs={}, tasks=tasks, decode=SPEC)
    raw = {"length": onehot([1], 5), **{d: onehot([4], 10) for d in SPEC["digits"]}}
    (row,) = decode(meta, raw)
    assert row["sequence"]["number"] == "4" and row["digit2"]["class"] == 4


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
