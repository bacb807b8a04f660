"""One customized-gate-control level (Tang et al. 2020), the building block of ``cgc`` and ``ple``.

A level holds ``shared_experts`` experts used by every task plus ``task_experts`` experts
owned by each task. Task k's gate mixes its own experts and the shared ones. When the level
feeds another one (PLE), a shared gate also mixes *all* experts into the shared path's input
for the next level. Keeping task-owned experts out of other tasks' gates is what separates
CGC from MMoE: it stops the "seesaw" where one task's gain is another's loss.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mtkit.plugin_types import Gate, TaskInfo
from mtkit_experts._experts import Expert, GatedParams, build_expert, gate, mix


class ExtractionParams(GatedParams):
    shared_experts: int = Field(2, ge=1, description="Experts shared by all tasks, per level.")
    task_experts: int = Field(1, ge=1, description="Experts owned by each task, per level.")


def level_gates(params: ExtractionParams, tasks: list[TaskInfo], prefix: str,
                with_shared_output: bool) -> list[Gate]:
    """The gates ``extraction_level`` builds, in its column order (own experts, then shared)."""
    shared = tuple(f"{prefix}shared_expert{i}" for i in range(params.shared_experts))
    own = {t.name: tuple(f"{prefix}expert{i}_of_{t.name}" for i in range(params.task_experts))
           for t in tasks}
    gates = [Gate(t.name, f"{prefix}gate_{t.name}", own[t.name] + shared) for t in tasks]
    if with_shared_output:
        gates.append(Gate(None, f"{prefix}shared_gate",
                          tuple(e for t in tasks for e in own[t.name]) + shared))
    return gates


def extraction_level(
    expert: Expert,
    params: ExtractionParams,
    tasks: list[TaskInfo],
    task_inputs: dict[str, dict[str, Any]],
    shared_inputs: dict[str, Any],
    gate_inputs: dict[str, Any],
    shared_gate_input: Any,
    prefix: str,
    with_shared_output: bool,
) -> tuple[dict[str, Any], Any]:
    """Build one level; returns ``({task: features}, shared features or None)``.

    ``task_inputs[k]`` feeds task k's experts, ``shared_inputs`` the shared experts;
    ``gate_inputs[k]`` / ``shared_gate_input`` are the flat tensors the gates look at.
    Layer names: ``{prefix}shared_expert{i}``, ``{prefix}expert{i}_of_{task}``,
    ``{prefix}gate_{task}`` and ``{prefix}shared_gate``.
    """
    shared = [build_expert(expert, shared_inputs, tasks, f"{prefix}shared_expert{i}")
              for i in range(params.shared_experts)]
    own = {t.name: [build_expert(expert, task_inputs[t.name], tasks, f"{prefix}expert{i}_of_{t.name}")
                    for i in range(params.task_experts)]
           for t in tasks}
    features = {}
    for t in tasks:
        pool = own[t.name] + shared
        weights = gate(gate_inputs[t.name], len(pool), params.gate_hidden_for(t.name),
                       params.gate_activation, f"{prefix}gate_{t.name}")
        features[t.name] = mix(weights, pool)
    shared_features = None
    if with_shared_output:
        pool = [e for t in tasks for e in own[t.name]] + shared
        weights = gate(shared_gate_input, len(pool), list(params.gate_hidden), params.gate_activation,
                       f"{prefix}shared_gate")
        shared_features = mix(weights, pool)
    return features, shared_features
