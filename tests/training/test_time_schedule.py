"""``train.schedule.over: time`` and the time budget (issue 21): the rate over progress =
seconds used / budget against its formula, a run stopping mid-epoch on a fake clock,
resume continuing the progress, mirrored agreeing with one device, and refusals.

The fake clock advances one second per reading. A run reads it once when training
starts, once before each step and once at each epoch's end, so with 7 steps per epoch
the k-th step of epoch e proposes progress (8·(e−1) + k) / budget."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import mtkit
from mtkit.config import TrainConfig
from tests.conftest import assert_clean_error, run_cli
from tests.training.test_task_control import _config, _weights

PEAK = 0.02


def _cos(a, b, pct):
    return b + (a - b) / 2 * (np.cos(np.pi * pct) + 1)


def _one_cycle(p, pct=0.25, div=25.0, final=1e4):
    from mtkit.training.schedules import TIME_RESOLUTION as R

    up_end, down_end, s = pct * R - 1, R - 1, p * R
    start = PEAK / div
    if s <= up_end:
        return _cos(start, PEAK, min(s / up_end, 1.0))
    return _cos(PEAK, start / final, min((s - up_end) / (down_end - up_end), 1.0))


FORMULAS = {
    "cosine": ({"type": "cosine", "alpha": 0.1},
               lambda p: PEAK * (0.9 * 0.5 * (1 + math.cos(math.pi * p)) + 0.1)),
    "linear": ({"type": "linear", "end_factor": 0.2}, lambda p: PEAK + (0.2 * PEAK - PEAK) * p),
    "exponential": ({"type": "exponential", "decay_rate": 0.01}, lambda p: PEAK * 0.01 ** p),
    "one_cycle": ({"type": "one_cycle", "pct_start": 0.25}, _one_cycle),
    "constant": ({"type": "constant"}, lambda p: PEAK),
}


def _timed(schedule: dict, budget: float = 10.0) -> TrainConfig:
    return TrainConfig.model_validate({"learning_rate": PEAK, "time_budget": budget,
                                       "schedule": {**schedule, "over": "time"}})


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_rate_over_time_follows_its_formula(name):
    import tensorflow as tf

    from mtkit.training.schedules import make_schedule

    schedule, formula = FORMULAS[name]
    progress = tf.Variable(0.0)
    sched = make_schedule(_timed(schedule), PEAK, steps_per_epoch=7, progress=progress)
    grid = [0.0, 0.1, 0.25, 0.3, 0.5, 0.77, 0.99, 1.0, 1.5]  # past the budget: the final rate
    got = []
    for p in grid:
        progress.assign(p)
        got.append(float(sched(12345)))  # the optimizer's step does not matter
    np.testing.assert_allclose(got, [formula(min(p, 1.0)) for p in grid], rtol=1e-5, atol=1e-9)


def test_warmup_counts_steps_then_the_curve_follows_time():
    import tensorflow as tf

    from mtkit.training.schedules import make_schedule

    progress = tf.Variable(0.4)
    sched = make_schedule(_timed({"type": "linear", "warmup_steps": 4}), PEAK, 7, progress)
    assert [round(float(sched(i)) / PEAK, 6) for i in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert float(sched(4)) == pytest.approx(PEAK * (1 - 0.4), rel=1e-6)


def _fake_clock(monkeypatch) -> None:
    from mtkit.training.callbacks import time_budget

    ticks = itertools.count()
    monkeypatch.setattr(time_budget, "CLOCK", lambda: float(next(ticks)))


def _timed_run(**train) -> dict:
    # synthetic 240 rows less 10% val and 10% test: 7 steps of (up to) 32 per epoch
    return _config(learning_rate=PEAK, schedule={"type": "linear", "end_factor": 0.2,
                                                 "over": "time"}, **train)


def test_budget_stops_mid_epoch_on_a_fake_clock(monkeypatch, tmp_path):
    _fake_clock(monkeypatch)
    result = mtkit.train(_timed_run(epochs=5, time_budget=10.0), out=tmp_path / "run",
                         quiet=True)
    # epoch 1: steps propose 1..7, its end reads 8; epoch 2's 2nd step proposes 10/10
    assert [h["steps"] for h in result.history] == [7, 2]
    tb = result.metrics["time_budget"]
    assert tb["spent"] and tb["over"] == "time" and tb["progress"] == 1.0
    assert tb["stopped_at"] == {"epoch": 2, "step_in_epoch": 2, "steps": 9}
    assert tb["final_learning_rate"] == pytest.approx(0.2 * PEAK, rel=1e-5)
    # the rate after epoch 1 is the linear curve at the agreed progress of its last step
    assert result.history[0]["time_progress"] == pytest.approx(0.7)
    assert result.history[0]["learning_rate"] == pytest.approx(PEAK * (1 - 0.8 * 0.7), rel=1e-5)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["time_budget"] == tb


@pytest.mark.parametrize("weighting", [{"type": "pcgrad", "every": 2}, {"type": "modo"}])
def test_steps_schedule_with_a_budget_also_stops_mid_epoch(monkeypatch, tmp_path, weighting):
    """With a weighting solved every 2 steps (two compiled steps) or on gradient samples
    (its own step): each takes the proposed progress."""
    _fake_clock(monkeypatch)
    cfg = {**_config(epochs=5, time_budget=4.0), "weighting": weighting}
    result = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    assert [h["steps"] for h in result.history] == [4]
    assert result.metrics["time_budget"]["over"] == "steps"
    assert result.metrics["time_budget"]["final_learning_rate"] == pytest.approx(0.01)


def test_resume_continues_the_progress(monkeypatch, tmp_path):
    """A run cut after epoch 1 and resumed: the checkpoint's seconds put the progress where
    the uninterrupted run has it, so both end with the same weights and rates."""
    cfg = _timed_run(epochs=2, time_budget=100.0)
    _fake_clock(monkeypatch)
    straight = mtkit.train(cfg, out=tmp_path / "straight", quiet=True)
    _fake_clock(monkeypatch)
    mtkit.train({**cfg, "train": {**cfg["train"], "epochs": 1}}, out=tmp_path / "cut", quiet=True)
    _fake_clock(monkeypatch)
    resumed = mtkit.train(cfg, out=tmp_path / "cut", quiet=True, resume=True)
    assert [h["time_progress"] for h in resumed.history] == \
           [h["time_progress"] for h in straight.history] == [0.07, 0.15]
    np.testing.assert_allclose([h["learning_rate"] for h in resumed.history],
                               [h["learning_rate"] for h in straight.history], rtol=1e-6)
    a, b = _weights(straight.model), _weights(resumed.model)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_resuming_a_spent_budget_trains_nothing(monkeypatch, tmp_path):
    _fake_clock(monkeypatch)
    cfg = _timed_run(epochs=3, time_budget=8.0)
    first = mtkit.train(cfg, out=tmp_path / "run", quiet=True)
    assert [h["steps"] for h in first.history] == [7, 1]
    _fake_clock(monkeypatch)
    again = mtkit.train(cfg, out=tmp_path / "run", quiet=True, resume=True)
    assert len(again.history) == 2 and again.metrics["time_budget"]["spent"]


MIRRORED = textwrap.dedent("""
    import itertools, json, sys
    import mtkit
    from mtkit.training.callbacks import time_budget
    cfg = json.loads(sys.argv[1])
    out = {}
    for strategy in ("none", "mirrored"):
        ticks = itertools.count()
        time_budget.CLOCK = lambda: float(next(ticks))
        cfg["train"]["strategy"] = strategy
        r = mtkit.train(cfg, out=sys.argv[2] + "/" + strategy, quiet=True)
        out[strategy] = {"loss": [[h["train"][t]["loss"] for t in sorted(h["train"])]
                                  for h in r.history],
                         "rate": [h["learning_rate"] for h in r.history],
                         "steps": [h["steps"] for h in r.history],
                         "budget": r.metrics["time_budget"]}
    print(json.dumps(out))
