"""The multidigit dataset: split by source image, labels, determinism, metrics (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest
from mtkit_multidigit import sequences
from mtkit_multidigit.multidigit import DIGIT_SIZE, Multidigit, MultidigitParams, load_sources

from mtkit.errors import ConfigError
from mtkit.plugin_types import TaskInfo


def tasks(heads: int = 5, length_classes: int = 7) -> list[TaskInfo]:
    out = [TaskInfo("length", "classification", {"classes": length_classes}, output_type="categorical")]
    out += [TaskInfo(f"digit{i}", "classification", {"classes": 10}, output_type="categorical")
            for i in range(1, heads + 1)]
    return out


def load(seed: int = 0, heads: int = 5, **params):
    ds = Multidigit(MultidigitParams(**{"train_size": 300, "val_size": 60, "test_size": 80,
                                        "max_digits": heads, **params}))
    return ds, ds.load(tasks(heads), seed)


def test_no_source_image_is_in_two_splits():
    ds, splits = load()
    pools = {k: set(v.tolist()) for k, v in ds.sources.items()}
    assert not pools["train"] & pools["val"]
    assert not pools["train"] & pools["test"]
    assert not pools["val"] & pools["test"]
    assert len(pools["train"]) + len(pools["val"]) + len(pools["test"]) == 1797
    # Every digit actually drawn in a split's images comes from that split's pool, pixel for pixel.
    images, _ = load_sources()
    for split in ("train", "val", "test"):
        ids = ds.source_ids[split]
        used = set(ids[ids >= 0].tolist())
        assert used <= pools[split], split
        canvas = getattr(splits, split).inputs["image"]
        row = int(np.argmax((ids >= 0).sum(axis=1)))  # a longest sequence of this split
        n = int((ids[row] >= 0).sum())
        pad = 2
        left = pad + DIGIT_SIZE * (5 - n) // 2
        for pos in range(n):
            patch = canvas[row, pad:pad + 8, left + 8 * pos:left + 8 * pos + 8]
            np.testing.assert_array_equal(patch, images[ids[row, pos]])


def test_labels_follow_the_drawn_digits_and_absent_positions_are_missing():
    ds, splits = load(min_digits=2, max_digits=4, heads=4)
    _, targets = load_sources()
    labels, ids = splits.test.labels, ds.source_ids["test"]
    lengths = (ids >= 0).sum(axis=1)
    np.testing.assert_array_equal(labels["length"], lengths)
    assert lengths.min() >= 2 and lengths.max() <= 4
    assert set(np.unique(lengths)) == {2, 3, 4}
    for pos in range(4):
        y = labels[f"digit{pos + 1}"]
        absent = lengths <= pos
        assert (y[absent] == -1).all()  # masked, never an 11th class
        np.testing.assert_array_equal(y[~absent], targets[ids[~absent, pos]])
    assert splits.test.inputs["image"].shape == (80, 12, 8 * 4 + 4)


def test_deterministic_by_seed_and_sizes_configurable():
    _, a = load(seed=3, train_size=50, val_size=7, test_size=9, padding=0)
    _, b = load(seed=3, train_size=50, val_size=7, test_size=9, padding=0)
    _, c = load(seed=4, train_size=50, val_size=7, test_size=9, padding=0)
    np.testing.assert_array_equal(a.train.inputs["image"], b.train.inputs["image"])
    np.testing.assert_array_equal(a.test.labels["digit1"], b.test.labels["digit1"])
    assert not np.array_equal(a.train.inputs["image"], c.train.inputs["image"])
    assert (len(a.train), len(a.val), len(a.test)) == (50, 7, 9)
    assert a.train.inputs["image"].shape[1:] == (8, 40)
    assert 0.0 <= a.train.inputs["image"].min() and a.train.inputs["image"].max() <= 1.0


def test_sequence_and_per_digit_accuracy():
    labels = {
        "length": np.array([2, 1, 3, 2]),
        "digit1": np.array([4, 7, 1, 0]),
        "digit2": np.array([5, -1, 2, 9]),
        "digit3": np.array([-1, -1, 3, -1]),
    }

    def onehot(idx, k):
        return np.eye(k)[np.asarray(idx)]

    preds = {
        "length": onehot([2, 1, 3, 3], 5),       # row 3: wrong length
        "digit1": onehot([4, 7, 1, 0], 10),
        "digit2": onehot([5, 3, 2, 9], 10),      # row 1: unlabelled position, ignored
        "digit3": onehot([0, 0, 8, 0], 10),      # row 2: wrong digit
    }
    m = sequences.sequence_metrics(labels, preds)
    assert m["sequence_accuracy"] == pytest.approx(2 / 4)  # rows 0 and 1
    assert m["per_digit_accuracy"] == pytest.approx(7 / 8)
    assert m["length_accuracy"] == pytest.approx(3 / 4)
    assert m["sequences"] == 4


def test_decode_spec_and_reference_decoder():
    ds, _ = load()
    spec = ds.decode_spec()
    assert spec == {"type": "digit_sequence", "name": "sequence",
                    "decoder": "mtkit_multidigit.decode:decode_digit_sequence", "length": "length",
                    "digits": ["digit1", "digit2", "digit3", "digit4", "digit5"], "overflow_class": 6}
    eye = np.eye(10)
    outputs = {"length": np.eye(7)[[3, 1, 6]]}
    outputs.update({f"digit{i}": eye[[i, 9, 0]] for i in range(1, 6)})
    assert sequences.decode_numbers(spec, outputs) == ["123", "9", "00000+"]


@pytest.mark.parametrize("kwargs, field", [
    ({"heads": 3, "max_digits": 5}, "data.max_digits"),      # above what the heads support
    ({"heads": 5, "max_digits": 3}, "data.max_digits"),      # heads that never get a label
    ({"heads": 5, "length_classes": 4}, "tasks.length.classes"),
])
def test_task_layout_errors_name_the_field(kwargs, field):
    heads = kwargs.pop("heads")
    length_classes = kwargs.pop("length_classes", 7)
    ds = Multidigit(MultidigitParams(train_size=10, val_size=5, test_size=5, **kwargs))
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        ds.load(tasks(heads, length_classes), 0)


def test_unknown_task_is_refused():
    extra = [*tasks(5), TaskInfo("colour", "classification", {"classes": 3}, output_type="categorical")]
    with pytest.raises(ConfigError, match="'colour'"):
        Multidigit(MultidigitParams(train_size=10)).load(extra, 0)


@pytest.mark.parametrize("value", [0, 6])
def test_max_digits_out_of_range_is_a_param_error(value):
    with pytest.raises(ValueError, match="max_digits must be between 1 and 5"):
        MultidigitParams(max_digits=value)
