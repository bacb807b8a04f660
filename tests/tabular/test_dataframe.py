"""``mtkit.train(config, data=frame)``: a pandas DataFrame in, a run that exports with parity."""

from __future__ import annotations

import pytest

from mtkit.errors import ConfigError


def test_train_from_a_dataframe_then_export_checks_parity(tmp_path):
    import palmerpenguins

    import mtkit
    from mtkit.export.pipeline import export_run

    frame = palmerpenguins.load_penguins()
    config = {"data": {"dataset": "dataframe", "exclude": ["year"]},
              "trunk": {"type": "mlp", "units": [8]},
              "tasks": {"species": {"head": "classification"},
                        "sex": {"head": "binary"}, "body_mass_g": {"head": "regression"}},
              "train": {"epochs": 1, "steps_per_epoch": 2}}
    result = mtkit.train(config, out=tmp_path / "run", data=frame, quiet=True)
    assert (tmp_path / "run" / "data.parquet").is_file()
    assert "data.parquet" in (tmp_path / "run" / "config.yaml").read_text()
    report = export_run(tmp_path / "run").report  # re-reads the saved frame for parity
    assert report["passed"] and result.metrics["tasks"]["body_mass_g"]["mae"] > 0


def test_data_needs_the_dataframe_dataset():
    import pandas as pd

    import mtkit

    config = {"data": {"dataset": "synthetic"}, "trunk": {"type": "mlp"},
              "tasks": {"kind": {"head": "classification", "classes": 3}}}
    with pytest.raises(ConfigError, match="needs `data: {dataset: dataframe}`"):
        mtkit.train(config, out="unused", data=pd.DataFrame({"a": [1]}))
