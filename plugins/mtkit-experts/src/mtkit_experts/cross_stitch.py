"""Trunk ``cross_stitch``: cross-stitch networks (Misra et al. 2016, CVPR).

Each task has its own column network; after every level a cross-stitch unit replaces each
task's features by a learned linear combination of all tasks' features,
``x̃_k = Σ_j α_kj x_j``, so the model learns how much to share at each depth instead of
fixing it. α starts near identity (``self_weight`` on the diagonal, the rest spread evenly),
as in the paper. Columns at level 1 are built from ``expert`` over the model's inputs;
columns above from ``upper_expert`` (default: ``expert``) over the previous level's features.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from mtkit.errors import MtkitError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import TaskInfo, Trunk
from mtkit_experts._experts import UPPER_INPUT, ExpertParams, build_expert, resolve_expert


class CrossStitchParams(ExpertParams):
    expert_fields: ClassVar[tuple[str, ...]] = ("expert", "upper_expert")

    upper_expert: dict[str, Any] | None = Field(
        None, description="Trunk of the columns above level 1 (default: `expert`).")
    levels: int = Field(2, ge=1, description="Column levels, each followed by a cross-stitch unit.")
    self_weight: float = Field(0.9, gt=0.0, le=1.0,
                               description="Initial α_kk; the off-diagonal α share 1 - self_weight.")


def stitch(columns: dict[str, Any], self_weight: float, name: str) -> dict[str, Any]:
    """One cross-stitch unit: ``{task: Σ_j α_kj columns[j]}`` with trainable α (one Dense(1) per task).

    The columns are stacked on a last axis ``(batch, units, tasks)``; task k's α row is the
    kernel ``(tasks, 1)`` of a bias-free ``Dense(1)`` named ``{name}_{task}``.
    """
    import keras
    import numpy as np

    names = list(columns)
    if len(names) == 1:
        return dict(columns)
    stacked = keras.ops.stack([columns[k] for k in names], axis=-1)
    off = (1.0 - self_weight) / (len(names) - 1)
    out = {}
    for k, task in enumerate(names):
        unit = keras.layers.Dense(1, use_bias=False, name=f"{name}_{task}")
        mixed = unit(stacked)
        alpha = np.full((len(names), 1), off, dtype="float32")
        alpha[k, 0] = self_weight
        unit.set_weights([alpha])
        out[task] = keras.ops.squeeze(mixed, axis=-1)
    return out


class CrossStitch(Trunk):
    """Cross-stitch networks (Misra et al. 2016): a column per task, learned mixing between levels."""

    name = "cross_stitch"
    Params = CrossStitchParams
    per_task_features = True

    def build(self, inputs: dict[str, Any], tasks: list[TaskInfo]) -> dict[str, Any]:
        p = self.params
        first = resolve_expert(p.expert, "expert")
        upper = resolve_expert(p.upper_expert, "upper_expert") if p.upper_expert else first
        task_inputs = {t.name: inputs for t in tasks}
        features: dict[str, Any] = {}
        for level in range(1, p.levels + 1):
            try:
                columns = {t.name: build_expert(first if level == 1 else upper, task_inputs[t.name],
                                                tasks, f"level{level}_column_{t.name}")
                           for t in tasks}
            except MtkitError as exc:
                if level == 1 or p.upper_expert:
                    raise
                raise type(exc)(
                    f"{exc}. Columns above level 1 read the previous level's flat features; set "
                    "trunk.upper_expert to a trunk that takes a flat input, e.g. "
                    "{type: mlp, units: [32]}."
                ) from None
            if len({tuple(c.shape[1:]) for c in columns.values()}) != 1:
                raise MtkitError("cross_stitch columns returned features of different shapes.")
            features = stitch(columns, p.self_weight, f"level{level}_stitch")
            task_inputs = {k: {UPPER_INPUT: v} for k, v in features.items()}
        return features


@hookimpl
def register_trunks(register):
    register(CrossStitch)
