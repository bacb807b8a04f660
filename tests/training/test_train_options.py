"""Training options (issue 21): schedules against their formulas, resume mid-schedule,
clipping, weight averaging, label smoothing, the time budget, and bad values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mtkit
from mtkit.config import TrainConfig
from tests.conftest import assert_clean_error, cut_training_after_first_epoch, run_cli
from tests.training.test_task_control import _config, _weights

SPE = 10  # steps per epoch in the formula tests


def _rates(train: dict, steps: int, peak: float = 0.1) -> np.ndarray:
    from mtkit.training.schedules import make_schedule

    cfg = TrainConfig.model_validate({"learning_rate": peak, **train})
    sched = make_schedule(cfg, peak, SPE)
    return np.array([float(sched(i)) if callable(sched) else sched for i in range(steps)])


def _cos(a, b, pct):
    return b + (a - b) / 2 * (np.cos(np.pi * pct) + 1)


FORMULAS = {
    "cosine": ({"epochs": 4, "schedule": {"type": "cosine", "alpha": 0.1}},
               lambda i: 0.1 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * min(i, 40) / 40)) + 0.1)),
    "linear": ({"epochs": 4, "schedule": {"type": "linear", "end_factor": 0.2}},
               lambda i: 0.1 + (0.02 - 0.1) * min(i, 40) / 40),
    "exponential": ({"epochs": 4, "schedule": {"type": "exponential", "decay_epochs": 1,
                                                "decay_rate": 0.5}},
                    lambda i: 0.1 * 0.5 ** (i / SPE)),
    "step": ({"epochs": 4, "schedule": {"type": "step", "boundaries": [1, 3], "decay_rate": 0.1}},
             lambda i: 0.1 * (1 if i <= 10 else 0.1 if i <= 30 else 0.01)),
    "warmup+cosine": ({"epochs": 4, "schedule": {"type": "cosine", "warmup_steps": 5}},
                      lambda i: 0.1 * (i + 1) / 5 if i < 5
                      else 0.1 * 0.5 * (1 + math.cos(math.pi * min(i - 5, 35) / 35))),
    "warmup_epochs+constant": ({"epochs": 4, "schedule": {"type": "constant", "warmup_epochs": 1}},
                               lambda i: 0.1 * (i + 1) / 10 if i < 10 else 0.1),
    # PyTorch OneCycleLR, anneal_strategy="cos", three_phase=False, written out
    "one_cycle": ({"epochs": 4, "schedule": {"type": "one_cycle", "pct_start": 0.25}},
                  lambda i: _cos(0.1 / 25, 0.1, i / 9.0) if i <= 9.0
                  else _cos(0.1, 0.1 / 25 / 1e4, (i - 9.0) / (39.0 - 9.0))),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_schedule_follows_its_formula(name):
    train, formula = FORMULAS[name]
    got = _rates(train, 40)
    want = np.array([formula(i) for i in range(40)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_cosine_restarts_follows_sgdr():
    """Loshchilov & Hutter (2017): period T_i = T_0·t_mul^i, peak m_mul^i."""
    got = _rates({"epochs": 10, "schedule": {"type": "cosine_restarts", "decay_epochs": 1,
                                             "t_mul": 2.0, "m_mul": 0.5}}, 70)
    want = []
    for i in range(70):
        start, period, k = 0, SPE, 0
        while i >= start + period:
            start, period, k = start + period, period * 2, k + 1
        want.append(0.1 * 0.5 ** k * 0.5 * (1 + math.cos(math.pi * (i - start) / period)))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("schedule", [{"type": "cosine", "warmup_steps": 3},
                                      {"type": "plateau", "patience": 1, "decay_rate": 0.5}])
def test_resume_mid_schedule_equals_a_straight_run(tmp_path, monkeypatch, schedule):
    """The run is cut after its first epoch (as an interruption would) and resumed with the
    same schedule: it must end where the uninterrupted run ends."""
    cfg = _config(epochs=3, schedule=schedule)
    straight = mtkit.train(cfg, out=tmp_path / "straight", quiet=True)
    cut_training_after_first_epoch(monkeypatch)
    cut = mtkit.train(cfg, out=tmp_path / "cut", quiet=True)
    assert len(cut.history) == 1
    resumed = mtkit.train(cfg, out=tmp_path / "cut", quiet=True, resume=True)
    a, b = _weights(straight.model), _weights(resumed.model)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)
    if schedule["type"] == "plateau":
        assert [h.get("learning_rate_factor") for h in straight.history] == \
               [h.get("learning_rate_factor") for h in resumed.history]


@pytest.mark.parametrize("clip", [{"clip_norm": 1e-3}, {"clip_value": 1e-4}])
def test_clipping_bounds_one_update(tmp_path, clip):
    """One SGD step at rate 1 from the same initial weights (same seed): the update is the
    (clipped) gradient. The initial point comes from a run whose rate is 1e-12."""
    weights = {}
    for name, extra in (("start", {"learning_rate": 1e-12}), ("free", {}), ("clipped", clip)):
        cfg = _config(**{"optimizer": "sgd", "learning_rate": 1.0, "epochs": 1,
                         "steps_per_epoch": 1, **extra})
        cfg["trunk"]["batch_norm"] = False
        weights[name] = _weights(mtkit.train(cfg, out=tmp_path / name, quiet=True).model)
    w0 = weights["start"]
    free = np.concatenate([(weights["free"][k] - w0[k]).ravel() for k in w0])
    clipped = np.concatenate([(weights["clipped"][k] - w0[k]).ravel() for k in w0])
    if "clip_norm" in clip:
        assert np.linalg.norm(free) > 10 * clip["clip_norm"]  # the clip really bit
        assert np.linalg.norm(clipped) <= clip["clip_norm"] * (1 + 1e-3) + 1e-9
    else:
        assert np.abs(free).max() > 10 * clip["clip_value"]
        assert np.abs(clipped).max() <= clip["clip_value"] * (1 + 1e-3) + 1e-9


def test_weight_average_replaces_the_final_weights(tmp_path):
    cfg = _config(epochs=1, steps_per_epoch=4, learning_rate=0.05)
    raw = mtkit.train(cfg, out=tmp_path / "raw", quiet=True)
    avg = mtkit.train({**cfg, "train": {**cfg["train"], "ema": 0.5}}, out=tmp_path / "ema",
                      quiet=True)
    assert raw.history[0]["val"] == avg.history[0]["val"]  # training itself is identical
    a, b = _weights(raw.model), _weights(avg.model)
    assert any(not np.allclose(a[k], b[k]) for k in a if k.endswith("/0"))  # kernels averaged
    assert raw.metrics["tasks"]["a"]["loss"] != avg.metrics["tasks"]["a"]["loss"]


def test_label_smoothing_matches_its_formula():
    from mtkit.builtin.losses.sparse_categorical_crossentropy import (
        SparseCategoricalCrossentropy as Loss,
    )

    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], np.float32)
    y = np.array([0, 2])
    loss = Loss(Loss.Params(label_smoothing=0.3))
    got = np.asarray(loss.per_example(y, probs))
    target = (1 - 0.3) * np.eye(3)[y] + 0.3 / 3
    np.testing.assert_allclose(got, -(target * np.log(probs)).sum(1), rtol=1e-5)


def test_time_budget_ends_a_real_run_at_its_first_step(tmp_path):
    """The time budget's stop on a fake clock: tests/training/test_time_schedule.py."""
    result = mtkit.train(_config(epochs=5, time_budget=1e-6), out=tmp_path / "run", quiet=True)
    assert [h["steps"] for h in result.history] == [1] and result.metrics["time_budget"]["spent"]


