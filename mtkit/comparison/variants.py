"""What a comparison trains: one single-task baseline per task, one multitask run per
weighting, each for every seed — as plain configs, checked before anything trains.

A single-task baseline keeps every task's head but gives the other tasks weight 0 under
``sum``: the trunk and that task's head learn from that task alone, while the data, the
splits (a function of the seed) and the pipeline stay exactly those of the multitask
runs (a dataset may generate labels per configured task, so dropping tasks could change
the data). The dead heads cost a little compute, which the timing then includes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from mtkit.errors import ConfigError

DIAGNOSTIC_ROWS = 256


@dataclass(frozen=True)
class Variant:
    name: str          # "single-<task>" or "mtl-<weighting>"
    task: str | None   # the baseline's task; None for a multitask variant
    weighting: str | None

    def run_name(self, seed: int) -> str:
        return f"{self.name}-seed{seed}"


def make_variants(raw: dict[str, Any], weightings: list[str], source: str) -> list[Variant]:
    tasks = list(raw.get("tasks") or {})
    if len(tasks) < 2:
        raise ConfigError(f"{source}: field 'tasks': the config has {len(tasks)} task(s); a "
                          "comparison of multitask against single-task training needs at least "
                          "two tasks.")
    if not weightings:
        raise ConfigError("--weightings: give at least one weighting (e.g. sum,uncertainty).")
    dup = sorted({w for w in weightings if weightings.count(w) > 1})
    if dup:
        raise ConfigError(f"--weightings: '{dup[0]}' is given twice.")
    return ([Variant(f"single-{t}", t, None) for t in tasks]
            + [Variant(f"mtl-{w}", None, w) for w in weightings])


def variant_config(raw: dict[str, Any], variant: Variant, seed: int) -> dict[str, Any]:
    cfg = copy.deepcopy(raw)
    train = cfg.setdefault("train", {})
    train["seed"] = seed
    if variant.task is not None:
        for name, task in cfg["tasks"].items():
            task["weight"] = 1.0 if name == variant.task else 0.0
        cfg["weighting"] = "sum"
    else:
        old = cfg.get("weighting")
        params = dict(old) if isinstance(old, dict) and old.get("type") == variant.weighting else {}
        cfg["weighting"] = {**params, "type": variant.weighting}
        train.setdefault("diagnostics_rows", DIAGNOSTIC_ROWS)
    return cfg
