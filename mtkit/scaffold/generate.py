"""Write a ready-to-install plugin package: pyproject with the ``mtkit`` entry point, one
plugin module per kind asked for, the hooks that register them, an example config, tests
and a README.

The package is written into a temporary sibling folder and renamed into place at the end,
so a failure never leaves a half-written package behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from mtkit.errors import MtkitError
from mtkit.registry import HOOK_OF_KIND
from mtkit.scaffold import package_files as pf
from mtkit.scaffold.names import KINDS, PluginNames, parse_name
from mtkit.scaffold.plugin_sources import EXTRA_FILES, SOURCES


@dataclass
class Scaffold:
    """What ``new_plugin`` wrote: the package root, its files and the plugin names by kind."""

    root: Path
    names: PluginNames
    kinds: tuple[str, ...]
    files: list[Path] = field(default_factory=list)

    @property
    def plugins(self) -> dict[str, str]:
        return {k: self.names.plugin(k) for k in self.kinds}


def class_name(names: PluginNames, kind: str) -> str:
    """``AcmeTrunk`` for kind ``trunk`` of package ``mtkit-acme``."""
    return f"{names.camel}{kind.capitalize()}"


def _fill(template: str, **values: str) -> str:
    return Template(template).substitute(**values)


def _example(names: PluginNames, kinds: tuple[str, ...]) -> str:
    """The example config: this package's plugin where it has one, a built-in elsewhere."""
    n = names.plugin
    data = (f"  dataset: {n('dataset')}\n  rows: 1000\n  unlabelled: 0.3" if "dataset" in kinds
            else "  dataset: synthetic\n  rows: 1000\n  missing: {group: 0.3}")
    trunk = f"  type: {n('trunk') if 'trunk' in kinds else 'mlp'}\n  units: [32]"
    score = f"    head: {n('head') if 'head' in kinds else 'regression'}"
    if "head" in kinds and "dataset" not in kinds:
        score += "\n    low: -1.5   # the synthetic dataset's scores lie within about ±1.2\n    high: 1.5"
    if "loss" in kinds:
        score += f"\n    loss: {n('loss')}"
    weighting = n("weighting") if "weighting" in kinds else "sum"
    return _fill(pf.EXAMPLE, example_path=f"src/{names.package}/example.yaml", short=names.short,
                 data=data, trunk=trunk, score=score, weighting=weighting)


def render(names: PluginNames, kinds: tuple[str, ...]) -> dict[str, str]:
    """Every file of the package, ``{relative path: text}``."""
    import mtkit

    values = {
        "dist": names.dist, "package": names.package, "short": names.short,
        "Camel": names.camel, "mtkit_version": ".".join(mtkit.__version__.split(".")[:2]),
        "plugin_list": ", ".join(names.plugin(k) for k in kinds),
    }
    src = f"src/{names.package}"
    files = {
        "pyproject.toml": _fill(pf.PYPROJECT, **values),
        f"{src}/__init__.py": _fill(pf.INIT, **values),
        f"{src}/example.yaml": _example(names, kinds),
    }
    hooks = pf.HOOKS_HEAD
    for kind in kinds:
        cls = class_name(names, kind)
        files[f"{src}/{kind}.py"] = _fill(SOURCES[kind], plugin=names.plugin(kind), **values)
        for extra, text in EXTRA_FILES.get(kind, {}).items():
            files[f"{src}/{extra}"] = _fill(text, plugin=names.plugin(kind), **values)
        hooks = hooks.replace("import mtkit\n", f"import mtkit\nfrom {names.package}.{kind} import {cls}\n")
        hooks += _fill(pf.HOOK, hook=HOOK_OF_KIND[kind], cls=cls)
    # imports were inserted in reverse order; sort them so the module reads top to bottom
    head, sep, rest = hooks.partition("import mtkit\n")
    imports, body = rest.split("\n\n", 1)
    hooks = head + sep + "\n" + "\n".join(sorted(imports.strip().splitlines())) + "\n\n" + body
    files[f"{src}/hooks.py"] = hooks
    expected = "\n".join(f'        ("{k}", "{names.plugin(k)}"),' for k in kinds)
    tests = _fill(pf.TESTS_HEAD, expected=expected, **values)
    tests += "".join(_fill(pf.TESTS[k], **values) for k in kinds)
    files[f"tests/test_{names.package}.py"] = tests
    table = "\n".join(f"| {k} | `{names.plugin(k)}` | `src/{names.package}/{k}.py` |" for k in kinds)
    files["README.md"] = _fill(pf.README, table=table, **values)
    return files


def _check_target(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise MtkitError(f"target '{root}' is a file; choose another --dir.")
    if root.is_dir() and any(root.iterdir()):
        raise MtkitError(f"target directory '{root}' already exists and is not empty; choose "
                         "another --dir, or remove it first (nothing was written).")


def new_plugin(name: str, kinds: tuple[str, ...] = KINDS, directory: str | Path | None = None
               ) -> Scaffold:
    """Create plugin package ``name`` with one plugin per kind in ``directory`` (default ./NAME)."""
    names = parse_name(name)
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise MtkitError(f"unknown plugin kind '{bad[0] if bad else ''}'; choose one or more of "
                         f"{', '.join(KINDS)}.")
    kinds = tuple(k for k in KINDS if k in kinds)
    root = Path(directory) if directory is not None else Path(name)
    _check_target(root)
    files = render(names, kinds)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        for rel, text in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _check_target(root)  # again: someone may have written there meanwhile
        tmp.chmod(0o755)
        os.replace(tmp, root)  # replaces an empty directory, else creates it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Scaffold(root=root, names=names, kinds=kinds, files=[root / rel for rel in files])