@pytest.mark.parametrize("schedule", ["cosine", "one_cycle", "step", "plateau"])
def test_a_saved_schedule_loads_again(schedule):
    """config.yaml lists every field (defaults too); resume, export and evaluate reload it."""
    import yaml

    from mtkit.config import Config, dump_config, load_config

    config = Config.model_validate({**_config(), "train": {**_config()["train"],
                                                          "schedule": {"type": schedule}}})
    again = load_config(yaml.safe_load(dump_config(config)))
    assert again.train.schedule == config.train.schedule


@pytest.mark.parametrize("setting,needle", [
    ("train.schedule.type=cosin", "did you mean 'cosine'"),
    ("train.schedule={type: cosine, warmup_steps: -2}", "warmup_steps"),
    ("train.clip_norm=0", "clip_norm"),
    ("train.clip_value=-1", "clip_value"),
    ("train.schedule={type: cosine, patience: 3}", "does not apply to schedule 'cosine'"),
])
def test_bad_training_options_are_clean_errors(tmp_path, setting, needle):
    import yaml

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(_config()))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet", "--set", setting)
    assert_clean_error(proc, needle)
    assert not (tmp_path / "run").exists()


def test_xla_with_deterministic_max_pooling_is_a_clean_error(tmp_path):
    """TensorFlow has no deterministic XLA max-pool gradient: refused before any write."""
    import yaml

    config = {"data": {"dataset": "multidigit", "train_size": 32, "val_size": 8,
                       "test_size": 8, "max_digits": 1},
              "trunk": {"type": "conv", "filters": [4], "dense": [8]},
              "tasks": {"length": {"head": "classification", "classes": 3},
                        "digit1": {"head": "classification", "classes": 10}},
              "train": {"epochs": 1, "jit_compile": True}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet")
    assert_clean_error(proc, "train.deterministic: false")
    assert not (tmp_path / "run").exists()
