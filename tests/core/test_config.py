"""Config validation: errors name the file and the field path; overrides; plugin params."""

from __future__ import annotations

import pytest

from mtkit.config import load_config
from mtkit.errors import ConfigError, PluginError
from mtkit.planning import make_plan

BASE = {
    "data": {"dataset": "synthetic", "rows": 100},
    "trunk": {"type": "mlp", "units": [8]},
    "tasks": {"kind": {"head": "classification", "classes": 3}, "size": {"head": "regression"}},
}


def _plan(raw, overrides=None):
    return make_plan(load_config(raw, overrides), "cfg.yaml")


def test_valid_config_resolves_plugins_and_defaults():
    plan = _plan(BASE)
    assert type(plan.tasks["kind"].loss).name == "sparse_categorical_crossentropy"
    assert type(plan.tasks["size"].loss).name == "mse"
    assert plan.tasks["kind"].metrics == ["accuracy"]
    assert plan.trunk.params.units == [8]
    assert type(plan.weighting).name == "sum"


def test_override_of_a_short_form_section_keeps_its_plugin_name():
    raw = {**BASE, "weighting": "dwa",
           "tasks": {**BASE["tasks"], "size": {"head": "regression", "loss": "huber"}}}
    p = _plan(raw, ["weighting.temperature=3", "tasks.size.loss.delta=0.5"])
    assert p.weighting.name == "dwa" and p.weighting.params.temperature == 3
    assert p.tasks["size"].loss.name == "huber" and p.tasks["size"].loss.params.delta == 0.5


def test_overrides_are_typed_and_nested():
    cfg = load_config(BASE, ["train.epochs=5", "train.learning_rate=0.01", "trunk.units=[4, 4]"])
    assert cfg.train.epochs == 5 and cfg.train.learning_rate == 0.01
    assert cfg.trunk.params["units"] == [4, 4]


@pytest.mark.parametrize(("override", "needle"), [
    ("train.epochs=five", "field 'train.epochs'"),
    ("train.epochs=-1", "field 'train.epochs'"),
    ("train.bogus=1", "field 'train.bogus': unknown key"),
    ("train.optimizer=adamm", "field 'train.optimizer'"),
    ("tasks.kind.weight=-2", "field 'tasks.kind.weight'"),
])
def test_schema_errors_name_the_field(override, needle):
    with pytest.raises(ConfigError, match="cfg.yaml|<config>") as err:
        _plan(BASE, [override])
    assert needle in str(err.value)


def test_missing_required_field():
    raw = {k: v for k, v in BASE.items() if k != "trunk"}
    with pytest.raises(ConfigError, match="field 'trunk': required field is missing"):
        _plan(raw)


def test_plugin_params_are_validated_by_the_plugin():
    with pytest.raises(ConfigError, match=r"field 'tasks\.kind\.classes'"):
        _plan(BASE, ["tasks.kind.classes=1"])
    with pytest.raises(ConfigError, match=r"field 'trunk\.unitz': unknown key"):
        _plan(BASE, ["trunk.unitz=[3]"])


def test_unknown_plugin_suggests_the_close_name():
    with pytest.raises(PluginError) as err:
        _plan(BASE, ["tasks.kind.head=clasification"])
    msg = str(err.value)
    assert "unknown head 'clasification'" in msg and "did you mean 'classification'" in msg
    assert "available: binary, classification, multilabel, regression" in msg


def test_first_party_plugin_hint_when_not_installed():
    from mtkit.registry import load_registry

    reg = load_registry(entry_points=False)
    with pytest.raises(PluginError, match="pip install mtkit-multidigit"):
        make_plan(load_config(BASE, ["data.dataset=multidigit"]), "cfg.yaml", reg)


def test_loss_that_does_not_fit_the_head():
    with pytest.raises(ConfigError, match="loss 'mse' does not fit head 'classification'"):
        _plan(BASE, ["tasks.kind.loss=mse"])


def test_metric_the_head_does_not_offer():
    with pytest.raises(ConfigError, match="has no metric 'auc'"):
        _plan(BASE, ["tasks.kind.metrics=[auc]"])


def test_sum_weights_for_unknown_task_negative_or_all_zero():
    with pytest.raises(ConfigError, match="no task named 'nope'"):
        _plan(BASE, ["weighting={type: sum, weights: {nope: 1}}"])
    with pytest.raises(ConfigError, match="all task weights are zero"):
        _plan(BASE, ["tasks.kind.weight=0", "tasks.size.weight=0"])


def test_yaml_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml' is not valid YAML at line"):
        load_config(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(empty)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
