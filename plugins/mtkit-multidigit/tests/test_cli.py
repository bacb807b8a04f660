"""The package through the real CLI and real entry-point discovery: configs, errors, absence."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
import yaml
from mtkit_multidigit.multidigit import DEMO_CONFIG, Multidigit
from multidigit_helpers import ROOT, assert_clean_error, run_mtkit

CONFIG = ROOT / "configs" / "multidigit.yaml"


def test_packaged_demo_config_and_top_level_config_are_identical():
    assert DEMO_CONFIG.is_file()
    assert DEMO_CONFIG.read_bytes() == CONFIG.read_bytes()
    assert Multidigit.demo_config == str(DEMO_CONFIG)


def test_mtkit_train_without_a_config_picks_the_packaged_demo():
    from mtkit.cli import default_config

    assert default_config() == DEMO_CONFIG


def test_both_configs_plan():
    from mtkit.api import plan

    md = plan(CONFIG)
    assert type(md.dataset).name == "multidigit"
    assert list(md.tasks) == ["length", *[f"digit{i}" for i in range(1, 6)]]
    svhn = plan(ROOT / "configs" / "svhn.yaml")
    assert type(svhn.dataset).name == "svhn" and svhn.tasks["length"].head.params.classes == 7


def test_entry_points_are_discovered_from_the_installed_package():
    proc = run_mtkit("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(proc.stdout)}
    for name in ("multidigit", "svhn"):
        assert rows[("dataset", name)]["provider"] == "mtkit-multidigit"
        assert rows[("dataset", name)]["status"] == "ok"


@pytest.mark.parametrize("value", ["0", "6"])
def test_max_digits_out_of_range(value, tmp_path):
    proc = run_mtkit("train", str(CONFIG), "--set", f"data.max_digits={value}",
                     "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "data.max_digits", "between 1 and 5", str(CONFIG))
    assert not (tmp_path / "run").exists()


def test_max_digits_above_the_configured_heads(tmp_path):
    raw = yaml.safe_load(CONFIG.read_text())
    for name in ("digit4", "digit5"):
        del raw["tasks"][name]
    cfg = tmp_path / "three_heads.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    proc = run_mtkit("train", str(cfg), "--out", str(tmp_path / "run"))
    assert_clean_error(proc, "data.max_digits", "digit1..digit3")


def test_without_the_package_the_core_names_the_package_to_install(tmp_path):
    env = {"MTKIT_DISABLE_PLUGINS": "mtkit-multidigit"}
    proc = run_mtkit("train", str(CONFIG), "--out", str(tmp_path / "run"), env=env)
    assert_clean_error(proc, "dataset 'multidigit'", "mtkit-multidigit", "pip install")
    listed = json.loads(run_mtkit("plugins", "--json", env=env).stdout)
    assert not any(r["provider"] == "mtkit-multidigit" for r in listed)
    # The core still works: the built-in demo config trains without the package.
    from mtkit.api import DEMO_CONFIG

    proc = run_mtkit("train", str(DEMO_CONFIG), "--out", str(tmp_path / "core"), "--quiet",
                     "--set", "train.epochs=1", "--set", "data.rows=200", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "core" / "metrics.json").is_file()


def test_wheel_declares_dependencies_and_entry_points(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path), str(ROOT / "plugins" / "mtkit-multidigit")],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("mtkit_multidigit-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
        eps = z.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines()
                if line.startswith("Requires-Dist:")]
    for dep in ("mtkit", "scikit-learn", "h5py", "pillow"):
        assert any(r.lower().startswith(dep) for r in requires), (dep, requires)
    assert "[mtkit]" in eps and "mtkit_multidigit.multidigit" in eps and "mtkit_multidigit.svhn" in eps
    assert "mtkit_multidigit/demo.yaml" in names
