"""Bad weighting configs are refused with one clear message naming the field and the fix."""

from __future__ import annotations

import pytest

from mtkit.api import plan
from mtkit.config import load_config
from mtkit.errors import ConfigError, MtkitError, PluginError
from mtkit.planning import make_plan
from mtkit.plugin_types import Trunk
from mtkit.registry import Entry, load_registry
from tests.conftest import assert_clean_error, run_cli


def config(weighting, trunk: dict | None = None, n_tasks: int = 2) -> dict:
    names = ["alpha", "beta", "gamma"][:n_tasks] if n_tasks <= 3 else [f"t{i}" for i in range(n_tasks)]
    return {
        "data": {"dataset": "synthetic", "rows": 60, "features": 4},
        "trunk": trunk or {"type": "mlp", "units": [8]},
        "tasks": {n: {"head": "regression"} for n in names},
        "weighting": weighting,
        "train": {"epochs": 1, "batch_size": 16, "checkpoint": False},
    }


def test_unknown_method_suggests_the_closest_name():
    with pytest.raises(PluginError, match=r"unknown weighting 'pcgard'.*did you mean 'pcgrad'"):
        plan(config("pcgard"))


@pytest.mark.parametrize("method", ["dwa", "uncertainty", "gradnorm", "aligned_mtl", "sum"])
def test_weights_for_a_task_that_does_not_exist(method):
    with pytest.raises(ConfigError, match=r"weighting\.weights.*no task named 'delta'.*alpha, beta"):
        plan(config({"type": method, "weights": {"alpha": 1.0, "delta": 2.0}}))


@pytest.mark.parametrize("method", ["dwa", "uncertainty", "gradnorm", "aligned_mtl"])
def test_negative_or_all_zero_weights(method):
    with pytest.raises(ConfigError, match=r"weight of 'beta' is negative"):
        plan(config({"type": method, "weights": {"beta": -1.0}}))
    with pytest.raises(ConfigError, match=r"all task weights are zero"):
        plan(config({"type": method, "weights": {"alpha": 0.0, "beta": 0.0}}))


def test_gradient_methods_take_no_weights_and_check_their_params():
    with pytest.raises(ConfigError, match=r"weighting\.weights.*unknown key"):
        plan(config({"type": "pcgrad", "weights": {"alpha": 1.0}}))
    with pytest.raises(ConfigError, match=r"weighting\.gradients"):
        plan(config({"type": "mgda", "gradients": "representation"}))
    with pytest.raises(ConfigError, match=r"weighting\.c"):
        plan(config({"type": "cagrad", "c": -1}))


def test_cagrad_refuses_more_tasks_than_its_exact_solver_handles():
    with pytest.raises(ConfigError, match=r"cagrad.*up to 12 tasks.*13"):
        plan(config({"type": "cagrad"}, n_tasks=13))


class IdentityTrunk(Trunk):
    """A trunk without trainable variables: the heads share nothing."""

    name = "identity_for_tests"

    def build(self, inputs, tasks):
        import keras

        return keras.layers.Activation("linear", name="identity")(next(iter(inputs.values())))


@pytest.mark.parametrize("gradients", ["parameters", "features"])
def test_gradient_method_without_shared_parameters_is_a_clear_error(tmp_path, gradients):
    pytest.importorskip("tensorflow")
    from mtkit.training.loop import run_training

    reg = load_registry(entry_points=False)
    reg.entries.append(Entry(kind="trunk", name=IdentityTrunk.name, provider="tests",
                             version="0", cls=IdentityTrunk))
    cfg = config({"type": "mgda", "gradients": gradients}, trunk={"type": IdentityTrunk.name})
    with pytest.raises(MtkitError, match=r"weighting 'mgda'.*trunk 'identity_for_tests' has no "
                                         r"trainable parameters.*use a loss weighting"):
        run_training(make_plan(load_config(cfg), registry=reg), tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists(), "refused before anything is written"
    cfg["weighting"] = "uncertainty"  # a loss weighting needs no shared parameters
    result = run_training(make_plan(load_config(cfg), registry=reg), tmp_path / "ok", quiet=True)
    assert len(result.history) == 1


def test_cli_reports_weighting_errors_without_traceback(tmp_path):
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config({"type": "dwa", "weights": {"zeta": 1.0}})))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "bad.yaml", "weighting.weights", "zeta")
