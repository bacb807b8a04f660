"""Every YAML, TOML and Python example in README.md and docs/*.md is validated or run.

Conventions for writing examples (so the docs cannot drift from the code):

* ```yaml blocks:
  - with ``data``, ``trunk`` and ``tasks`` at the top: a complete config, validated with
    ``mtkit.load_config`` + ``mtkit.planning.make_plan`` (every plugin resolved, every
    parameter checked);
  - with only some config sections (e.g. just ``weighting:``): a partial config, laid over
    the built-in demo config (``mtkit/demo.yaml``) section by section and validated the same way;
  - anything else (not config sections), or a fragment (below): parsed as YAML only.
* ```toml blocks are parsed with tomllib.
* ```python blocks of one page run in order in one namespace, in a temporary working
  directory that links the repository's top-level folders (so ``configs/...`` paths work and
  ``runs/`` lands in the temporary folder).
  Training is shrunk: every ``mtkit.train`` / ``mtkit.build_model`` call gets the extra
  overrides in ``SHRINK_TRAIN`` and, for known datasets, ``SHRINK_DATA`` (appended last, so
  they win); the run is otherwise real. A fragment (below) is only compiled.
* A fragment is a block whose first line is ``# fragment`` (or ``# fragment: why``), or one
  preceded by the line ``<!-- docs-test: fragment -->`` (invisible on the rendered page): for
  sketches with placeholders such as ``RUN``.
* ``<!-- embed: PATH -->`` on the line before a block: the block must equal that file.
* ``<!-- docs-test: skip REASON -->`` on the line before a block: not run (the reason is shown).
* A config naming a plugin of a first-party package that is not installed (e.g. the
  ``multidigit`` dataset without mtkit-multidigit) is skipped with mtkit's own message.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

import mtkit
import mtkit.api
from mtkit import registry
from mtkit.config import load_config
from mtkit.errors import PluginError
from mtkit.planning import make_plan
from tests.conftest import pip_install_target
from tests.docs.markdown_blocks import ROOT, Block, all_blocks, blocks, doc_pages

CONFIG_SECTIONS = {"data", "inputs", "features", "trunk", "tasks", "weighting", "train"}
REQUIRED_SECTIONS = {"data", "trunk", "tasks"}
SHRINK_TRAIN = ["train.epochs=1", "train.steps_per_epoch=2", "train.train_metrics_rows=64"]
SHRINK_DATA = {
    "synthetic": ["data.rows=300"],
    "mmoe_synthetic": ["data.rows=300"],
    "multidigit": ["data.train_size=128", "data.val_size=32", "data.test_size=32"],
}
MISSING_PACKAGE = "It is provided by the package"


@pytest.fixture(scope="module")
def with_example_plugin(tmp_path_factory):
    """The guide's worked example package, really installed and on sys.path for this module."""
    target = pip_install_target(tmp_path_factory.mktemp("docs_site"), "mtkit-example-plugin")
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registry.reset_registry()
    yield target
    sys.path.remove(str(target))
    registry.reset_registry()


def _id(block: Block) -> str:
    return block.where


def _skip_unless_runnable(block: Block) -> None:
    if block.skip:
        pytest.skip(f"{block.where}: {block.skip}")


def _plan(raw: dict[str, Any], where: str) -> None:
    try:
        make_plan(load_config(raw), where)
    except PluginError as exc:
        if MISSING_PACKAGE in str(exc):
            pytest.skip(f"{where}: {exc}")
        raise


@pytest.mark.parametrize("block", all_blocks("yaml", "yml"), ids=_id)
def test_yaml_example(block: Block, with_example_plugin):
    _skip_unless_runnable(block)
    raw = yaml.safe_load(block.text)
    if block.fragment or not isinstance(raw, dict) or not set(raw) & CONFIG_SECTIONS \
            or not set(raw) <= CONFIG_SECTIONS:
        return  # parsed, which is all a fragment promises
    if REQUIRED_SECTIONS <= set(raw):
        _plan(raw, block.where)
        return
    base = yaml.safe_load(mtkit.api.DEMO_CONFIG.read_text(encoding="utf-8"))
    _plan({**base, **raw}, f"{block.where} (laid over the demo config)")


@pytest.mark.parametrize("block", all_blocks("toml"), ids=_id)
def test_toml_example(block: Block):
    _skip_unless_runnable(block)
    tomllib.loads(block.text)


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.embed], ids=_id)
def test_embedded_file_is_verbatim(block: Block):
    source = ROOT / block.embed
    assert source.is_file(), f"{block.where}: embedded file {block.embed} does not exist"
    assert block.text == source.read_text(encoding="utf-8"), (
        f"{block.where} differs from {block.embed}; copy the file into the page again")


