"""Refuse a ``train.time_budget`` too small to finish one epoch, before a comparison trains.

A time-budget run stops at the first step after its budget is spent, even mid-epoch: with a
budget shorter than one epoch every variant would see only part of the training set — a
different part for a cheap weighting than for an expensive one (a gradient weighting's
step can cost several times a baseline's) — and be scored after a single cut epoch, so Δm
would compare under-trained models on unequal data. A short probe run per
multitask weighting (two epochs of a few steps, in a temporary folder; the second epoch
is timed, so tracing is not counted) measures the step time and the per-epoch evaluation
time; the epoch estimate is ``step time × steps per epoch + evaluation``.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

from mtkit.errors import ConfigError

PROBE_STEPS = 3


def probe_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The variant's config cut to two epochs of ``PROBE_STEPS`` steps, nothing kept."""
    probe = copy.deepcopy(cfg)
    train = probe.setdefault("train", {})
    train.update(epochs=2, steps_per_epoch=min(PROBE_STEPS, train.get("steps_per_epoch")
                                               or PROBE_STEPS), checkpoint=False)
    for key in ("time_budget", "early_stopping", "tensorboard"):
        train.pop(key, None)
    return probe


def estimate_epoch(cfg: dict[str, Any]) -> dict[str, float]:
    """Train the probe; returns steps per epoch, ms per step, evaluation s, epoch s."""
    from mtkit import api, rundir

    with tempfile.TemporaryDirectory(prefix="mtkit-budget-probe-") as tmp:
        result = api.train(probe_config(cfg), Path(tmp) / "probe", quiet=True)
        sizes = rundir.read_json(Path(tmp) / "probe" / rundir.INFO).get("sizes") or {}
    timed = result.history[-1]
    per_step = float(timed["train_seconds"]) / max(int(timed["steps"]), 1)
    evaluation = max(float(timed["seconds"]) - float(timed["train_seconds"]), 0.0)
    train = cfg.get("train") or {}
    steps = math.ceil(int(sizes.get("train", 0)) / int(train.get("batch_size", 64)))
    if train.get("steps_per_epoch"):
        steps = min(steps, int(train["steps_per_epoch"]))
    return {"steps": steps, "step_ms": 1000 * per_step, "eval_seconds": evaluation,
            "epoch_seconds": per_step * steps + evaluation}


def check_budget(configs: dict[str, dict[str, Any]], source: str) -> dict[str, dict[str, float]]:
    """``configs``: ``{variant name: config}`` to probe (the multitask ones); raises a
    ConfigError naming the slowest variant whose epoch outlasts ``train.time_budget``.
    Returns the estimates (nothing is probed without a budget)."""
    first = next(iter(configs.values()))
    budget = (first.get("train") or {}).get("time_budget")
    if budget is None:
        return {}
    estimates = {name: estimate_epoch(cfg) for name, cfg in configs.items()}
    name, worst = max(estimates.items(), key=lambda kv: kv[1]["epoch_seconds"])
    if float(budget) < worst["epoch_seconds"]:
        fits = max(1, int((float(budget) - worst["eval_seconds"]) * 1000 / worst["step_ms"]))
        raise ConfigError(
            f"{source}: field 'train.time_budget': {budget:g} s is too small to finish one "
            f"epoch: a probe of variant {name} measured {worst['step_ms']:.1f} ms a step, so "
            f"one epoch of {worst['steps']} steps (plus {worst['eval_seconds']:.1f} s of "
            f"evaluation) takes about {worst['epoch_seconds']:.1f} s. Every variant "
            "would stop mid-epoch, having seen a different part of the training set, and "
            "the comparison would score under-trained models on unequal data. Raise train.time_budget to at "
            f"least {math.ceil(1.5 * worst['epoch_seconds'])} s (several epochs is better), or "
            f"cap train.steps_per_epoch (e.g. --set train.steps_per_epoch={fits // 2 or 1}).")
    return estimates
