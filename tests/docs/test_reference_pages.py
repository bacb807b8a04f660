"""Pages generated from code or quoting it must match it: CLI reference, errors, plugin guide."""

from __future__ import annotations

import ast
import importlib.util
import re
from functools import cache
from pathlib import Path

import mtkit.hookspecs as hookspecs
from mtkit.registry import HOOK_OF_KIND
from tests.docs.markdown_blocks import ROOT

HOOKS = sorted(n for n, f in vars(hookspecs).items()
               if callable(f) and hasattr(f, "mtkit_spec"))


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date():
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == _load_tool("gen_cli_reference").render(), (
        "docs/cli.md is stale: run .venv/bin/python tools/gen_cli_reference.py")


def test_builtin_plugin_pages_are_up_to_date():
    pages = _load_tool("gen_plugin_reference").render()
    for name, text in pages.items():
        committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"docs/{name} is stale: run .venv/bin/python tools/gen_plugin_reference.py")


def test_every_plugin_of_the_live_registry_has_a_docs_entry():
    """Built-ins: a section of their generated page; first-party packages: their name in
    a page of docs/ (their tutorial)."""
    from mtkit.plugin_types import KIND_TABLE
    from mtkit.registry import BUILTIN_PROVIDER, checkout_providers, load_registry

    plural = {k.name: k.plural for k in KIND_TABLE}
    first_party = {dist for dist, _ in checkout_providers().values()}
    installed = {e.provider for e in load_registry().entries}
    assert first_party <= installed, "make setup installs every package under plugins/"
    site = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    for e in load_registry().entries:
        if e.provider == BUILTIN_PROVIDER:
            page = (ROOT / "docs" / f"builtin-{plural[e.kind]}.md").read_text(encoding="utf-8")
            assert f"## `{e.name}`" in page, (e.kind, e.name)
        elif e.provider in first_party:
            assert f"`{e.name}`" in site, f"{e.provider}'s {e.kind} '{e.name}' is in no docs page"


def test_cli_reference_lists_every_command():
    import typer.main

    from mtkit.cli import app

    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = typer.main.get_command(app).commands
    assert {"train", "plugins", "new-plugin"} <= set(commands)
    for name, command in commands.items():
        assert f"## `mtkit {name}`" in page
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option":
                assert f"`{param.opts[0]}`" in page, (name, param.opts)


@cache
def _message_literals() -> str:
    """Every string literal (and literal part of f-strings) in mtkit and first-party plugins."""
    parts = []
    files = [*(ROOT / "mtkit").rglob("*.py"), *(ROOT / "plugins").glob("*/src/**/*.py")]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parts += [n.value for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return "\n".join(parts)


def test_every_error_the_errors_page_explains_is_still_raised():
    """Each `### ` entry names words of a real message; they must occur in the source."""
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    headings = [h for h in page.splitlines() if h.startswith("### ")]
    assert len(headings) >= 25
    literals = _message_literals()
    for heading in headings:
        stems = re.findall(r"`([^`]+)`", heading)
        assert stems, f"errors.md heading without a quoted message: {heading}"
        for stem in stems:
            assert stem in literals, f"errors.md quotes {stem!r}, which no message contains"


def test_registry_serves_exactly_the_hooks_of_the_contract():
    assert sorted(HOOK_OF_KIND.values()) == HOOKS
    assert len(HOOKS) == 5


def _section(guide: str, hook: str) -> str:
    start = guide.index(f"### `{hook}`")
    ends = [e for e in (guide.find("\n### ", start + 4), guide.find("\n## ", start + 4)) if e > 0]
    return guide[start:min(ends, default=len(guide))]


def test_every_hook_has_a_section_with_its_arguments_and_return_value():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for hook in HOOKS:
        assert f"### `{hook}`" in guide, f"docs/plugins.md has no section for {hook}"
        section = _section(guide, hook)
        assert f"def {hook}(register)" in section
        assert "**Arguments:**" in section and "**Returns:**" in section, hook
        assert "register(cls, name=None)" in section, hook


def _fixture_packages_installed_by_tests() -> set[str]:
    """Fixture distributions under tests/plugins that a test or conftest installs by name."""
    test_sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py")
                             if p.name.startswith(("test_", "conftest")))
    return {d.name for d in (ROOT / "tests" / "plugins").iterdir()
            if d.is_dir() and f'"{d.name}"' in test_sources}


def test_every_hook_is_exercised_by_a_test():
    """Like datasette's check: each hook is implemented by a fixture package a test installs."""
    installed = _fixture_packages_installed_by_tests()
    assert "mtkit-example-plugin" in installed
    for hook in HOOKS:
        users = [name for name in installed
                 if any(f"def {hook}(register)" in p.read_text(encoding="utf-8")
                        for p in (ROOT / "tests" / "plugins" / name).rglob("*.py")
                        if "build" not in p.relative_to(ROOT / "tests" / "plugins").parts)]
        assert users, f"no installed test fixture implements {hook}; add one and test it"


def test_scaffold_generates_every_hook():
    from mtkit.scaffold import KINDS, parse_name, render

    hooks_py = render(parse_name("mtkit-acme"), KINDS)["src/mtkit_acme/hooks.py"]
    for hook in HOOKS:
        assert f"def {hook}(register)" in hooks_py


def test_plugin_guide_embeds_the_example_package():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for path in ("tests/plugins/mtkit-example-plugin/pyproject.toml",
                 "tests/plugins/mtkit-example-plugin/mtkit_example_plugin/__init__.py"):
        assert f"<!-- embed: {path} -->" in guide
        assert (ROOT / path).is_file()
    assert Path(ROOT / "docs" / "plugins.md").stat().st_size > 0
