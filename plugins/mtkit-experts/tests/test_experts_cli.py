"""Through the real CLI: the package is discovered by entry point; bad configs fail cleanly (exit 2)."""

from __future__ import annotations

import json

import pytest
import yaml


def write_config(tmp_path, trunk: dict, tasks: dict | None = None, data: dict | None = None):
    cfg = {
        "data": data or {"dataset": "synthetic", "rows": 100, "features": 4},
        "trunk": trunk,
        "tasks": tasks or {"a": {"head": "binary"}, "b": {"head": "regression"}},
        "train": {"epochs": 1},
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def assert_clean_error(proc, *needles: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    assert out.lstrip().startswith("error: "), out
    for needle in needles:
        assert needle in out, f"{needle!r} not in {out}"


def test_plugins_are_discovered_through_the_entry_point(cli):
    proc = cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    found = {(e["kind"], e["name"]): e for e in json.loads(proc.stdout)}
    for kind, name in [("trunk", "mmoe"), ("trunk", "omoe"), ("trunk", "cgc"), ("trunk", "ple"),
                       ("trunk", "cross_stitch"), ("dataset", "mmoe_synthetic")]:
        entry = found[(kind, name)]
        assert entry["provider"] == "mtkit-experts" and entry["status"] == "ok", entry


BAD = {
    "zero_experts": ({"type": "mmoe", "experts": 0}, ["trunk.experts", "greater than or equal to 1"]),
    "zero_shared_experts": ({"type": "ple", "shared_experts": 0}, ["trunk.shared_experts"]),
    "unknown_expert": ({"type": "mmoe", "expert": {"type": "mlpp"}},
                       ["trunk.expert.type", "unknown trunk 'mlpp'", "did you mean 'mlp'"]),
    "per_task_expert": ({"type": "cgc", "expert": {"type": "mmoe"}},
                        ["trunk.expert.type", "one feature tensor per task", "cannot serve as an expert"]),
    "bad_expert_field": ({"type": "mmoe", "expert": {"type": "mlp", "units": [], "bogus": 1}},
                         ["trunk.expert.units", "trunk.expert.bogus", "cfg.yaml"]),
    "omoe_has_one_gate": ({"type": "omoe", "gates": {"a": {"hidden": [4]}}},
                          ["trunk.gates", "unknown key"]),
    "bad_upper_expert": ({"type": "cross_stitch", "upper_expert": {"type": "mlp", "dropout": 2}},
                         ["trunk.upper_expert.dropout"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_trunk_config_is_a_clean_error(case, cli, tmp_path):
    trunk, needles = BAD[case]
    proc = cli("train", str(write_config(tmp_path, trunk)), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, *needles)
    assert not (tmp_path / "run").exists()


def test_gate_over_a_missing_task_is_a_clean_error(cli, tmp_path):
    trunk = {"type": "mmoe", "experts": 2, "gates": {"a": {"hidden": [4]}, "nosuch": {"hidden": [4]}}}
    proc = cli("train", str(write_config(tmp_path, trunk)), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "trunk.gates", "'nosuch'", "the tasks are a, b")
    assert not (tmp_path / "run").exists()


def test_mmoe_synthetic_half_given_sine_shape_is_a_clean_error(cli, tmp_path):
    data = {"dataset": "mmoe_synthetic", "rows": 50, "sinusoids": 2, "alphas": [1.0, 2.0]}
    path = write_config(tmp_path, {"type": "mmoe"}, data=data,
                        tasks={"a": {"head": "regression"}, "b": {"head": "regression"}})
    proc = cli("train", str(path), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "give both alphas and betas")
    assert not (tmp_path / "run").exists()


def test_mmoe_synthetic_needs_two_regression_tasks(cli, tmp_path):
    path = write_config(tmp_path, {"type": "mmoe"}, data={"dataset": "mmoe_synthetic", "rows": 50})
    proc = cli("train", str(path), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "mmoe_synthetic", "two scalar regression targets", "a (binary)")
