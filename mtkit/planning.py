"""Config + registry → a plan: every plugin looked up, its params validated, checked together.

This is where a config that parses but cannot work is refused (unknown plugin, bad plugin
params, a loss that does not fit its head, a metric the head does not offer), before any
TensorFlow is imported or any file is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mtkit.config import Config, format_validation_error
from mtkit.errors import ConfigError, PluginError
from mtkit.plugin_types import Dataset, Head, Loss, Plugin, TaskInfo, Trunk, Weighting
from mtkit.registry import Registry, get_registry


@dataclass
class TaskPlan:
    info: TaskInfo
    head: Head
    loss: Loss
    metrics: list[str]


@dataclass
class Plan:
    config: Config
    source: str
    dataset: Dataset
    trunk: Trunk
    tasks: dict[str, TaskPlan]
    weighting: Weighting
    sources: dict[str, Any] | None = None  # a task mixture: name → mtkit.mixtures.Source

    @property
    def task_infos(self) -> list[TaskInfo]:
        return [t.info for t in self.tasks.values()]


def _instantiate(
    registry: Registry, kind: str, ref: str, params: dict[str, Any], where: str, source: str
) -> Any:
    try:
        cls = registry.get(kind, ref, where=f"{source}: {where}")
    except PluginError:
        raise
    try:
        validated = cls.Params.model_validate(params)
    except ValidationError as exc:
        prefix = where.rsplit(".", 1)[0] if where.endswith((".type", ".head", ".dataset")) else where
        raise ConfigError(
            format_validation_error(exc, source, prefix=prefix).replace(
                "invalid config", f"invalid parameters for {kind} '{ref}'"
            )
        ) from None
    plugin: Plugin = cls(validated)
    return plugin


def resolve_plugins(config: Config, source: str = "<config>", registry: Registry | None = None
                    ) -> Plan:
    """Resolve every plugin named in a validated ``config`` into a Plan; raise a clear error
    on the first problem. ``mtkit.plan(path_or_dict, overrides)`` loads a config and calls
    this."""
    reg = registry or get_registry()
    tasks: dict[str, TaskPlan] = {}
    for name, tc in config.tasks.items():
        head: Head = _instantiate(reg, "head", tc.head, tc.params, f"tasks.{name}.head", source)
        loss_ref = tc.loss.type if tc.loss else head.default_loss
        loss_params = tc.loss.params if tc.loss else {}
        loss: Loss = _instantiate(reg, "loss", loss_ref, loss_params, f"tasks.{name}.loss", source)
        if not head.fits_loss(loss):
            raise ConfigError(
                f"{source}: field 'tasks.{name}.loss': loss '{loss_ref}' does not fit head "
                f"'{tc.head}', whose output is {head.output_type}; this loss takes "
                f"{', '.join(sorted(loss.accepts))} outputs. Use the head's default loss "
                f"'{head.default_loss}' (or remove `loss:`)."
            )
        offered = head.metric_functions()
        metrics = list(tc.metrics) if tc.metrics is not None else list(head.default_metrics)
        for m in metrics:
            if m not in offered:
                raise ConfigError(
                    f"{source}: field 'tasks.{name}.metrics': head '{tc.head}' has no metric "
                    f"'{m}'; available: {', '.join(sorted(offered)) or 'none'}."
                )
        info = TaskInfo(name=name, head=tc.head, head_params=dict(tc.params), weight=tc.weight,
                        output_type=head.output_type, continuous=head.continuous)
        tasks[name] = TaskPlan(info=info, head=head, loss=loss, metrics=metrics)

    sources = None
    if config.data.sources:
        from mtkit.mixtures.sources import resolve_sources

        sources = resolve_sources(config, lambda ref, params, where: _instantiate(
            reg, "dataset", ref, params, where, source))
        dataset: Dataset = next(iter(sources.values())).dataset
    else:
        dataset = _instantiate(
            reg, "dataset", config.data.dataset, config.data.params, "data.dataset", source
        )
    trunk: Trunk = _instantiate(
        reg, "trunk", config.trunk.type, config.trunk.params, "trunk.type", source
    )
    weighting: Weighting = _instantiate(
        reg, "weighting", config.weighting.type, config.weighting.params, "weighting.type", source
    )
    try:
        weighting.validate([t.info for t in tasks.values()])
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return Plan(config=config, source=source, dataset=dataset, trunk=trunk, tasks=tasks,
                weighting=weighting, sources=sources)


make_plan = resolve_plugins
"""Older name of :func:`resolve_plugins` (kept so existing imports work)."""
