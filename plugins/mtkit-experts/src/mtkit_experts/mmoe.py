"""Trunk ``mmoe``: multi-gate mixture-of-experts (Ma et al. 2018, KDD).

All tasks share ``experts`` expert networks; each task has its own softmax gate over them,
computed from the model's inputs, and its features are the gate-weighted sum of the expert
outputs. Weakly related tasks can then learn to use different experts, which hard parameter
sharing cannot.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Gate, TaskInfo, Trunk
from mtkit_experts._experts import (
    GatedParams,
    build_expert,
    check_gate_tasks,
    flat_features,
    gate,
    mix,
    resolve_expert,
)


class MMoEParams(GatedParams):
    experts: int = Field(4, ge=1, description="Number of shared experts.")


class MMoE(Trunk):
    """Multi-gate mixture of experts (Ma et al. 2018): shared experts, one softmax gate per task."""

    name = "mmoe"
    Params = MMoEParams
    per_task_features = True

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> dict[str, Any]:
        p = self.params
        check_gate_tasks(p.gates, tasks)
        expert = resolve_expert(p.expert, "expert")
        outputs = [build_expert(expert, inputs, tasks, f"expert{i}") for i in range(p.experts)]
        x = flat_features(inputs, "gate_input")
        return {
            t.name: mix(gate(x, p.experts, p.gate_hidden_for(t.name), p.gate_activation,
                             f"gate_{t.name}"), outputs)
            for t in tasks
        }

    def gates(self, tasks: list[TaskInfo]) -> list[Gate]:
        experts = tuple(f"expert{i}" for i in range(self.params.experts))
        return [Gate(t.name, f"gate_{t.name}", experts) for t in tasks]


@hookimpl
def register_trunks(register):
    register(MMoE)
