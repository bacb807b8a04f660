"""Docs that are generated or quoted from code must match it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import mtkit.hookspecs as hookspecs

ROOT = Path(__file__).resolve().parents[2]


def test_config_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_config_reference.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    committed = (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8")
    assert committed == gen.render(), "run: .venv/bin/python tools/gen_config_reference.py"


def test_every_hook_is_documented_in_the_plugin_guide():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    hooks = [n for n in dir(hookspecs) if n.startswith("register_")]
    assert len(hooks) == 5
    for hook in hooks:
        assert f"`{hook}`" in guide, hook


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Quick start")
    block = readme[start:].split("```")[1]
    assert [ln.strip() for ln in block.strip().splitlines()[1:]] == ["make demo", "make test"]
