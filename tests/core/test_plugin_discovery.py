"""Real entry-point discovery of really installed plugin distributions."""

from __future__ import annotations

import json
import textwrap

from tests.conftest import assert_clean_error, run_cli


def _listing(env):
    proc = run_cli("plugins", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_installed_plugin_is_discovered_with_its_provider(example_plugin_env):
    rows = _listing(example_plugin_env)
    mine = {(r["kind"], r["name"]) for r in rows if r["provider"] == "mtkit-example-plugin"}
    assert mine == {("trunk", "tiny"), ("head", "score"), ("loss", "abs_error"),
                    ("dataset", "line"), ("weighting", "halves")}
    assert all(r["version"] == "0.0.1" and r["status"] == "ok" for r in rows
               if r["provider"] == "mtkit-example-plugin")
    # built-ins are listed through the same hooks
    assert ("head", "classification", "mtkit") in {(r["kind"], r["name"], r["provider"]) for r in rows}


def test_config_using_third_party_plugins_trains(example_plugin_env, tmp_path):
    cfg = tmp_path / "line.yaml"
    cfg.write_text(textwrap.dedent("""
        data: {dataset: line}
        trunk: {type: tiny, units: 8}
        tasks:
          a: {head: score}
          b: {head: score}
        weighting: halves
        train: {epochs: 3, batch_size: 32, learning_rate: 0.05}
    """))
    proc = run_cli("train", str(cfg), "--out", str(tmp_path / "run"), "-q", env=example_plugin_env)
    assert proc.returncode == 0, proc.stderr
    hist = json.loads((tmp_path / "run" / "history.json").read_text())["epochs"]
    assert hist[-1]["train"]["a"]["loss"] < hist[0]["train"]["a"]["loss"]
    assert hist[-1]["train"]["b"]["labelled"] > 0


def test_broken_packages_are_listed_and_others_keep_working(troubled_plugins_env):
    rows = _listing(troubled_plugins_env)
    status = {r["provider"]: r["status"] for r in rows if r["kind"] == "package"}
    assert status["mtkit-broken-plugin"].startswith("broken: import failed: ModuleNotFoundError")
    assert "a_module_that_does_not_exist" in status["mtkit-broken-plugin"]
    assert "register_hedas" in status["mtkit-unknownhook-plugin"]
    assert "not a subclass of mtkit.Loss" in status["mtkit-wrongtype-plugin"]
    assert "written for mtkit plugin API 99, but this mtkit provides API 1" in \
        status["mtkit-oldapi-plugin"]
    assert "oldapi_loss" not in {r["name"] for r in rows}
    assert ("trunk", "mlp") in {(r["kind"], r["name"]) for r in rows if r["status"] == "ok"}
    human = run_cli("plugins", env=troubled_plugins_env)
    assert human.returncode == 0 and "broken" in human.stdout


def test_name_collision_names_both_packages_and_package_prefix_picks(troubled_plugins_env, tmp_path):
    def cfg(head: str):
        p = tmp_path / f"{head.replace(':', '_')}.yaml"
        p.write_text(textwrap.dedent(f"""
            data: {{dataset: synthetic, rows: 200, features: 4}}
            trunk: {{type: mlp, units: [8]}}
            tasks:
              t: {{head: "{head}", classes: 3}}
            train: {{epochs: 1}}
        """))
        return p

    proc = run_cli("train", str(cfg("classification")), "--out", str(tmp_path / "r1"),
                   env=troubled_plugins_env)
    assert_clean_error(proc, "'mtkit'", "'mtkit-collide-plugin'", "mtkit:classification")
    assert not (tmp_path / "r1").exists()
    proc = run_cli("train", str(cfg("mtkit:classification")), "--out", str(tmp_path / "r2"), "-q",
                   env=troubled_plugins_env)
    assert proc.returncode == 0, proc.stderr


def test_disable_and_allow_lists(example_plugin_env):
    off = _listing({**example_plugin_env, "MTKIT_DISABLE_PLUGINS": "mtkit-example-plugin"})
    assert not [r for r in off if r["provider"] == "mtkit-example-plugin"]
    only = _listing({**example_plugin_env, "MTKIT_LOAD_PLUGINS": "example"})
    assert {r["provider"] for r in only} <= {"mtkit", "mtkit-example-plugin"}
    assert [r for r in only if r["provider"] == "mtkit-example-plugin"]
