"""Trunk ``omoe``: one-gate mixture of experts, the baseline of Ma et al. 2018 (KDD, §4).

All tasks share ``experts`` expert networks *and one* softmax gate over them, computed from
the model's inputs; every task receives the same gate-weighted mixture and only the towers
differ. It is MMoE with the per-task gates tied together, which is why the paper uses it as
the clean contrast: any gain of ``mmoe`` over ``omoe`` comes from letting each task weight
the experts its own way, not from the experts themselves.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveInt

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Gate, TaskInfo, Trunk
from mtkit_experts._experts import (
    ExpertParams,
    GateActivation,
    build_expert,
    flat_features,
    gate,
    mix,
    resolve_expert,
)


class OMoEParams(ExpertParams):
    experts: int = Field(4, ge=1, description="Number of shared experts.")
    gate_hidden: list[PositiveInt] = Field(default_factory=list,
                                           description="Hidden units of the one gate (default: none).")
    gate_activation: GateActivation = "relu"


class OMoE(Trunk):
    """One-gate mixture of experts (Ma et al. 2018's OMoE): shared experts, one gate for all tasks."""

    name = "omoe"
    Params = OMoEParams
    per_task_features = True

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> dict[str, Any]:
        p = self.params
        expert = resolve_expert(p.expert, "expert")
        outputs = [build_expert(expert, inputs, tasks, f"expert{i}") for i in range(p.experts)]
        x = flat_features(inputs, "gate_input")
        mixed = mix(gate(x, p.experts, list(p.gate_hidden), p.gate_activation, "gate"), outputs)
        return {t.name: mixed for t in tasks}

    def gates(self, tasks: list[TaskInfo]) -> list[Gate]:
        experts = tuple(f"expert{i}" for i in range(self.params.experts))
        return [Gate(t.name, "gate", experts) for t in tasks]  # one gate, shared by all


@hookimpl
def register_trunks(register):
    register(OMoE)
