"""Built-in weighting: sum of log task losses (the "geometric loss strategy").

Minimising sum_t log L_t is minimising the product of the losses; its gradient is
sum_t (1/L_t) dL_t, so each task is scaled by its own inverse loss. Beware: a task whose
loss quickly gets tiny (e.g. the multi-digit length head) then dominates the shared
trunk's gradient; see docs/weighting.md.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Weighting


class LogSumParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_loss: float = Field(1e-7, gt=0.0, description="Losses are clipped to this before log.")


class LogSum(Weighting):
    """Sum of per-task log-losses (clipped), a.k.a. the geometric loss strategy."""

    name = "log_sum"
    Params = LogSumParams

    def combine(self, losses: dict[str, Any], present: dict[str, Any]) -> Any:
        from keras import ops

        total = 0.0
        for k, v in losses.items():
            term = ops.log(ops.maximum(v, self.params.min_loss))
            total = total + ops.where(present[k], term, ops.zeros_like(term))
        return total


@hookimpl
def register_weightings(register):
    register(LogSum)
