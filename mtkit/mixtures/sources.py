"""Named sources of a task mixture: each a dataset plugin and the tasks it labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mtkit.config import Config, DataConfig
from mtkit.plugin_types import Dataset


@dataclass
class Source:
    """One source: its name, dataset plugin (instantiated, params validated) and tasks."""

    name: str
    dataset: Dataset
    tasks: list[str]
    params: dict[str, Any]
    dataset_ref: str


def resolve_sources(config: Config, instantiate: Callable[[str, dict, str], Any]
                    ) -> dict[str, Source]:
    """Instantiate every source's dataset plugin (``instantiate(ref, params, where)``)."""
    out: dict[str, Source] = {}
    for name, sc in (config.data.sources or {}).items():
        ds = instantiate(sc.dataset, sc.params, f"data.sources.{name}.dataset")
        out[name] = Source(name=name, dataset=ds, tasks=list(sc.tasks), params=sc.params,
                           dataset_ref=sc.dataset)
    return out


def source_plan(plan: Any, source: Source) -> Any:
    """The plan as if ``source`` were the only dataset (for loading and scoring it)."""
    data = DataConfig(dataset=source.dataset_ref, **source.params)
    config = plan.config.model_copy(update={"data": data})
    return replace(plan, config=config, dataset=source.dataset, sources=None,
                   source=f"{plan.source}: data.sources.{source.name}")


def labelled_plan(plan: Any, source: Source) -> Any:
    """``source_plan`` restricted to the tasks the source labels (per-source scores)."""
    sub = source_plan(plan, source)
    return replace(sub, tasks={t: plan.tasks[t] for t in plan.tasks if t in source.tasks})
