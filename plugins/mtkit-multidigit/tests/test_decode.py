"""The multi-digit number reader in isolation (numpy only), and through mtkit's runtime."""

from __future__ import annotations

import numpy as np
import pytest
from mtkit_multidigit import sequences
from mtkit_multidigit.decode import decode_digit_sequence

from mtkit.runtime.decode import decode
from mtkit.runtime.metadata import ModelMeta, TaskMeta

SPEC = {**sequences.sequence_decode_spec(3, 5), "digits": ["digit1", "digit2", "digit3"],
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


def test_matches_the_reference_decoder():
    rng = np.random.default_rng(0)
    raw = {"length": rng.random((50, 5)), **{f"digit{i}": rng.random((50, 10)) for i in (1, 2, 3)}}
    ours = [o["number"] for o in decode_digit_sequence(SPEC, raw)]
    assert ours == sequences.decode_numbers(SPEC, raw)


def test_the_runtime_finds_the_decoder_named_in_the_spec():
    tasks = {"length": TaskMeta("length", "classification", "categorical", None,
                                {"type": "categorical", "classes": 5})}
    tasks.update({d: TaskMeta(d, "classification", "categorical", None, {"type": "categorical"})
                  for d in SPEC["digits"]})
    meta = ModelMeta(version="0", precision="fp32", inputs={}, tasks=tasks, decode=SPEC)
    raw = {"length": onehot([1], 5), **{d: onehot([4], 10) for d in SPEC["digits"]}}
    (row,) = decode(meta, raw)
    assert row["sequence"]["number"] == "4" and row["digit2"]["class"] == 4
