"""Write docs/config-reference.md from the pydantic schema (run: python tools/gen_config_reference.py).

A test regenerates it and fails when the committed page differs, so the page cannot drift.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mtkit.config import Config

OUT = Path(__file__).resolve().parents[1] / "docs" / "config-reference.md"

INTRO = """# Config reference

Generated from mtkit's pydantic schema by `tools/gen_config_reference.py`; do not edit by
hand. Keys not listed under `data`, `trunk`, `tasks.<name>`, `tasks.<name>.loss` and
`weighting` are that plugin's own parameters, validated by the plugin (`mtkit plugins`
lists the plugins; the pages of the built-in [trunks](builtin-trunks.md),
[heads](builtin-heads.md), [losses](builtin-losses.md), [weightings](builtin-weightings.md)
and [datasets](builtin-datasets.md) list their parameters).
"""


def _type(annotation) -> str:
    text = str(annotation).replace("typing.", "").replace("mtkit.config.", "")
    for name in ("<class '", "'>"):
        text = text.replace(name, "")
    return text.replace("NoneType", "None")


def _models(annotation) -> list[type[BaseModel]]:
    found = []
    for arg in (typing.get_args(annotation) or (annotation,)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            found.append(arg)
        else:
            found += _models(arg) if typing.get_args(arg) else []
    return found


def rows(model: type[BaseModel], prefix: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        default = field.default if field.default is not PydanticUndefined else (
            "required" if field.default_factory is None else "(computed)")
        if isinstance(default, BaseModel):
            default = "(section)"
        desc = (field.description or "").replace("|", "\\|")
        typ = _type(field.annotation).replace("|", "\\|")
        out.append(f"| `{path}` | `{typ}` | `{default}` | {desc} |")
        for sub in _models(field.annotation):
            sub_prefix = f"{path}.<name>." if typing.get_origin(field.annotation) is dict or \
                "dict[" in str(field.annotation) else f"{path}."
            out += rows(sub, sub_prefix)
    return out


def render() -> str:
    lines = [INTRO, "| field | type | default | meaning |", "|---|---|---|---|"]
    lines += rows(Config, "")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
