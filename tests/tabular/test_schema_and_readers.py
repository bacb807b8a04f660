"""The TF-free parts: cell conversion, type inference, streaming statistics, readers."""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.errors import DataError
from mtkit.tabular.infer import infer_type
from mtkit.tabular.readers import as_table, from_frame, read_table
from mtkit.tabular.schema import FeatureSpec, FittedFeature, FittedSchema, FittedTarget, embedding_size
from mtkit.tabular.stats import Categories, Moments
from mtkit.tabular.values import to_categories, to_numbers


def _where(i):
    return f"t.csv, line {i + 2}"


def test_numbers_keep_missing_as_nan_and_refuse_text_and_overflow():
    x = to_numbers(np.array(["1.5", None, " 2 ", ""], dtype=object), "a", _where, "why")
    assert x[0] == 1.5 and np.isnan(x[1]) and x[2] == 2.0 and np.isnan(x[3])
    with pytest.raises(DataError, match="line 3, column 'a': 'abc' is not a number; why"):
        to_numbers(np.array(["1", "abc"], dtype=object), "a", _where, "why")
    for bad in ("inf", "-Infinity", "1e400"):
        with pytest.raises(DataError, match="line 2, column 'a'.*not a finite number"):
            to_numbers(np.array([bad, "1"], dtype=object), "a", _where, "why")
    with pytest.raises(DataError, match="not a finite number"):
        to_numbers(np.array([1.0, np.inf]), "a", _where, "why")


def test_categories_are_strings_with_empty_for_missing():
    got = to_categories(np.array([3, 3.0, 2.5, True, None, float("nan"), "x", " "], dtype=object))
    assert list(got) == ["3", "3", "2.5", "true", "", "", "x", ""]


def _table(**cols):
    return as_table({k: np.array(v, dtype=object) for k, v in cols.items()}, "t.csv")


def test_inference_rules():
    t = _table(n=["1", "2.5", None, "4"], c=["a", "b", "c", None], b=["yes", "no", "yes", None],
               typed=[1, 2, 3, 4])
    assert [infer_type(t, c) for c in "ncb"] == ["numeric", "categorical", "binary"]
    t2 = as_table({"x": np.array([True, False, True, False]), "y": np.arange(4.0)})
    assert infer_type(t2, "x") == "binary" and infer_type(t2, "y") == "numeric"
    mostly = _table(m=[str(i) for i in range(20)] + ["oops"])
    with pytest.raises(DataError, match="row 21, column 'm': 'oops' is not a number"):
        infer_type(mostly, "m")


def test_streaming_statistics_match_one_pass():
    rng = np.random.default_rng(0)
    x = rng.normal(4000, 800, size=1000)
    x[::7] = np.nan
    one, chunked = Moments(), Moments()
    one.update(x)
    for part in np.array_split(x, 9):
        chunked.update(part)
    assert one.result() == pytest.approx(chunked.result(), rel=1e-12)
    assert one.result() == pytest.approx((np.nanmean(x), np.nanstd(x)), rel=1e-10)
    assert one.missing == int(np.isnan(x).sum())
    const = Moments()
    const.update(np.full(10, 3.0))
    assert const.result() == (3.0, 1.0)  # no spread: shifted, never divided by ~0
    cats = Categories()
    cats.update(np.array(["b", "a", "b", "", "c", "a", "b"], dtype=object))
    assert cats.vocabulary() == ["b", "a", "c"] and cats.missing == 1
    assert cats.vocabulary(top=2) == ["b", "a"]


def test_schema_round_trip_and_size_rule():
    schema = FittedSchema(
        features={"a": FittedFeature("a", "numeric", mean=2.0, std=3.0, missing_indicator=True),
                  "c": FittedFeature("c", "categorical", vocabulary=["x", "y"], encoding="one_hot")},
        targets={"t": FittedTarget("t", "col", "regression", mean=[1.0], std=[2.0])})
    back = FittedSchema.from_json(schema.as_json())
    assert back.as_json() == schema.as_json()
    assert back.features["c"].ids == 4 and back.dtype("c") == "string" and back.dtype("a") == "float32"
    assert schema.as_config() == {"a": {"type": "numeric", "missing_indicator": True},
                                  "c": "categorical"}
    assert embedding_size(2) == 2 and embedding_size(10) == 6 and embedding_size(10**6) == 32
    assert FeatureSpec.model_validate("numeric").type == "numeric"


def test_readers_agree_across_formats(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"n": [1.5, None, 3.0], "c": ["a", None, "b"], "i": [1, 2, 3]})
    frame.to_csv(tmp_path / "x.csv", index=False)
    frame.to_parquet(tmp_path / "x.parquet")
    frame.to_json(tmp_path / "x.jsonl", orient="records", lines=True)
    tables = [read_table(str(tmp_path / f"x.{s}")) for s in ("csv", "parquet", "jsonl")]
    tables.append(from_frame(frame))
    for t in tables:
        n = to_numbers(t.columns["n"], "n", t.where, "")
        assert n[0] == 1.5 and np.isnan(n[1]) and n[2] == 3.0
        assert list(to_categories(t.columns["c"])) == ["a", "", "b"]
        assert list(to_categories(t.columns["i"])) == ["1", "2", "3"]
    assert tables[0].where(0).endswith("line 2") and tables[1].where(0).endswith("row 1")


def test_readers_refuse_duplicate_columns(tmp_path):
    import pandas as pd

    (tmp_path / "d.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match="'a' appear more than once"):
        read_table(str(tmp_path / "d.csv"))
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="'a' appear more than once"):
        from_frame(frame)


def test_package_paths_read_files_shipped_in_packages():
    t = read_table("package:palmerpenguins/data/penguins.csv")
    assert len(t) == 344 and {"species", "island", "sex", "body_mass_g"} <= set(t.columns)
    with pytest.raises(DataError, match="no installed Python package 'no_such_pkg_xyz'"):
        read_table("package:no_such_pkg_xyz/x.csv")
