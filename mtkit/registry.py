"""The plugin registry: built-ins plus every installed ``mtkit`` entry point.

Loading never lets one bad plugin take the others down: a package that fails to import,
implements an unknown hook, raises in a hook or registers something that is not a plugin
class is recorded as *broken* (with the first line of its error) and skipped.
Lookups are by kind + name; a name offered by two packages must be picked as
``package:name``.
"""

from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass, field
from importlib import metadata

import pluggy

from mtkit import hookspecs
from mtkit.errors import PluginError
from mtkit.plugin_types import KIND_TABLE, Plugin

BUILTIN_PROVIDER = "mtkit"

BUILTIN_KINDS = tuple(k.plural for k in KIND_TABLE)
"""Folders under ``mtkit/builtin/``, one per kind (derived from the kind table)."""


def builtin_modules() -> list[str]:
    """Every module under ``mtkit/builtin/<kind>/`` (one plugin per file; ``_x`` are helpers)."""
    import pkgutil

    names = []
    for kind in BUILTIN_KINDS:
        pkg = importlib.import_module(f"mtkit.builtin.{kind}")
        names += [f"{pkg.__name__}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)
                  if not m.name.startswith("_")]
    return sorted(names)

def checkout_providers() -> dict[str, tuple[str, str]]:
    """``{entry-point name: (distribution, folder)}`` of the plugin packages shipped beside
    this mtkit (``plugins/*/pyproject.toml`` of a source checkout; empty otherwise).

    Entry points are named after the plugin they register (one module per plugin), so a
    missing plugin whose name matches one gets a "pip install" hint, without the core
    knowing any first-party package by name.
    """
    import tomllib
    from pathlib import Path

    found: dict[str, tuple[str, str]] = {}
    for pyproject in sorted((Path(__file__).resolve().parents[1] / "plugins").glob("*/pyproject.toml")):
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for ep_name in project.get("entry-points", {}).get(hookspecs.ENTRY_POINT_GROUP, {}):
            found.setdefault(ep_name, (project.get("name", pyproject.parent.name),
                                       pyproject.parent.name))
    return found


HOOK_OF_KIND = {k.name: k.hook for k in KIND_TABLE}
"""Kind → hook name (derived from the kind table)."""


@dataclass
class Entry:
    """One registered plugin (or one broken package when ``status != 'ok'``)."""

    kind: str
    name: str
    provider: str
    version: str
    status: str = "ok"
    cls: type[Plugin] | None = None
    summary: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "provider": self.provider,
            "version": self.version,
            "status": self.status,
        }


@dataclass
class Registry:
    """All plugins known to this process, grouped by kind."""

    entries: list[Entry] = field(default_factory=list)
    broken: list[Entry] = field(default_factory=list)
    pm: pluggy.PluginManager | None = None

    def all(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: (e.kind, e.name, e.provider)) + self.broken

    def names(self, kind: str) -> list[str]:
        return sorted({e.name for e in self.entries if e.kind == kind})

    def get(self, kind: str, ref: str, where: str = "") -> type[Plugin]:
        """The plugin class for ``ref`` (``name`` or ``package:name``), or a clear error."""
        at = f" (at {where})" if where else ""
        provider, _, name = ref.rpartition(":")
        matches = [
            e
            for e in self.entries
            if e.kind == kind and e.name == name and (not provider or e.provider == provider)
        ]
        if len(matches) == 1:
            return matches[0].cls  # type: ignore[return-value]
        if len(matches) > 1:
            who = " and ".join(f"'{e.provider}'" for e in matches)
            picks = ", ".join(f"'{e.provider}:{name}'" for e in matches)
            raise PluginError(
                f"{kind} '{name}'{at} is offered by two packages, {who}; write one of "
                f"{picks} to pick one, or uninstall the package you do not want."
            )
        available = self.names(kind)
        hint = ""
        known, folder = checkout_providers().get(name, (None, None))
        broken = [b for b in self.broken]
        if known and not any(e.provider == known for e in self.entries):
            hint = f" It is provided by the package '{known}': pip install {known}" + (
                f" (or `pip install plugins/{folder}` from an mtkit checkout)."
            )
        else:
            close = difflib.get_close_matches(name, available, n=1)
            if close:
                hint = f" — did you mean '{close[0]}'?"
        if broken:
            hint += " Broken plugin packages (see `mtkit plugins`): " + ", ".join(
                b.provider for b in broken
            ) + "."
        avail = ", ".join(available) or "none"
        raise PluginError(f"unknown {kind} '{ref}'{at}{hint} available: {avail}.")


