"""Δm signs each task by the direction its head declares: a fixture plugin's head with a
lower-is-better ``spread``, a higher-is-better ``closeness`` and an undeclared ``wobble``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from tests.conftest import assert_clean_error, run_cli

CONFIG = {"data": {"dataset": "synthetic", "rows": 160, "features": 4},
          "trunk": {"type": "mlp", "units": [6]},
          "tasks": {"near": {"head": "gauge", "metrics": ["closeness"]},
                    "tight": {"head": "gauge", "metrics": ["spread", "closeness"]}},
          "train": {"epochs": 1, "batch_size": 40, "seed": 0}}


def _write(tmp_path, cfg) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_delta_m_uses_the_heads_directions(tmp_path, gauge_plugin_env):
    out = tmp_path / "cmp"
    proc = run_cli("compare", _write(tmp_path, CONFIG), "--weightings", "sum", "--out",
                   str(out), env=gauge_plugin_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rep = json.loads((out / "compare.json").read_text())
    assert rep["metrics"] == {"near": "closeness", "tight": "spread"}
    assert rep["directions"] == {"near": 1, "tight": -1}

    def metric(run, task, name):
        m = json.loads((out / "runs" / f"{run}-seed0" / "metrics.json").read_text())
        return m["tasks"][task][name]

    # by hand: closeness rising is a gain, spread rising is a loss
    near = ((metric("mtl-sum", "near", "closeness") - metric("single-near", "near", "closeness"))
            / metric("single-near", "near", "closeness"))
    tight = -((metric("mtl-sum", "tight", "spread") - metric("single-tight", "tight", "spread"))
              / metric("single-tight", "tight", "spread"))
    (row,) = [r for r in rep["variants"] if r["variant"] == "mtl-sum"]
    assert row["delta_m"]["seeds"]["0"] == pytest.approx(100 * np.mean([near, tight]))
    assert near != 0 and tight != 0  # both terms really enter the mean


def test_a_metric_without_a_direction_is_refused(tmp_path, gauge_plugin_env):
    cfg = json.loads(json.dumps(CONFIG))
    cfg["tasks"]["tight"]["metrics"] = ["wobble", "spread"]
    proc = run_cli("compare", _write(tmp_path, cfg), "--out", str(tmp_path / "cmp"),
                   env=gauge_plugin_env)
    assert_clean_error(proc, "tasks.tight.metrics", "'wobble'", "head 'gauge'",
                       "mtkit-gauge-plugin", "higher_is_better", "spread, closeness")
    assert not (tmp_path / "cmp" / "runs").exists()
