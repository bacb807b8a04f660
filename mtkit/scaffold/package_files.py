"""Templates of the package-level files: pyproject, README, hooks, example config and tests.

Which hooks, config sections and tests appear depends on the plugin kinds asked for; the
pieces below are joined by ``mtkit.scaffold.generate``.
"""

from __future__ import annotations

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "${dist}"
version = "0.1.0"
description = "mtkit plugins: ${plugin_list}."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["mtkit>=${mtkit_version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

# The line that makes mtkit find the plugins: group `mtkit`, pointing at the hooks module.
[project.entry-points.mtkit]
${short} = "${package}.hooks"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
${package} = ["*.yaml"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 100
'''

INIT = '''\
"""${dist}: mtkit plugins ${plugin_list}.

mtkit loads `${package}.hooks` through the `mtkit` entry point declared in pyproject.toml.
"""

__version__ = "0.1.0"
'''

HOOKS_HEAD = '''\
"""mtkit's entry point into this package: each hook registers one plugin class.

mtkit calls these hooks once, when it first needs its plugins (`mtkit plugins`, `mtkit
train`). Plugin modules import only numpy and pydantic at the top, so this stays fast.
"""

import mtkit

# The mtkit plugin API these hooks were written for: an mtkit with another API lists this
# package as broken, with what to install, instead of failing inside a hook.
MTKIT_PLUGIN_API = 1
'''

HOOK = '''

@mtkit.hookimpl
def ${hook}(register):
    register(${cls})
'''

EXAMPLE = '''\
# An example config using this package's plugins (built-ins fill the other roles):
#   mtkit train ${example_path} --out runs/${short}
data:
${data}
trunk:
${trunk}
tasks:
  score:
${score}
  group: {head: classification, classes: 3}
weighting: ${weighting}
train:
  epochs: 3
  batch_size: 32
  learning_rate: 0.01
  seed: 0
'''

README = '''\
# ${dist}

Plugins for [mtkit](https://pypi.org/project/mtkit/), the multitask deep learning toolkit:

| kind | name in configs | module |
|---|---|---|
${table}

## Install and test

```console
pip install -e '.[test]'
mtkit plugins                 # lists the plugins above, provided by ${dist}
pytest                        # unit tests of each plugin, and a short training run
```

## Use

`src/${package}/example.yaml` is a complete config that uses them:

```console
mtkit train src/${package}/example.yaml --out runs/${short}
mtkit export runs/${short} --onnx
```

Each plugin's parameters are the fields of its `Params` model; a config key the model does
not know is refused with the field's path. Rename, reshape and extend the plugins freely:
the hooks in `src/${package}/hooks.py` register them, and the `mtkit` entry point in
`pyproject.toml` makes mtkit find the hooks.
'''

TESTS_HEAD = '''\
"""Tests of ${dist}. Run `pytest` after `pip install -e .` (discovery needs the entry point)."""

from __future__ import annotations

import json
import math
from importlib import resources

import mtkit
import numpy as np
import pytest
import yaml
from mtkit.registry import load_registry

EXAMPLE = resources.files("${package}") / "example.yaml"


def test_the_entry_point_registers_every_plugin():
    registry = load_registry()
    mine = {(e.kind, e.name) for e in registry.entries if e.provider == "${dist}"}
    assert mine == {
${expected}
    }
    assert not [b for b in registry.broken if b.provider == "${dist}"], registry.broken


def test_the_example_config_is_valid():
    plan = mtkit.plan(yaml.safe_load(EXAMPLE.read_text()))
    assert set(plan.tasks) == {"score", "group"}


def test_the_example_config_refuses_an_unknown_key():
    config = yaml.safe_load(EXAMPLE.read_text())
    config["trunk"]["unitz"] = [8]
    with pytest.raises(mtkit.ConfigError, match="trunk.unitz"):
        mtkit.plan(config)


def test_the_example_config_trains(tmp_path):
    config = yaml.safe_load(EXAMPLE.read_text())
    config["data"]["rows"] = 300
    result = mtkit.train(config, out=tmp_path / "run", overrides=["train.epochs=2"], quiet=True)
    assert len(result.history) == 2
    for task in ("score", "group"):
        assert math.isfinite(result.history[-1]["train"][task]["loss"])
    assert "mae" in result.metrics["tasks"]["score"]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 2
'''

TESTS = {
    "trunk": '''

def test_trunk_maps_every_input_to_one_feature_vector():
    import keras

    from ${package}.trunk import ${Camel}Trunk

    trunk = ${Camel}Trunk(${Camel}Trunk.Params(units=[5, 3]))
    inputs = {"a": keras.Input((4,), name="a"), "b": keras.Input((2, 3), name="b")}
    features = trunk.build(inputs, [])
    model = keras.Model(inputs, features)
    out = model.predict({"a": np.ones((2, 4)), "b": np.ones((2, 2, 3))}, verbose=0)
    assert out.shape == (2, 3)


def test_trunk_model_saves_and_loads_in_safe_mode(tmp_path):
    import keras

    from ${package}.trunk import ${Camel}Trunk

    inputs = {"a": keras.Input((4,), name="a")}
    model = keras.Model(inputs, ${Camel}Trunk(${Camel}Trunk.Params(units=[3])).build(inputs, []))
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)  # no code in the file
    x = {"a": np.ones((2, 4), "float32")}
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_trunk_refuses_unknown_keys():
    from ${package}.trunk import ${Camel}Trunk

    with pytest.raises(ValueError, match="unitz"):
        ${Camel}Trunk.Params.model_validate({"unitz": [4]})
''',
    "head": '''

def test_head_outputs_a_score_named_after_the_task():
    import keras

    from ${package}.head import ${Camel}Head

    head = ${Camel}Head(${Camel}Head.Params(hidden=4))
    features = keras.Input((6,))
    model = keras.Model(features, head.build(features, "score"))
    assert model.layers[-1].name == "score"
    out = model.predict(np.random.default_rng(0).normal(size=(5, 6)) * 50, verbose=0)
    assert out.shape == (5, 1) and np.all((out >= 0) & (out <= 1))
    wide = ${Camel}Head(${Camel}Head.Params(low=-3, high=-1)).build(features, "other")
    out = keras.Model(features, wide).predict(np.ones((2, 6)), verbose=0)
    assert np.all((out >= -3) & (out <= -1))


def test_head_checks_labels():
    from ${package}.head import ${Camel}Head

    head = ${Camel}Head()
    assert head.check_labels(np.array([0.0, 0.5, 1.0])) is None
    assert "[0.0, 1.0]" in head.check_labels(np.array([0.2, 1.5]))
    wide = ${Camel}Head(${Camel}Head.Params(low=-2, high=2))
    assert wide.check_labels(np.array([-1.5, 1.5])) is None
    with pytest.raises(ValueError, match="must be smaller"):
        ${Camel}Head.Params(low=1, high=1)
    assert head.metric_functions()["mae"](np.array([0.0, 1.0]), np.array([[0.5], [0.5]])) == 0.5
    assert head.metric_direction("mae") == -1  # lower is better


def test_head_decodes_in_the_tensorflow_free_runtime():
    from mtkit.runtime.decode import resolve

    from ${package}.head import ${Camel}Head

    spec = ${Camel}Head(${Camel}Head.Params(low=-2, high=2)).decode_spec()
    decode = resolve(spec["decoder"])  # what mtkit.runtime.Predictor does with the stored spec
    assert decode(spec, np.array([[0.0], [1.0]])) == [{"score": 0.0, "fraction": 0.5},
                                                       {"score": 1.0, "fraction": 0.75}]
''',
    "loss": '''

def test_loss_is_log_cosh_per_example():
    from keras import ops

    from ${package}.loss import ${Camel}Loss

    y_true = np.array([0.0, 0.0, 1.0], dtype="float32")
    y_pred = np.array([[0.0], [2.0], [-29.0]], dtype="float32")
    got = ops.convert_to_numpy(${Camel}Loss().per_example(y_true, ops.convert_to_tensor(y_pred)))
    assert got.shape == (3,)
    np.testing.assert_allclose(got, [0.0, math.log(math.cosh(2.0)), 30.0 - math.log(2.0)],
                               rtol=1e-5)
''',
    "weighting": '''

def test_weighting_averages_the_tasks_present_in_the_batch():
    from keras import ops

    from ${package}.weighting import ${Camel}Weighting

    w = ${Camel}Weighting()
    losses = {"a": ops.convert_to_tensor(4.0), "b": ops.convert_to_tensor(2.0)}
    both = {"a": ops.convert_to_tensor(True), "b": ops.convert_to_tensor(True)}
    only_b = {"a": ops.convert_to_tensor(False), "b": ops.convert_to_tensor(True)}
    none = {"a": ops.convert_to_tensor(False), "b": ops.convert_to_tensor(False)}
    assert float(w.combine(losses, both)) == pytest.approx(3.0)
    assert float(w.combine(losses, only_b)) == pytest.approx(2.0)
    assert float(w.combine(losses, none)) == 0.0
''',
    "dataset": '''

def _task(name, head, output_type, **params):
    return mtkit.TaskInfo(name=name, head=head, head_params=params, output_type=output_type)


def test_dataset_yields_one_label_array_per_task():
    from ${package}.dataset import ${Camel}Dataset

    data = ${Camel}Dataset(${Camel}Dataset.Params(rows=200, unlabelled=0.5))
    tasks = [_task("s", "regression", "regression"), _task("c", "classification", "categorical",
                                                           classes=4)]
    splits = data.load(tasks, seed=1)
    x, labels = splits.train.inputs["features"], splits.train.labels
    assert x.shape == (200, 8) and set(labels) == {"s", "c"}
    assert np.all((labels["s"] >= 0) & (labels["s"] <= 1))  # first task: fully labelled
    present = labels["c"][labels["c"] >= 0]
    assert 50 < len(present) < 150 and set(np.unique(present)) <= {0, 1, 2, 3}
    again = data.load(tasks, seed=1).train.labels["c"]
    np.testing.assert_array_equal(again, labels["c"])  # deterministic for a seed


def test_dataset_names_the_task_it_cannot_label():
    from ${package}.dataset import ${Camel}Dataset

    with pytest.raises(mtkit.ConfigError, match="tasks.tags"):
        ${Camel}Dataset().load([_task("tags", "multilabel", "multilabel")], seed=0)
''',
}