def _dataset_of(config: Any) -> str | None:
    if config is None:
        return "synthetic"
    if isinstance(config, str | Path):
        config = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    if isinstance(config, dict):
        return (config.get("data") or {}).get("dataset")
    return getattr(getattr(config, "data", None), "dataset", None)


def _shrinking(real, train: bool):
    """``real`` (mtkit.train or mtkit.build_model) with SHRINK_* overrides appended."""
    signature = inspect.signature(real)

    def shrunk(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        extra = (SHRINK_TRAIN if train else []) + SHRINK_DATA.get(
            _dataset_of(bound.arguments.get("config")) or "", [])
        bound.arguments["overrides"] = [*(bound.arguments.get("overrides") or []), *extra]
        return real(*bound.args, **bound.kwargs)

    return shrunk


def _workdir(tmp_path: Path) -> Path:
    for entry in ROOT.iterdir():
        if entry.name not in {"runs", ".git", ".venv"} and not entry.name.startswith("."):
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


PYTHON_PAGES = [p for p in doc_pages() if any(b.lang == "python" for b in blocks(p))]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_run(page: Path, tmp_path, monkeypatch, with_example_plugin):
    monkeypatch.chdir(_workdir(tmp_path))
    train = _shrinking(mtkit.api.train, train=True)
    build = _shrinking(mtkit.api.build_model, train=False)
    # Patch the lazy `mtkit` names first: reading one resolves it through mtkit.api, and if
    # mtkit.api were patched already, the shrunk function would become the value that
    # monkeypatch restores — every later test in this process would train 1 epoch.
    for module, name, fn in ((mtkit, "train", train), (mtkit, "build_model", build),
                             (mtkit.api, "train", train), (mtkit.api, "build_model", build)):
        monkeypatch.setattr(module, name, fn, raising=False)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem}"}
    ran = 0
    for block in (b for b in blocks(page) if b.lang == "python"):
        code = compile(block.text, block.where, "exec")
        if block.fragment or block.skip:
            continue
        try:
            exec(code, namespace)
        except PluginError as exc:
            if MISSING_PACKAGE in str(exc):
                pytest.skip(f"{block.where}: {exc}")
            raise AssertionError(f"{block.where}: the example raised {exc}") from exc
        except Exception as exc:
            raise AssertionError(f"{block.where}: the example raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        ran += 1
    assert ran or all(b.fragment or b.skip for b in blocks(page) if b.lang == "python")


def test_the_conventions_see_the_examples():
    """Guards the extractor itself: the pages hold blocks of each kind it handles."""
    langs = {b.lang for b in all_blocks()}
    assert {"yaml", "python", "toml"} <= langs
    assert any(b.fragment for b in all_blocks("python"))
    assert any(b.embed for b in all_blocks("python"))


def _command_lines(block: Block) -> list[str]:
    """``mtkit ...`` invocations in a console block (prompt and trailing comment removed)."""
    found = []
    for line in block.text.splitlines():
        line = line.strip().removeprefix("$ ")
        if line.startswith("mtkit "):
            found.append(line.split(" #", 1)[0].strip())
    return found


CONSOLE_BLOCKS = [b for b in all_blocks("console", "bash", "shell", "sh") if _command_lines(b)]


@pytest.mark.parametrize("block", CONSOLE_BLOCKS, ids=_id)
def test_cli_examples_use_real_commands_and_options(block: Block):
    """Every `mtkit COMMAND --option` shown in a console block exists in the CLI."""
    import shlex

    import typer.main

    from mtkit.cli import app

    commands = typer.main.get_command(app).commands
    for line in _command_lines(block):
        try:
            words = shlex.split(line)
        except ValueError:  # the line closes a quote opened on an earlier line
            words = [w.strip("'\"") for w in line.split()]
        if len(words) < 2 or words[1] in ("--help", "-h"):
            continue
        assert words[1] in commands, f"{block.where}: `{line}`: no command '{words[1]}'"
        command = commands[words[1]]
        known = {"--help"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)
                              if o.startswith("-")}
        for word in words[2:]:
            if word.startswith("-") and word != "-":
                option = word.split("=", 1)[0]
                assert option in known, f"{block.where}: `{line}`: `mtkit {words[1]}` has no {option}"
