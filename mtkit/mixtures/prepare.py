"""Load every source of a mixture, check their inputs agree, and join them.

Each source is prepared like a single dataset (``mtkit.dataprep.prepare`` with the tasks
it labels; the others are missing for its rows), so every per-dataset check still runs
and names the source. Then the inputs must agree across sources — the same names,
per-example shapes and dtypes — since one model reads them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtkit.data import Arrays, Splits
from mtkit.dataprep import InputSpecs, has_augment, prepare
from mtkit.errors import ConfigError, DataError
from mtkit.mixtures.sources import source_plan
from mtkit.planning import Plan


@dataclass
class MixtureSplits(Splits):
    """The joined splits (sources one after another), plus each source's own splits."""

    sources: dict[str, Splits] = field(default_factory=dict)

    def train_sizes(self) -> dict[str, int]:
        return {k: len(s.train) for k, s in self.sources.items()}


def join(parts: list[Arrays | None]) -> Arrays | None:
    given = [p for p in parts if p is not None]
    if not given:
        return None
    return Arrays(inputs={k: np.concatenate([p.inputs[k] for p in given]) for k in given[0].inputs},
                  labels={k: np.concatenate([p.labels[k] for p in given])
                          for k in given[0].labels})


def _describe(specs: InputSpecs) -> str:
    return ", ".join(f"{k} {list(specs.shapes[k])} {specs.dtypes[k]}" for k in sorted(specs.shapes))


def prepare_mixture(plan: Plan) -> tuple[MixtureSplits, InputSpecs]:
    from mtkit.tabular import prepare as tabular

    per: dict[str, Splits] = {}
    first: tuple[str, InputSpecs] | None = None
    for name, src in (plan.sources or {}).items():
        sub = source_plan(plan, src)
        if tabular.is_table(sub) or plan.config.features is not None:
            raise ConfigError(f"{plan.source}: field 'data.sources.{name}': dataset "
                              f"'{src.dataset_ref}' reads a table; a task mixture takes array "
                              "datasets (npz, multidigit, ...) for now, since typed table "
                              "features are fitted on one table. Join the tables into one "
                              "(missing labels are fine) or convert them to arrays.")
        splits, specs = prepare(sub, only_tasks=src.tasks)
        if has_augment(sub) and any(tuple(v.shape[1:]) != specs.shapes[k]
                                    for k, v in splits.train.inputs.items()):
            raise DataError(f"{plan.source}: source '{name}' (dataset '{src.dataset_ref}') "
                            "stores train inputs of another shape than the model input and "
                            "crops them in augment(); a mixture needs train rows shaped like "
                            "the model input in every source.")
        if first is None:
            first = (name, specs)
        elif (specs.shapes, specs.dtypes) != (first[1].shapes, first[1].dtypes):
            raise DataError(f"{plan.source}: the sources' inputs disagree: source '{first[0]}' "
                            f"gives {_describe(first[1])}, source '{name}' gives "
                            f"{_describe(specs)}. One model reads every source, so each must "
                            "give the same input names, per-example shapes and dtypes.")
        per[name] = splits
    assert first is not None
    out = MixtureSplits(train=join([s.train for s in per.values()]),
                        val=join([s.val for s in per.values()]),
                        test=join([s.test for s in per.values()]), sources=per)
    return out, first[1]
