"""Raw CSV (strings, string labels, empty cells) → train → ONNX with parity → raw-row predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.tabular.helpers import raw_rows


def test_trains_without_manual_preprocessing_and_reports_in_user_units(table_run):
    metrics = table_run["result"].metrics["tasks"]
    assert metrics["kind"]["accuracy"] > 0.6  # 3 balanced-ish classes: chance is ~0.4
    grams = np.array([r["grams"] for r in raw_rows()])
    # MAE in grams (the column's units), far below the spread of the target itself
    assert 0 < metrics["grams"]["mae"] < 0.5 * grams.std()


def test_run_stores_the_resolved_schema(table_run):
    import yaml

    run = table_run["result"].run_dir
    info = json.loads((run / "run.json").read_text())
    feats = info["tabular"]["features"]
    assert set(feats["color"]["vocabulary"]) == {"red", "green", "blue"}
    assert feats["user"]["encoding"] == "embedding" and feats["user"]["embedding_dim"] == 3
    assert info["inputs"]["color"]["dtype"] == "string" and info["inputs"]["size"]["dtype"] == "float32"
    assert info["tabular"]["targets"]["kind"]["labels"] == ["big", "mid", "small"]
    assert info["tabular"]["targets"]["heavy"]["labels"] == ["light", "heavy"]  # positive last
    saved = yaml.safe_load((run / "features.yaml").read_text())
    assert saved["features"]["size"] == {"type": "numeric", "missing_indicator": True}
    assert saved["features"]["offset"] == "passthrough"


def test_statistics_come_from_the_train_split_only(table_run):
    from mtkit.api import plan as make_plan
    from mtkit.dataprep import prepare

    run = table_run["result"].run_dir
    info = json.loads((run / "run.json").read_text())
    splits, specs = prepare(make_plan(run / "config.yaml"))
    train_sizes = splits.train.inputs["size"].astype(np.float64)
    all_sizes = np.array([r["size"] for r in raw_rows() if r["size"] is not None])
    fitted = info["tabular"]["features"]["size"]["mean"]
    assert fitted == pytest.approx(np.nanmean(train_sizes), rel=1e-9)
    assert fitted != pytest.approx(all_sizes.mean(), rel=1e-9)
    grams = splits.train.labels["grams"]
    assert info["tabular"]["targets"]["grams"]["mean"][0] == pytest.approx(np.nanmean(grams), rel=1e-6)


def test_export_parity_on_raw_rows_with_missing_and_unseen_values(table_run):
    report = table_run["export"].report
    info = json.loads((table_run["result"].run_dir / "run.json").read_text())
    assert report["passed"]
    # the held-out sample plus two edge rows: every cell missing, every category unseen
    assert report["parity"]["rows"] == min(info["sizes"]["test"], 64) + 2
    assert {r["task"] for r in report["parity"]["tasks"]} == {"kind", "heavy", "grams"}
    assert all(r["ok"] for r in report["parity"]["tasks"])


def _keras_outputs(run_dir, rows):
    from mtkit.export.source import load_keras
    from mtkit.tabular.rows import model_inputs

    info = json.loads((run_dir / "run.json").read_text())
    model = load_keras(run_dir / "model.keras")
    feed = model_inputs(rows, info["tabular"])
    return {k: np.asarray(v) for k, v in model(feed, training=False).items()}


def test_predictor_takes_raw_rows_in_every_form(table_run):
    import pandas as pd

    from mtkit.runtime import Predictor

    rows = raw_rows(12, seed=5)
    rows[0]["color"] = "purple"  # unseen at training: the unseen bucket, not an error
    rows[1]["size"] = None
    rows[2]["color"] = None
    p = Predictor(table_run["export"].path, provider="cpu")
    frame = pd.DataFrame(rows)
    by_frame = p.run(frame)
    by_records = p.run(rows)
    by_columns = p.run({c: list(frame[c]) for c in frame.columns})
    for task in ("kind", "heavy", "grams"):
        np.testing.assert_array_equal(by_frame[task], by_records[task])
        np.testing.assert_array_equal(by_frame[task], by_columns[task])
    ref = _keras_outputs(table_run["result"].run_dir, rows)
    for task in ref:
        np.testing.assert_allclose(by_frame[task], ref[task], rtol=1e-5, atol=1e-3)
    decoded = p.predict(frame)
    assert decoded[0]["kind"]["label"] in {"big", "mid", "small"}
    assert decoded[0]["heavy"]["label"] in {"light", "heavy"}
    assert 2000 < decoded[3]["grams"]["value"] < 7000  # grams, not standard deviations


def test_unseen_and_missing_categories_have_their_own_ids(table_run):
    from mtkit.tabular.keras_model import lookup_vocabulary

    info = json.loads((table_run["result"].run_dir / "run.json").read_text())
    vocab = lookup_vocabulary(info["tabular"]["features"]["color"]["vocabulary"])
    assert vocab[0] == ""  # missing → id 1; unseen → id 0 (StringLookup and LabelEncoder)
    import onnx

    proto = onnx.load(str(table_run["export"].path))
    enc = [n for n in proto.graph.node if n.op_type == "LabelEncoder" and n.input[0] == "color"]
    assert len(enc) == 1
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in enc[0].attribute}
    assert [k.decode() for k in attrs["keys_strings"]] == vocab
    assert list(attrs["values_int64s"]) == list(range(1, len(vocab) + 1))
    assert attrs["default_int64"] == 0


def test_cli_predict_reads_raw_csv_parquet_and_jsonl(table_run, tmp_path):
    import pandas as pd

    rows = raw_rows(6, seed=9)
    rows[0]["user"] = 999  # an id never seen in training
    frame = pd.DataFrame(rows)
    frame.drop(columns=["kind", "heavy", "grams"]).to_csv(tmp_path / "x.csv", index=False)
    frame.to_parquet(tmp_path / "x.parquet")
    frame.to_json(tmp_path / "x.jsonl", orient="records", lines=True)
    outs = []
    for name in ("x.csv", "x.parquet", "x.jsonl"):
        proc = run_cli("predict", str(table_run["export"].path), str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        lines = [json.loads(x) for x in proc.stdout.splitlines()]
        assert len(lines) == 6
        outs.append([(r["kind"]["label"], round(r["grams"]["value"], 2)) for r in lines])
    assert outs[0] == outs[1] == outs[2]
    assert json.loads(run_cli("predict", str(table_run["export"].path),
                              str(tmp_path / "x.csv")).stdout.splitlines()[0])["source"].endswith(
        "x.csv:2")


def test_predict_refuses_a_missing_feature_column_and_bad_numbers(table_run, tmp_path):
    import pandas as pd

    from mtkit.errors import DataError
    from mtkit.runtime import Predictor

    p = Predictor(table_run["export"].path, provider="cpu")
    frame = pd.DataFrame(raw_rows(4, seed=3))
    with pytest.raises(DataError, match="needs column\\(s\\) 'color'"):
        p.run(frame.drop(columns=["color"]))
    bad = frame.astype({"size": object})
    bad.loc[2, "size"] = "heavy-ish"
    with pytest.raises(DataError, match="row 3, column 'size': 'heavy-ish' is not a number"):
        p.run(bad)
    bad.loc[2, "size"] = float("inf")
    with pytest.raises(DataError, match="not a finite number"):
        p.run(bad)
