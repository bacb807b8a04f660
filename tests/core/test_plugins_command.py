"""`mtkit plugins`, `--json` (description + parameter schema) and `plugins show NAME`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from mtkit import registry
from mtkit.builtin.losses.mse import MeanSquaredError
from tests.conftest import run_cli


def test_json_rows_carry_description_parameters_and_example():
    proc = run_cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(proc.stdout)}
    cls = rows[("head", "classification")]
    assert cls["description"].startswith("Single-label classification")
    assert "classes" in cls["parameters"]["properties"]  # optional: labels can give it
    assert cls["example"] == {"classes": 4} and cls["facts"]["output type"] == "categorical"
    assert rows[("weighting", "mgda")]["facts"]["mode"] == "shared_gradients"


def test_show_prints_parameters_and_a_config_and_refuses_unknown_names():
    proc = run_cli("plugins", "show", "focal")
    assert proc.returncode == 0, proc.stderr
    assert "| `gamma` | `float` | `2.0` | ≥ 0.0 |" in proc.stdout
    assert "loss:\n      type: focal" in proc.stdout
    bad = run_cli("plugins", "show", "fokal")
    assert bad.returncode == 2 and "did you mean 'focal'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_rich_markup_in_summaries_is_printed_as_written(monkeypatch):
    class Ordinal(MeanSquaredError):
        """Ordinal loss over P[y > k] for every threshold k [bold]."""

        name = "ordinal"

    entry = registry.Entry(kind="loss", name="ordinal", provider="acme", version="1",
                           cls=Ordinal, summary=Ordinal.summary())
    monkeypatch.setattr(registry, "_REGISTRY", registry.Registry(entries=[entry]))
    from mtkit.cli import app

    out = CliRunner().invoke(app, ["plugins"], env={"COLUMNS": "250"}).output
    assert "P[y > k] for every threshold k [bold]" in out
