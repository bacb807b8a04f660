"""``train.time_budget`` shorter than one epoch is refused before a comparison trains: a
probe run measures the step and evaluation time of each multitask variant."""

from __future__ import annotations

import math

import pytest

import mtkit
from mtkit.comparison.budget import check_budget
from mtkit.errors import ConfigError

CONFIG = {"data": {"dataset": "synthetic", "rows": 4000, "features": 4},
          "trunk": {"type": "mlp", "units": [8]},
          "tasks": {"a": {"head": "classification", "classes": 3}, "b": {"head": "regression"}},
          "train": {"epochs": 3, "batch_size": 8, "seed": 0, "train_metrics_rows": 128}}


def test_the_probe_estimates_an_epoch_and_refuses_a_budget_below_it(tmp_path):
    from mtkit.dataprep import prepare

    ok = {**CONFIG, "train": {**CONFIG["train"], "time_budget": 3600}}
    (est,) = check_budget({"mtl-sum": ok}, "c.yaml").values()
    splits, _ = prepare(mtkit.plan(CONFIG))
    assert est["steps"] == math.ceil(len(splits.train) / 8)  # ~400 steps, not the probe's 3
    assert est["epoch_seconds"] == pytest.approx(est["steps"] * est["step_ms"] / 1000
                                                 + est["eval_seconds"])
    assert est["epoch_seconds"] > 0.2
    tight = {**CONFIG, "train": {**CONFIG["train"], "time_budget": 0.2}}
    with pytest.raises(ConfigError) as err:
        mtkit.compare(tight, ["sum"], [0], tmp_path / "cmp")
    msg = str(err.value)
    for needle in ("<config>: field 'train.time_budget'", "0.2 s is too small to finish one epoch",
                   "variant mtl-sum", f"{est['steps']} steps", "train.steps_per_epoch"):
        assert needle in msg, msg
    assert not (tmp_path / "cmp").exists()  # nothing trained, nothing written