def _env_list(var: str) -> set[str] | None:
    raw = os.environ.get(var)
    if raw is None:
        return None
    return {p.strip() for p in raw.split(",") if p.strip()}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def load_registry(entry_points: bool = True) -> Registry:
    """Build a registry from the built-ins and (unless disabled) installed entry points.

    ``MTKIT_DISABLE_PLUGINS=a,b`` skips those entry points / distributions;
    ``MTKIT_LOAD_PLUGINS=a,b`` loads only those (built-ins always load).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    reg = Registry(pm=pm)
    version = metadata.version("mtkit") if _installed("mtkit") else "0"
    sources: list[tuple[object, str, str, str]] = []  # (module, plugin name, provider, ver)
    for modname in builtin_modules():
        sources.append((importlib.import_module(modname), modname, BUILTIN_PROVIDER, version))

    if entry_points:
        block = _env_list("MTKIT_DISABLE_PLUGINS") or set()
        allow = _env_list("MTKIT_LOAD_PLUGINS")
        for ep in sorted(metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP), key=str):
            dist = ep.dist.name if ep.dist else ep.name
            dist_version = ep.dist.version if ep.dist else "?"
            if {ep.name, dist} & block or (allow is not None and not {ep.name, dist} & allow):
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken package must not take others down
                reg.broken.append(_broken(dist, dist_version, f"import failed: {_first_line(exc)}"))
                continue
            sources.append((module, f"{dist}:{ep.name}", dist, dist_version))

    for module, plugin_name, provider, ver in sources:
        mismatch = api_mismatch(module, provider)
        if mismatch:
            reg.broken.append(_broken(provider, ver, mismatch))
            continue
        try:
            pm.register(module, name=plugin_name)
            pm.check_pending()
        except Exception as exc:
            if pm.is_registered(module):
                pm.unregister(module)
            reg.broken.append(_broken(provider, ver, f"rejected: {_first_line(exc)}"))
            continue
        try:
            new = _collect(pm, module, provider, ver)
        except PluginError as exc:
            pm.unregister(module)
            reg.broken.append(_broken(provider, ver, str(exc)))
            continue
        reg.entries.extend(new)
    return reg


def api_mismatch(module: object, provider: str) -> str | None:
    """Why ``module`` cannot be loaded by this mtkit's plugin API, or None.

    A module declares the API it was written for with ``MTKIT_PLUGIN_API = <int>``; one
    that declares nothing is taken to match (most plugins never need to say).
    """
    declared = getattr(module, hookspecs.API_ATTRIBUTE, None)
    if declared is None or declared == hookspecs.PLUGIN_API_VERSION:
        return None
    return (f"written for mtkit plugin API {declared!r}, but this mtkit provides API "
            f"{hookspecs.PLUGIN_API_VERSION}; install a release of '{provider}' made for this "
            f"mtkit (or the mtkit release the package asks for in its requirements).")


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
        return True
    except metadata.PackageNotFoundError:
        return False


def _broken(provider: str, version: str, why: str) -> Entry:
    return Entry(kind="package", name=provider, provider=provider, version=version,
                 status=f"broken: {why}")


def _collect(pm: pluggy.PluginManager, module: object, provider: str, ver: str) -> list[Entry]:
    """Call this module's hook implementations; validate what each registers."""
    found: list[Entry] = []
    for row in KIND_TABLE:
        kind, hook_name, base = row.name, row.hook, row.base
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            if impl.plugin is not module:
                continue

            def register(cls: object, name: str | None = None, _kind: str = kind,
                         _base: type = base, _hook: str = hook_name) -> None:
                if not (isinstance(cls, type) and issubclass(cls, _base)):
                    raise PluginError(
                        f"{_hook} registered {cls!r}, which is not a subclass of "
                        f"mtkit.{_base.__name__}"
                    )
                plugin_name = name or cls.name
                if not plugin_name:
                    raise PluginError(f"{cls.__name__} has no `name`")
                found.append(Entry(kind=_kind, name=plugin_name, provider=provider,
                                   version=ver, cls=cls, summary=cls.summary()))

            try:
                impl.function(register=register)
            except PluginError as exc:
                raise PluginError(f"{hook_name}: {exc}") from exc
            except Exception as exc:
                raise PluginError(f"{hook_name} raised {_first_line(exc)}") from exc
    return found


def import_keras_modules(reg: Registry | None = None) -> None:
    """Import every plugin's ``keras_modules`` (their custom layers register themselves with
    Keras), so a saved model using them loads in safe mode; call with TensorFlow up."""
    for entry in (reg or get_registry()).entries:
        for name in getattr(entry.cls, "keras_modules", ()):
            try:
                importlib.import_module(name)
            except Exception as exc:
                raise PluginError(
                    f"{entry.kind} '{entry.name}' (package '{entry.provider}') names Keras module "
                    f"'{name}' in keras_modules, which fails to import ({_first_line(exc)}); "
                    "fix or reinstall that package.") from None


_REGISTRY: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded once."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_registry()
    return _REGISTRY


def reset_registry() -> None:
    """Forget the loaded registry (tests, or after installing a package)."""
    global _REGISTRY
    _REGISTRY = None