""")


def test_mirrored_agrees_with_one_device(tmp_path):
    """2 logical CPU devices: every replica applies the agreed progress's rate and the run
    stops at the same step as on one device (batches of 32 split 16/16)."""
    cfg = _timed_run(epochs=2, time_budget=10.0)
    env = {**os.environ, "MTKIT_LOGICAL_CPUS": "2"}
    proc = subprocess.run([sys.executable, "-c", MIRRORED, json.dumps(cfg), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    one, two = out["none"], out["mirrored"]
    assert one["steps"] == two["steps"] == [7, 2]
    assert one["budget"]["stopped_at"] == two["budget"]["stopped_at"]
    np.testing.assert_allclose(two["rate"], one["rate"], rtol=1e-6)
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)


@pytest.mark.parametrize("setting,needle", [
    ("train.schedule={type: cosine, over: time}", "set train.time_budget"),
    ("train.schedule={type: plateau, over: time}", "not a function of time"),
    ("train.schedule={type: step, boundaries: [1], over: time}", "boundaries are epochs"),
    ("train.schedule={type: cosine, decay_epochs: 2, over: time}", "decay_epochs counts epochs"),
    ("train.schedule={type: cosine, over: clock}", "over"),
])
def test_bad_time_schedules_are_clean_errors(tmp_path, setting, needle):
    import yaml

    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(_config(time_budget=5.0) if "time_budget" not in needle
                                   else _config()))
    proc = run_cli("train", str(path), "--out", str(tmp_path / "run"), "--quiet", "--set", setting)
    assert_clean_error(proc, needle)
    assert not (tmp_path / "run").exists()
