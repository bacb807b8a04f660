"""``mtkit new-plugin``: what it writes, what it refuses (fast, no TensorFlow)."""

from __future__ import annotations

import tomllib

import pytest

from mtkit.errors import MtkitError
from mtkit.scaffold import KINDS, new_plugin, parse_kinds, parse_name, render
from mtkit.scaffold.plugin_sources import EXTRA_FILES
from tests.conftest import assert_clean_error, run_cli


def test_names_are_derived_from_the_distribution_name():
    names = parse_name("mtkit-acme-vision")
    assert (names.dist, names.package, names.short, names.camel) == (
        "mtkit-acme-vision", "mtkit_acme_vision", "acme_vision", "AcmeVision")
    assert names.plugin("loss") == "acme_vision_loss"
    assert parse_name("shapes").package == "shapes"


@pytest.mark.parametrize("bad", ["Acme", "mtkit-", "1acme", "ac me", "acme--x", "mtkit", "json",
                                 "numpy", "class", "mtkit-acme!"])
def test_invalid_names_are_refused(bad):
    with pytest.raises(MtkitError, match="is not valid"):
        parse_name(bad)


def test_kinds_are_parsed_in_canonical_order():
    assert parse_kinds(None) == KINDS
    assert parse_kinds("loss, trunk") == ("trunk", "loss")
    with pytest.raises(MtkitError, match="unknown plugin kind 'heads'"):
        parse_kinds("trunk,heads")


@pytest.mark.parametrize("kinds", [KINDS, ("loss",), ("head", "weighting")])
def test_only_the_asked_kinds_are_generated_and_every_file_is_valid(kinds):
    files = render(parse_name("mtkit-acme"), kinds)
    src = "src/mtkit_acme"
    modules = {p.rsplit("/", 1)[1][:-3] for p in files if p.startswith(src) and p.endswith(".py")}
    extra = {name[:-3] for k in kinds for name in EXTRA_FILES.get(k, {})}
    assert modules == {"__init__", "hooks", *kinds, *extra}
    assert ("layers" in modules) == ("trunk" in kinds) and ("decode" in modules) == ("head" in kinds)
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")  # syntax-valid Python
    hooks = files[f"{src}/hooks.py"]
    for kind, hook in (("trunk", "register_trunks"), ("head", "register_heads"),
                       ("loss", "register_losses"), ("weighting", "register_weightings"),
                       ("dataset", "register_datasets")):
        assert (f"def {hook}(register)" in hooks) == (kind in kinds)
    meta = tomllib.loads(files["pyproject.toml"])
    assert meta["project"]["name"] == "mtkit-acme"
    assert meta["project"]["entry-points"]["mtkit"] == {"acme": "mtkit_acme.hooks"}
    example = files[f"{src}/example.yaml"]
    assert ("acme_dataset" in example) == ("dataset" in kinds)
    assert ("loss: acme_loss" in example) == ("loss" in kinds)


def test_an_existing_empty_folder_is_filled(tmp_path):
    target = tmp_path / "pkg"
    target.mkdir()
    made = new_plugin("mtkit-acme", ("trunk",), target)
    assert made.root == target and (target / "src/mtkit_acme/trunk.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # no temp folder left


def test_cli_refuses_a_non_empty_target_and_writes_nothing(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    proc = run_cli("new-plugin", "mtkit-acme", "--dir", str(target))
    assert_clean_error(proc, "already exists and is not empty", str(target))
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_cli_refuses_bad_names_and_kinds(tmp_path):
    proc = run_cli("new-plugin", "My Plugin", cwd=tmp_path)
    assert_clean_error(proc, "plugin name 'My Plugin' is not valid", "lowercase")
    proc = run_cli("new-plugin", "mtkit-acme", "--kind", "trunk,optimizer", cwd=tmp_path)
    assert_clean_error(proc, "unknown plugin kind 'optimizer'", "trunk, head, loss")
    assert list(tmp_path.iterdir()) == []
