"""The table schema fitted in ONE streaming pass over the train rows, never all at once.

The pass reads every train shard chunk by chunk and

* converts every cell of every chunk (so a bad cell anywhere in the train shards is
  reported with its shard, row and column before training starts or anything is written);
* accumulates, over the train rows only, the statistics in-memory training computes on
  the train split (``mtkit.tabular.stats``: mean/std of numeric features, category counts,
  regression target mean/std, the distinct labels of class tasks) — the same numbers as
  loading the split, up to float64 summation order;
* counts each split's rows per shard (hash carving) and each task's labelled rows;
* keeps a seeded sample of train rows for the per-epoch train metrics: each row is kept
  when a second row hash is below ``k / expected rows`` (at most ``k`` rows, in file order).

Feature types not declared under ``features:`` are inferred from the first chunk of the
first train shard (numbers vs text from the Arrow types); whether a text column is
``binary`` or ``categorical`` is decided after the pass, from all train rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.errors import DataError
from mtkit.streaming.reader import ChunkTable, Converter, read_chunks
from mtkit.streaming.splits import SplitFiles, row_uniform
from mtkit.tabular.columns import Resolved
from mtkit.tabular.readers import RawTable
from mtkit.tabular.stats import Categories, Moments
from mtkit.tabular.values import MISSING, missing_mask, to_categories, to_numbers

SAMPLE_SALT = 1


@dataclass
class PassResult:
    """What the pass learned: per-feature accumulators, per-target moments and labels."""

    features: dict[str, Any]
    target_moments: dict[str, list[Moments]]
    distinct: dict[str, set[str]]
    labelled: dict[str, int]
    sample: list[Any] = field(default_factory=list)  # (record batch, rows, path)
    carved_rows: dict[str, list[int]] = field(default_factory=dict)


class DistinctTable(RawTable):
    """The distinct values of each label column, as a table for ``resolve_targets``."""

    def where(self, i: int) -> str:
        return self.source


def _distinct(col: Any) -> set[str]:
    arr = col.to_numpy(zero_copy_only=False)
    if arr.dtype.kind in "iuf":
        arr = np.unique(arr[np.isfinite(arr)]) if arr.dtype.kind == "f" else np.unique(arr)
    else:
        arr = np.asarray(arr, dtype=object)
    cats = to_categories(arr)
    return set(np.unique(cats[cats != MISSING]).tolist()) if len(cats) else set()


def stream_pass(plan: Any, resolved: Resolved, train: SplitFiles, carved: list[SplitFiles],
                chunk_rows: int, sample_rows: int, keys: dict[str, str]) -> PassResult:
    """One pass over the train shards (see the module doc). ``carved``: validation/test
    splits cut out of the same shards by row hash, whose row counts are filled in."""
    import pyarrow as pa

    from mtkit.tabular.prepare import accumulator

    seed = plan.config.train.seed
    conv = Converter(plan, resolved, extra=list(keys.values()))
    label_cols = set(keys.values())
    res = PassResult(features={k: accumulator(s) for k, s in resolved.features.items()},
                     target_moments={}, distinct={c: set() for c in label_cols},
                     labelled=dict.fromkeys(keys, 0))
    regress = {ti.name for ti in plan.task_infos if ti.output_type == "regression"}
    classes = {ti.name for ti in plan.task_infos if ti.output_type in ("categorical", "binary")}
    res.target_moments = {t: [Moments()] for t in regress}
    expected = sum(p.shard.rows * (p.hi - p.lo) for p in train.parts) or 1
    keep_p = min(1.0, 1.5 * sample_rows / expected)
    kept = 0
    train.rows_per_part = []
    for split in carved:
        split.rows_per_part = [0] * len(split.parts)
    for i, part in enumerate(train.parts):
        whole = type(part)(part.shard)  # read every row once: carved rows are counted too
        count = 0
        for batch, rows in read_chunks(whole, conv.columns, chunk_rows, seed):
            table = conv.table(batch, part.shard.path, rows)
            inputs = conv.inputs(batch, part.shard.path, rows)  # checks every cell
            u = row_uniform(seed, part.shard.name, int(rows[0]), len(rows)) \
                if not part.whole else None
            mask = (u >= part.lo) & (u < part.hi) if u is not None else slice(None)
            for split in carved:
                split.rows_per_part[i] += int(((u >= split.parts[i].lo) &
                                               (u < split.parts[i].hi)).sum())
            n = len(rows) if u is None else int(mask.sum())
            count += n
            if n == 0:
                continue
            for name, acc in res.features.items():
                acc.update(inputs[name][mask].reshape(-1))
            for task, column in keys.items():
                sub = table.columns[column]
                named = table if u is None else ChunkTable({}, table.source, rows[mask])
                if u is not None:
                    sub = sub.filter(pa.array(mask))
                if task in regress:
                    y = to_numbers(_np(sub), column, named.where,
                                   f"it holds the labels of task '{task}', which must be "
                                   "numbers (leave a cell empty for a missing label).")
                    res.target_moments[task][0].update(y)
                    res.labelled[task] += int(np.isfinite(y).sum())
                    continue
                if task in classes:
                    res.distinct[column] |= _distinct(sub)
                res.labelled[task] += _present(_np(sub))
            if kept < sample_rows:
                take = row_uniform(seed, part.shard.name, int(rows[0]), len(rows),
                                   SAMPLE_SALT) < keep_p
                if u is not None:
                    take &= mask
                idx = np.flatnonzero(take)[: sample_rows - kept]
                if idx.size:
                    res.sample.append((batch.take(pa.array(idx)), rows[idx], part.shard.path))
                    kept += idx.size
        train.rows_per_part.append(count)
    train.rows = sum(train.rows_per_part)
    for split in carved:
        split.rows = sum(split.rows_per_part)
    return res


def _present(y: np.ndarray) -> int:
    """Labelled cells: not missing, and (numbers) not a negative class index."""
    if y.dtype.kind in "iuf":
        return int((np.isfinite(y) & (y >= 0)).sum()) if y.dtype.kind == "f" else int((y >= 0).sum())
    return int((~missing_mask(y)).sum())


def _np(col: Any) -> np.ndarray:
    arr = col.to_numpy(zero_copy_only=False)
    return arr if arr.dtype.kind in "biufO" else np.asarray(arr, dtype=object)


def settle_types(resolved: Resolved, res: PassResult, source: str) -> None:
    """After the pass: inferred text columns become binary (≤ 2 values) or categorical;
    a column with no value at all, and too many categories, are refused."""
    for name, spec in list(resolved.features.items()):
        acc = res.features[name]
        if isinstance(acc, Categories):
            if name in resolved.inferred_columns:
                spec = spec.model_copy(update={"type": "binary" if len(acc.counts) <= 2
                                               else "categorical"})
                resolved.features[name] = spec
            present = len(acc.counts)
            if present == 0:
                _all_missing(source, name, acc.missing)
            if spec.type == "binary" and present > 2:
                raise DataError(f"{source}: column '{name}' is declared binary but has "
                                f"{present} distinct values; declare it categorical.")
            if spec.top is None and present > spec.max_categories:
                raise DataError(
                    f"{source}: column '{name}' has {present} distinct values, more than its "
                    f"limit of {spec.max_categories} (features.{name}.max_categories). For an "
                    f"id-like column set `features: {{{name}: {{type: categorical, top: "
                    f"{spec.max_categories}}}}}`, raise max_categories, or leave the column "
                    "out (data.exclude).")
        elif isinstance(acc, Moments) and acc.n == 0:
            _all_missing(source, name, acc.missing)


def _all_missing(source: str, name: str, cells: int) -> None:
    raise DataError(f"{source}: column '{name}' is missing in every train row ({cells} empty "
                    "cells), so nothing can be learned from it; drop it (data.exclude, or "
                    "remove it from `features:`) or fill it in.")


def sample_arrays(conv: Converter, res: PassResult) -> Arrays | None:
    """The kept train rows as model arrays (labels encoded with the settled targets)."""
    parts = [conv.arrays(b, path, rows) for b, rows, path in res.sample]
    if not parts:
        return None
    return Arrays(inputs={k: np.concatenate([p.inputs[k] for p in parts]) for k in parts[0].inputs},
                  labels={k: np.concatenate([p.labels[k] for p in parts]) for k in parts[0].labels})
