"""Mixed precision: refused where it cannot help (no GPU); where forced on CPU it trains a
float16-compute model whose outputs stay float32, and exports to an fp32-IO ONNX model."""

from __future__ import annotations

import json

import onnx

from tests.conftest import assert_clean_error, run_cli

CONFIG = """\
data: {dataset: synthetic, rows: 400, features: 8}
trunk: {type: mlp, units: [16]}
tasks:
  cls: {head: classification, classes: 3}
  reg: {head: regression}
train: {epochs: 2, batch_size: 32, learning_rate: 0.01, mixed_precision: true}
"""


def test_mixed_precision_is_refused_without_a_gpu(tmp_path):
    cfg = tmp_path / "mp.yaml"
    cfg.write_text(CONFIG)
    proc = run_cli("train", str(cfg), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "field 'train.mixed_precision'", "no GPU")
    assert not (tmp_path / "run").exists()


def test_forced_mixed_precision_trains_and_exports_with_fp32_io(tmp_path):
    cfg = tmp_path / "mp.yaml"
    cfg.write_text(CONFIG)
    run = tmp_path / "run"
    env = {"MTKIT_ALLOW_CPU_MIXED_PRECISION": "1"}
    proc = run_cli("train", str(cfg), "--out", str(run), "-q", env=env)
    assert proc.returncode == 0, proc.stderr
    hist = json.loads((run / "history.json").read_text())["epochs"]
    assert hist[-1]["train"]["cls"]["loss"] < hist[0]["train"]["cls"]["loss"]
    proc = run_cli("export", str(run), "--onnx", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    model = onnx.load(run / "model.onnx")
    elem = {o.name: o.type.tensor_type.elem_type for o in [*model.graph.input, *model.graph.output]}
    assert set(elem.values()) == {onnx.TensorProto.FLOAT}, elem
    report = json.loads((run / "model.report.json").read_text())
    assert report["parity"]["rtol"] == report["parity"]["atol"] == 1e-2
