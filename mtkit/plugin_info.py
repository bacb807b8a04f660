"""What a plugin is, in words and in JSON: its description, parameters and an example config.

One source for ``mtkit plugins --json``, ``mtkit plugins show NAME`` and the generated
docs pages of the built-in plugins (``tools/gen_plugin_reference.py``), all read from the
plugin class itself (docstring, ``Params``, ``example``), so none of them can drift from
the code. No TensorFlow is imported.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from mtkit.plugin_types import KIND_TABLE, Head, Loss, Plugin, Trunk, Weighting


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _type(annotation: Any) -> str:
    """``list[Annotated[int, Gt(gt=0)]]`` → ``list[int]``; module paths dropped."""
    text = str(annotation) if typing.get_args(annotation) else getattr(annotation, "__name__",
                                                                       str(annotation))
    for junk in ("typing.", "annotated_types.", "<class '", "'>"):
        text = text.replace(junk, "")
    text = re.sub(r"Annotated\[([^,\]]+), [^\]]*\]", r"\1", text)
    text = re.sub(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)", r"\1", text)
    return text.replace("NoneType", "None")


def _constraints(field: Any) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "min length",
             "max_length": "max length"}
    found = []
    for item in field.metadata:
        for attr, word in words.items():
            value = getattr(item, attr, None)
            if value is not None:
                found.append(f"{word} {value}")
    return ", ".join(found)


def parameters(params: type[BaseModel]) -> list[dict[str, Any]]:
    """One row per parameter: name, type, default (or "required"), constraints, meaning."""
    rows = []
    for name, field in params.model_fields.items():
        if field.default is not PydanticUndefined:
            default: Any = field.default
        else:
            default = "required" if field.default_factory is None else field.default_factory()
        rows.append({"name": name, "type": _type(field.annotation), "default": default,
                     "required": field.is_required(), "constraints": _constraints(field),
                     "description": field.description or ""})
    return rows


def doc(cls: type[Plugin]) -> str:
    """The class docstring, dedented (the first line is the summary), then what the module
    docstring adds beyond its first line (references, the method in a paragraph)."""
    text = inspect.cleandoc(cls.__doc__ or "")
    module = sys.modules.get(cls.__module__)
    more = inspect.cleandoc(getattr(module, "__doc__", None) or "").partition("\n\n")[2].strip()
    return f"{text}\n\n{more}".strip() if more and more not in text else text


def facts(cls: type[Plugin]) -> list[tuple[str, str]]:
    """Kind-specific facts worth a line: a head's output type and defaults, a loss's
    accepted outputs, a weighting's mode."""
    if issubclass(cls, Head):
        out = [("output type", cls.output_type), ("default loss", cls.default_loss),
               ("default metrics", ", ".join(cls.default_metrics) or "none"),
               ("label dtype", cls.label_dtype)]
        offered = sorted(cls(cls.Params.model_validate(cls.example)).metric_functions())
        out.append(("metrics", ", ".join(offered) or "none"))
        out.append(("decoder", cls.decoder or "none (raw outputs)"))
        return out
    if issubclass(cls, Loss):
        return [("fits outputs", ", ".join(sorted(cls.accepts)) or "any")]
    if issubclass(cls, Weighting):
        return [("mode", cls.mode)]
    if issubclass(cls, Trunk):
        gated = cls.gates is not Trunk.gates
        return [("features", "one per task" if cls.per_task_features else "one shared tensor"),
                ("gates", "declared: diagnostics report expert utilisation" if gated
                 else "none (not a gated trunk)")]
    return []


def example_config(kind: str, name: str, cls: type[Plugin],
                   fitting_head: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config sections that use this plugin with its ``example`` params."""
    params = dict(cls.example)
    if kind == "trunk":
        return {"trunk": {"type": name, **params}}
    if kind == "head":
        return {"tasks": {"my_task": {"head": name, **params}}}
    if kind == "loss":
        return {"tasks": {"my_task": {**(fitting_head or {}), "loss": {"type": name, **params}}}}
    if kind == "weighting":
        return {"weighting": {"type": name, **params} if params else name}
    return {"data": {"dataset": name, **params}}


def fitting_head(loss_cls: type[Loss], heads: list[tuple[str, type[Head]]]
                 ) -> dict[str, Any] | None:
    """``{"head": name, **example params}`` of the first of ``heads`` the loss fits."""
    loss = loss_cls(loss_cls.Params.model_validate(loss_cls.example))
    for name, cls in heads:
        if cls(cls.Params.model_validate(cls.example)).fits_loss(loss):
            return {"head": name, **cls.example}
    return None


def describe(entry: Any) -> dict[str, Any]:
    """``mtkit plugins --json`` row: identity, status, description and parameter schema."""
    row = entry.as_json()
    cls = entry.cls
    if cls is None:  # a broken package
        return {**row, "description": "", "parameters": None}
    return {**row, "description": cls.summary(), "doc": doc(cls),
            "module": cls.__module__, "facts": dict(facts(cls)),
            "parameters": cls.Params.model_json_schema(), "example": dict(cls.example)}


def markdown(entry: Any, heads: list[tuple[str, type[Head]]], level: int = 2) -> list[str]:
    """A plugin's section: summary, facts, parameter table, example config (YAML)."""
    import yaml

    cls = entry.cls
    kind_title = next(k.base.__name__ for k in KIND_TABLE if k.name == entry.kind)
    text = doc(cls)
    out = [f"{'#' * level} `{entry.name}`", "", f"*{kind_title} · `{cls.__module__}`*", ""]
    if text:
        out += [text, ""]
    for key, value in facts(cls):
        out.append(f"* {key}: `{value}`" if value and "none" not in value else f"* {key}: {value}")
    if facts(cls):
        out.append("")
    rows = parameters(cls.Params)
    if rows:
        out += ["| parameter | type | default | constraints | meaning |", "|---|---|---|---|---|"]
        for r in rows:
            default = "required" if r["required"] else f"`{json.dumps(r['default'], default=str)}`"
            out.append(f"| `{r['name']}` | `{_cell(r['type'])}` | {default} | "
                       f"{_cell(r['constraints'])} | {_cell(r['description'])} |")
        out.append("")
    else:
        out += ["No parameters.", ""]
    head = fitting_head(cls, heads) if issubclass(cls, Loss) else None
    example = example_config(entry.kind, entry.name, cls, head)
    text = yaml.safe_dump(example, sort_keys=False, default_flow_style=False, allow_unicode=True)
    out += ["```yaml", text.rstrip(), "```", ""]
    return out


def show(entry: Any, heads: list[tuple[str, type[Head]]]) -> str:
    """``mtkit plugins show NAME``: the plugin's section as plain text (Markdown)."""
    header = [f"{entry.kind} {entry.name} — provider {entry.provider} {entry.version}"
              f" ({entry.status})", ""]
    return "\n".join(header + markdown(entry, heads, level=1)[2:]).rstrip() + "\n"
