"""`mtkit export RUN --onnx` on a real trained run: names, metadata, parity, report, fp16/int8."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from mtkit.errors import MtkitError
from tests.conftest import run_cli
from tests.export.fixtures import TRAIN_CONFIG, copy_run

TASKS = list(TRAIN_CONFIG["tasks"])


def test_cli_export_writes_checked_model_with_names_batch_dim_and_metadata(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "run")
    proc = run_cli("export", str(run), "--onnx", "--opset", "16")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "parity TensorFlow vs onnxruntime" in proc.stdout
    model = onnx.load(str(run / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 16
    assert sorted(o.name for o in model.graph.output) == sorted(TASKS)
    assert [i.name for i in model.graph.input] == ["features"]
    for value in list(model.graph.input) + list(model.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["mtkit.inputs"]) == {"features": {"shape": [8], "dtype": "float32"}}
    assert json.loads(props["mtkit.tasks"]) == TASKS
    seg = json.loads(props["mtkit.task.segment"])
    assert seg["head"] == "classification" and seg["labels"] == ["low", "mid", "high"]
    assert seg["decode"]["type"] == "categorical"
    assert json.loads(props["mtkit.task.risk"])["decode"]["type"] == "regression"
    assert props["mtkit.precision"] == "fp32" and props["mtkit.version"]
    report = json.loads((run / "model.report.json").read_text())
    assert report["passed"] is True
    rows = report["parity"]["tasks"]
    assert {r["batch_size"] for r in rows} == {1, 32}
    assert {r["task"] for r in rows} == set(TASKS)
    assert all(r["ok"] and r["max_abs"] <= 1e-5 for r in rows)
    assert all(r["agreement"] == 1.0 for r in rows if r["task"] != "risk")
    assert not [p for p in run.iterdir()
                if p.name.startswith(".") and p.name != ".mtkit-run"]  # no temp files left


def test_failed_parity_exits_nonzero_with_table_and_keeps_the_older_export(trained_run,
                                                                            tmp_path):
    from tests.hardening.corpus import onnx_model

    run = copy_run(trained_run, tmp_path / "run")
    out = tmp_path / "out" / "strict.onnx"
    out.parent.mkdir()
    older = onnx_model(out).read_bytes()  # a good older export: a failed check must keep it
    proc = run_cli("export", str(run), "-o", str(out), "--rtol", "0", "--atol", "0")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "FAIL" in proc.stderr and "max abs err" in proc.stderr
    assert "error: export check failed" in proc.stderr
    assert "the older export there is unchanged" in proc.stderr
    assert out.read_bytes() == older
    assert sorted(p.name for p in out.parent.iterdir()) == ["strict.failed.report.json",
                                                            "strict.onnx"]
    report = json.loads((out.parent / "strict.failed.report.json").read_text())
    assert report["passed"] is False
    assert any(not r["ok"] for r in report["parity"]["tasks"])


def test_cli_int8_export_is_judged_on_test_metrics(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path / "run")
    # The judge itself is tested below; a barely trained model on 40 test rows can flip a
    # row or two, so this end-to-end run only needs the report, not a tight threshold.
    proc = run_cli("export", str(run), "--int8", "--max-metric-drop", "0.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "int8 vs fp32 on the test split" in proc.stdout
    model = onnx.load(str(run / "model.int8.onnx"))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert {p.key: p.value for p in model.metadata_props}["mtkit.precision"] == "int8"
    report = json.loads((run / "model.int8.report.json").read_text())
    metrics = {(r["task"], r["metric"]) for r in report["quality"]["metrics"]}
    assert ("segment", "accuracy") in metrics and ("risk", "mae") in metrics
    assert all(r["ok"] for r in report["quality"]["metrics"])
    assert not (run / "model.onnx").exists()  # only the requested variant is written


def test_fp16_export_keeps_fp32_io_and_reports_deltas(trained_run, tmp_path):
    from mtkit.export import ExportOptions, export_run

    out = tmp_path / "m16.onnx"
    result = export_run(trained_run, out, ExportOptions(precision="fp16", max_metric_drop=0.5))
    model = onnx.load(str(out))
    f32 = onnx.TensorProto.FLOAT
    assert all(v.type.tensor_type.elem_type == f32 for v in [*model.graph.input, *model.graph.output])
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    rows = result.report["quality"]["metrics"]
    acc = next(r for r in rows if (r["task"], r["metric"]) == ("segment", "accuracy"))
    assert abs(acc["delta"]) <= 0.05  # at most a row or two of 40 flips at a near-tie
    assert result.report_path.name == "m16.report.json"


def test_unconvertible_op_is_refused_naming_the_layer(trained_run, tmp_path, monkeypatch):
    """Without mtkit's Erfc handler, tf2onnx would write an invalid model; mtkit refuses it."""
    from mtkit.export import convert, export_run

    monkeypatch.setattr(convert, "CUSTOM_OP_HANDLERS", {})
    out = tmp_path / "broken.onnx"
    with pytest.raises(MtkitError) as err:
        export_run(trained_run, out)
    msg = str(err.value)
    assert "layer 'mlp_act0'" in msg and "'Erfc'" in msg
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_exact_gelu_converts_to_erf_and_matches_tensorflow(trained_run):
    from mtkit.export import convert
    from mtkit.export.source import load_keras, open_run

    src = open_run(trained_run)
    model = load_keras(src.model_path)
    proto = convert.keras_to_onnx(model, src.info["inputs"], src.tasks)
    ops = [n.op_type for n in proto.graph.node]
    assert "Erfc" not in ops and "Erf" in ops
    import onnxruntime as ort

    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.linspace(-6, 6, 8 * 40, dtype=np.float32).reshape(40, 8)  # deep GELU tails too
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"features": x}),
                   strict=True))
    ref = model({"features": x}, training=False)
    for task in TASKS:
        np.testing.assert_allclose(got[task], np.asarray(ref[task]), rtol=1e-5, atol=1e-5)


def test_metric_judge_knows_which_way_is_better():
    from mtkit.export.quality import deltas

    base = {"tasks": {"a": {"labelled": 9, "accuracy": 0.90, "mae": 1.0, "odd": 5.0}},
            "dataset": {"sequence_accuracy": 0.50}}
    worse = {"tasks": {"a": {"labelled": 9, "accuracy": 0.85, "mae": 1.01, "odd": 9.0}},
             "dataset": {"sequence_accuracy": 0.60}}
    rows = {(r["task"], r["metric"]): r for r in deltas(base, worse, max_drop=0.02)}
    assert rows[("a", "accuracy")]["worse_by"] == pytest.approx(0.05)
    assert rows[("a", "accuracy")]["ok"] is False  # 5 points lost
    assert rows[("a", "mae")]["worse_by"] == pytest.approx(0.01) and rows[("a", "mae")]["ok"]
    assert rows[("a", "odd")]["worse_by"] is None and rows[("a", "odd")]["ok"]  # not judged
    seq = rows[("(dataset)", "sequence_accuracy")]
    assert seq["delta"] == pytest.approx(0.10) and seq["ok"]  # better is fine
    assert ("a", "labelled") not in rows
