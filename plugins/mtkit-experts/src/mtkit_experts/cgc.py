"""Trunk ``cgc``: customized gate control (Tang et al. 2020, RecSys), one extraction level.

Shared experts plus experts owned by each task; each task's gate mixes only its own experts
and the shared ones (see ``_extraction.py``).
"""

from __future__ import annotations

from typing import Any

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Gate, TaskInfo, Trunk
from mtkit_experts._experts import check_gate_tasks, flat_features, resolve_expert
from mtkit_experts._extraction import ExtractionParams, extraction_level, level_gates


class CGC(Trunk):
    """Customized gate control (Tang et al. 2020): shared + task-owned experts, a gate per task."""

    name = "cgc"
    Params = ExtractionParams
    per_task_features = True

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> dict[str, Any]:
        p = self.params
        check_gate_tasks(p.gates, tasks)
        expert = resolve_expert(p.expert, "expert")
        x = flat_features(inputs, "gate_input")
        features, _ = extraction_level(
            expert, p, tasks,
            task_inputs={t.name: inputs for t in tasks}, shared_inputs=inputs,
            gate_inputs={t.name: x for t in tasks}, shared_gate_input=x,
            prefix="", with_shared_output=False,
        )
        return features

    def gates(self, tasks: list[TaskInfo]) -> list[Gate]:
        return level_gates(self.params, tasks, prefix="", with_shared_output=False)


@hookimpl
def register_trunks(register):
    register(CGC)
