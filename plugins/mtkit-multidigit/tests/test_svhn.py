"""The svhn dataset on a tiny fixture written in the real format 1 layout (h5py references)."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from mtkit_multidigit.digitstruct import read_digitstruct
from mtkit_multidigit.svhn import Svhn, SvhnParams, crop_box
from multidigit_helpers import assert_clean_error, run_mtkit
from PIL import Image
from svhn_fixture import write_digitstruct

from mtkit.errors import DataError
from mtkit.plugin_types import TaskInfo


def three_head_tasks() -> list[TaskInfo]:
    out = [TaskInfo("length", "classification", {"classes": 5}, output_type="categorical")]
    return out + [TaskInfo(f"digit{i}", "classification", {"classes": 10}, output_type="categorical")
                  for i in (1, 2, 3)]


def svhn_config(path: Path, **data) -> dict:
    return {
        "data": {"dataset": "svhn", "path": str(path), "val_fraction": 0.25, **data},
        "trunk": {"type": "conv", "filters": [8], "batch_norm": False, "dense": [16]},
        "tasks": {"length": {"head": "classification", "classes": 5},
                  **{f"digit{i}": {"head": "classification", "classes": 10} for i in (1, 2, 3)}},
        "train": {"epochs": 1, "batch_size": 8, "checkpoint": False},
    }


def test_reads_scalars_and_references_and_maps_label_10_to_0(tmp_path):
    mat = write_digitstruct(tmp_path / "digitStruct.mat", [
        ("1.png", [{"label": 10, "left": 5, "top": 6, "width": 7, "height": 8}]),
        ("22.png", [{"label": 1, "left": 1, "top": 2, "width": 3, "height": 4},
                    {"label": 9, "left": 11, "top": 12, "width": 13, "height": 14}]),
    ])
    assert open(mat, "rb").read(10) == b"MATLAB 7.3"  # the real files' user-block header
    a, b = read_digitstruct(mat)
    assert (a.name, a.digits, a.boxes) == ("1.png", (0,), ((5.0, 6.0, 7.0, 8.0),))
    assert (b.name, b.digits) == ("22.png", (1, 9))
    assert b.boxes == ((1.0, 2.0, 3.0, 4.0), (11.0, 12.0, 13.0, 14.0))
    assert [x.name for x in read_digitstruct(mat, limit=1)] == ["1.png"]


def test_load_crops_resizes_and_labels(svhn_root):
    from svhn_fixture import make_folder

    ds = Svhn(SvhnParams(path=str(svhn_root), val_fraction=0.25))
    splits = ds.load(three_head_tasks(), seed=0)
    assert splits.train.inputs["image"].shape == (18, 64, 64, 3)
    assert splits.train.inputs["image"].dtype == np.uint8
    assert splits.val.inputs["image"].shape == (6, 54, 54, 3)
    assert splits.test.inputs["image"].shape == (8, 54, 54, 3)
    means = splits.test.inputs["image"].mean(axis=(1, 2, 3))
    np.testing.assert_allclose(means, 0.0, atol=1e-5)  # each image mean-subtracted
    numbers = make_folder(svhn_root.parent / "again", 8, seed=1)  # same seed as test/
    expect = [len(n) for n in numbers]
    np.testing.assert_array_equal(splits.test.labels["length"], expect)
    np.testing.assert_array_equal(splits.test.labels["digit1"], [n[0] for n in numbers])
    np.testing.assert_array_equal(splits.test.labels["digit3"],
                                  [n[2] if len(n) > 2 else -1 for n in numbers])


def test_crop_is_the_digit_box_expanded_by_30_percent(tmp_path):
    img = np.zeros((100, 200, 3), dtype=np.uint8)
    img[30:70, 60:80] = 255  # one digit box: 20 wide, 40 high
    img[30:70, 80:100] = 255  # a second one right after it
    (tmp_path / "train").mkdir()
    Image.fromarray(img).save(tmp_path / "train" / "1.png")
    boxes = [{"label": 3, "left": 60, "top": 30, "width": 20, "height": 40},
             {"label": 4, "left": 80, "top": 30, "width": 20, "height": 40}]
    write_digitstruct(tmp_path / "train" / "digitStruct.mat", [("1.png", boxes)])
    ann = read_digitstruct(tmp_path / "train" / "digitStruct.mat")[0]
    assert crop_box(ann, 0.3) == (54, 24, 106, 76)  # 40x40 grown by 30% = 52x52
    from mtkit_multidigit.svhn import load_image

    x = load_image(tmp_path / "train", ann, SvhnParams(path=str(tmp_path)), Path("m"))
    assert x.shape == (64, 64, 3)
    bright = np.flatnonzero(x[32, :, 0] > 127)
    assert 5 <= bright.min() <= 8 and 55 <= bright.max() <= 58  # 64 / 1.3 ≈ 49 px wide


def test_train_time_crops_are_random_per_example_and_seeded(svhn_root):
    import tensorflow as tf

    ds = Svhn(SvhnParams(path=str(svhn_root)))
    x = np.stack([np.arange(64 * 64 * 3, dtype=np.int64).reshape(64, 64, 3) % 251] * 6).astype(np.uint8)
    seed = tf.constant([1, 2], tf.int64)
    a = ds.augment({"image": tf.constant(x)}, seed)["image"].numpy()
    b = ds.augment({"image": tf.constant(x)}, seed)["image"].numpy()
    c = ds.augment({"image": tf.constant(x)}, tf.constant([1, 3], tf.int64))["image"].numpy()
    assert a.shape == (6, 54, 54, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len({a[i].tobytes() for i in range(6)}) > 1  # each example its own window
    # Every crop is an exact 54x54 window of the source image (after normalisation).
    src = x[0].astype(np.float32) / 255.0
    found = False
    for top in range(11):
        for left in range(11):
            win = src[top:top + 54, left:left + 54]
            if np.allclose(win - win.mean(), a[0], atol=1e-5):
                found = True
    assert found


def test_short_svhn_run_trains_on_random_crops(svhn_root, tmp_path):
    import mtkit

    result = mtkit.train(svhn_config(svhn_root), out=tmp_path / "run", quiet=True)
    info = yaml.safe_load((result.run_dir / "run.json").read_text())
    assert info["inputs"]["image"]["shape"] == [54, 54, 3]
    assert info["dataset"]["decode"]["digits"] == ["digit1", "digit2", "digit3"]
    assert set(result.metrics["dataset"]) >= {"sequence_accuracy", "per_digit_accuracy"}
    assert result.history[0]["train"]["digit1"]["labelled"] > 0  # train metrics on crops
    # int8 calibration must feed 54x54 rows, not the stored 64x64 training images
    from mtkit.export import ExportOptions, export_run

    exported = export_run(result.run_dir, None, ExportOptions(precision="int8",
                                                              max_metric_drop=1.0))
    assert exported.path.is_file() and exported.report["precision"] == "int8"


def _break(svhn_root: Path, tmp_path: Path, how: str) -> tuple[Path, str]:
    root = tmp_path / "svhn"
    shutil.copytree(svhn_root, root)
    mat = root / "train" / "digitStruct.mat"
    if how == "missing":
        mat.unlink()
        return root, str(mat)
    if how == "truncated":
        data = mat.read_bytes()
        mat.write_bytes(data[: len(data) // 3])
        return root, str(mat)
    if how == "layout":
        mat.unlink()
        with h5py.File(mat, "w") as f:
            f.create_dataset("X", data=np.zeros((3, 32, 32)))
        return root, str(mat)
    if how == "image":
        (root / "train" / "5.png").unlink()
        return root, str(root / "train" / "5.png")
    raise AssertionError(how)


@pytest.mark.parametrize("how, words", [
    ("missing", "does not exist"),
    ("truncated", "truncated"),
    ("layout", "wrong layout"),
    ("image", "does not exist"),
])
def test_bad_svhn_input_is_a_clear_cli_error(svhn_root, tmp_path, how, words):
    root, culprit = _break(svhn_root, tmp_path, how)
    cfg = tmp_path / "svhn.yaml"
    cfg.write_text(yaml.safe_dump(svhn_config(root)))
    proc = run_mtkit("train", str(cfg), "--out", str(tmp_path / "run"), "--quiet")
    assert_clean_error(proc, culprit, words)
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_reader_errors_name_the_entry(tmp_path):
    mat = tmp_path / "digitStruct.mat"
    write_digitstruct(mat, [("1.png", [{"label": 11, "left": 1, "top": 1, "width": 1, "height": 1}])])
    with pytest.raises(DataError, match=r"entry 1: '1.png' has digit label 11"):
        read_digitstruct(mat)
