"""Built-in weighting: a fixed weighted sum of the per-task losses (the classic default)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Weighting


class SumParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float] | None = Field(
        None, description="Per-task weights; overrides each task's `weight` (default 1.0)."
    )


def fixed_weights(tasks: list[TaskInfo], override: dict[str, float] | None) -> dict[str, float]:
    """Per-task weights from the tasks' `weight` and an optional override, validated."""
    names = [t.name for t in tasks]
    override = override or {}
    unknown = sorted(set(override) - set(names))
    if unknown:
        raise ConfigError(
            f"field 'weighting.weights': no task named {', '.join(map(repr, unknown))}; "
            f"tasks are {', '.join(names)}."
        )
    weights = {t.name: float(override.get(t.name, t.weight)) for t in tasks}
    negative = [k for k, v in weights.items() if v < 0]
    if negative:
        raise ConfigError(f"field 'weighting.weights': weight of {negative[0]!r} is negative; "
                          "weights must be >= 0.")
    if not any(weights.values()):
        raise ConfigError("field 'weighting.weights': all task weights are zero, so nothing "
                          "would be trained; give at least one task a positive weight.")
    return weights


class Sum(Weighting):
    """Weighted sum of task losses with fixed weights (default 1.0 each)."""

    name = "sum"
    Params = SumParams

    def validate(self, tasks: list[TaskInfo]) -> None:
        self.weights = fixed_weights(tasks, self.params.weights)

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        return sum(self.weights[k] * v for k, v in losses.items())


@hookimpl
def register_weightings(register):
    register(Sum)
