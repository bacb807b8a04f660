"""A scaffolded plugin package, really installed: discovered, trained, exported, self-tested.

This is the plugin author's path from the docs: `mtkit new-plugin`, `pip install`, `mtkit
plugins`, `mtkit train`, `mtkit export --onnx`, and the package's own `pytest`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _install(package: Path, target: Path) -> dict[str, str]:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-compile", "--target", str(target), str(package)],
                   check=True, capture_output=True, timeout=300)
    return {"PYTHONPATH": str(target)}


def _own_tests(package: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-W", "ignore::DeprecationWarning"],
                          cwd=package, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def acme(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """mtkit-acme with all five kinds, scaffolded by the CLI and installed into a target dir."""
    root = tmp_path_factory.mktemp("scaffold")
    proc = run_cli("new-plugin", "mtkit-acme", "--dir", str(root / "mtkit-acme"))
    assert proc.returncode == 0, proc.stderr
    assert "acme_trunk" in proc.stdout and "pip install" in proc.stdout
    return root / "mtkit-acme", _install(root / "mtkit-acme", root / "site")


def test_installed_package_is_discovered(acme):
    _, env = acme
    proc = run_cli("plugins", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    mine = {(r["kind"], r["name"], r["status"]) for r in json.loads(proc.stdout)
            if r["provider"] == "mtkit-acme"}
    assert mine == {("trunk", "acme_trunk", "ok"), ("head", "acme_head", "ok"),
                    ("loss", "acme_loss", "ok"), ("weighting", "acme_weighting", "ok"),
                    ("dataset", "acme_dataset", "ok")}


def test_config_using_it_trains_and_exports_to_onnx_with_parity(acme, tmp_path):
    package, env = acme
    run = tmp_path / "run"
    proc = run_cli("train", str(package / "src/mtkit_acme/example.yaml"), "--out", str(run), "-q",
                   "--set", "train.epochs=2", "--set", "data.rows=400", env=env)
    assert proc.returncode == 0, proc.stderr
    history = json.loads((run / "history.json").read_text())["epochs"]
    assert len(history) == 2 and set(history[-1]["train"]) == {"score", "group"}

    proc = run_cli("export", str(run), "--onnx", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((run / "model.report.json").read_text())
    assert report["passed"] is True
    assert {t["task"] for t in report["parity"]["tasks"]} == {"score", "group"}
    assert all(t["ok"] for t in report["parity"]["tasks"])
    import onnxruntime as ort

    session = ort.InferenceSession(str(run / "model.onnx"), providers=["CPUExecutionProvider"])
    assert {o.name for o in session.get_outputs()} == {"score", "group"}


def test_the_generated_package_passes_its_own_tests(acme):
    package, env = acme
    proc = _own_tests(package, env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_a_package_with_only_some_kinds_passes_its_own_tests(tmp_path):
    proc = run_cli("new-plugin", "mtkit-lossy", "--kind", "loss,head", "--dir",
                   str(tmp_path / "pkg"))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "pkg/src/mtkit_lossy/trunk.py").exists()
    env = _install(tmp_path / "pkg", tmp_path / "site")
    proc = _own_tests(tmp_path / "pkg", env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "8 passed" in proc.stdout
