"""Trunk ``ple``: progressive layered extraction (Tang et al. 2020, RecSys).

``levels`` CGC levels stacked. Level 1's experts and gates read the model's inputs; at
level l > 1 task k's experts and gate read task k's level l-1 features, and the shared
experts read the shared path, which a shared gate (over all of the level's experts)
produced. The last level has no shared gate. Experts above level 1 are built from
``upper_expert`` (default: ``expert``) with one flat input named ``features``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from mtkit.errors import MtkitError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Gate, TaskInfo, Trunk
from mtkit_experts._experts import UPPER_INPUT, check_gate_tasks, flat_features, resolve_expert
from mtkit_experts._extraction import ExtractionParams, extraction_level, level_gates


class PLEParams(ExtractionParams):
    expert_fields: ClassVar[tuple[str, ...]] = ("expert", "upper_expert")
    levels: int = Field(2, ge=1, description="Stacked extraction levels (1 = CGC).")
    upper_expert: dict[str, Any] | None = Field(
        None, description="Trunk for experts above level 1 (default: `expert`); it gets the "
        "previous level's flat features as its one input.")


class PLE(Trunk):
    """Progressive layered extraction (Tang et al. 2020): stacked CGC levels with a shared path."""

    name = "ple"
    Params = PLEParams
    per_task_features = True

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> dict[str, Any]:
        p = self.params
        check_gate_tasks(p.gates, tasks)
        first = resolve_expert(p.expert, "expert")
        upper = resolve_expert(p.upper_expert, "upper_expert") if p.upper_expert else first
        x = flat_features(inputs, "gate_input")
        task_inputs = {t.name: inputs for t in tasks}
        gate_inputs = {t.name: x for t in tasks}
        shared_inputs, shared_gate_input = inputs, x
        features: dict[str, Any] = {}
        for level in range(1, p.levels + 1):
            try:
                features, shared = extraction_level(
                    first if level == 1 else upper, p, tasks, task_inputs, shared_inputs,
                    gate_inputs, shared_gate_input, prefix=f"level{level}_",
                    with_shared_output=level < p.levels,
                )
            except MtkitError as exc:
                if level == 1 or p.upper_expert:
                    raise
                raise type(exc)(
                    f"{exc}. Experts above level 1 read the previous level's flat features; set "
                    "trunk.upper_expert to a trunk that takes a flat input, e.g. "
                    "{type: mlp, units: [32]}."
                ) from None
            task_inputs = {k: {UPPER_INPUT: v} for k, v in features.items()}
            gate_inputs = features
            shared_inputs, shared_gate_input = {UPPER_INPUT: shared}, shared
        return features

    def gates(self, tasks: list[TaskInfo]) -> list[Gate]:
        levels = self.params.levels
        return [g for level in range(1, levels + 1)
                for g in level_gates(self.params, tasks, f"level{level}_", level < levels)]


@hookimpl
def register_trunks(register):
    register(PLE)
