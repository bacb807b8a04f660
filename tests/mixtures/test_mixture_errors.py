"""Bad mixtures are refused up front with one clear paragraph naming the field."""

from __future__ import annotations

import copy

import pytest
import yaml

from mtkit.api import plan as make_plan
from mtkit.dataprep import prepare
from mtkit.errors import ConfigError, DataError
from tests.conftest import assert_clean_error, run_cli

BASE = {
    "data": {"sources": {
        "a": {"dataset": "synthetic", "rows": 60, "features": 4, "tasks": ["ta", "tb"]},
        "b": {"dataset": "synthetic", "rows": 40, "features": 4, "tasks": ["tc"]},
    }},
    "trunk": {"type": "mlp", "units": [8]},
    "tasks": {"ta": {"head": "classification", "classes": 3}, "tb": {"head": "regression"},
              "tc": {"head": "binary"}},
    "train": {"epochs": 1, "batch_size": 16},
}


def cfg(**changes):
    out = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return out


@pytest.mark.parametrize(("config", "needles"), [
    (cfg(data__sources__b__tasks=["tcc"]), ["data.sources.b.tasks", "'tcc'", "did you mean 'tc'"]),
    (cfg(data__sources__b__tasks=[]), ["source 'b' labels no task"]),
    (cfg(data__sources__b__tasks=["ta"]), ["tc", "labelled by no source"]),
    (cfg(data__sampling={"mode": "weights", "weights": {"a": -1, "b": 1}}),
     ["finite and 0 or more"]),
    (cfg(data__sampling={"mode": "weights", "weights": {"a": 0, "b": 0}}), ["all 0"]),
    (cfg(data__sampling={"mode": "weights", "weights": {"aa": 1}}), ["did you mean 'a'"]),
    (cfg(data__sampling={"mode": "weights", "weights": {"a": 1, "b": 0}}),
     ["tc", "only by sources of weight 0"]),
    (cfg(data__sampling={"mode": "weights"}), ["needs `weights"]),
    (cfg(data__sampling={"mode": "temprature"}), ["did you mean 'temperature'"]),
    (cfg(data__dataset="synthetic"), ["belongs to its source", "dataset"]),
])
def test_config_errors(config, needles):
    with pytest.raises(ConfigError) as err:
        make_plan(config)
    for n in needles:
        assert n in str(err.value), str(err.value)


def test_a_source_parameter_is_validated_by_its_plugin():
    with pytest.raises(ConfigError, match="data.sources.b"):
        make_plan(cfg(data__sources__b__rowz=3))


def test_sources_with_incompatible_inputs_are_refused_before_training():
    p = make_plan(cfg(data__sources__b__features=5))
    with pytest.raises(DataError) as err:
        prepare(p)
    msg = str(err.value)
    assert "source 'a'" in msg and "source 'b'" in msg and "[4]" in msg and "[5]" in msg


def test_cli_reports_a_bad_mixture_without_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg(data__sources__b__tasks=["tcc"])))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "did you mean 'tc'")
    assert not (tmp_path / "run").exists()
