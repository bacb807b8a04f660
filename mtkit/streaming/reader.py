"""Record batches of a shard → model arrays, with the same cell rules as in memory.

Numeric columns take a vectorised path (Arrow → float32, a null is NaN); categories,
text in a numeric column and class names go through ``mtkit.tabular.values`` /
``columns``, so a bad cell is reported with its shard, row and column exactly as for a
table read into memory. A shard that cannot be read part way (truncated, damaged, gone)
is a ``DataError`` naming the file and the row where reading stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.errors import DataError, first_line
from mtkit.streaming.splits import Part
from mtkit.tabular.columns import Resolved, feature_inputs, label_arrays
from mtkit.tabular.readers import RawTable
from mtkit.tabular.schema import STRING_TYPES


class ChunkTable(RawTable):
    """A chunk of a shard as a ``RawTable`` whose rows are named by their row in the file."""

    def __init__(self, columns: dict[str, np.ndarray], source: str, rows: np.ndarray) -> None:
        super().__init__(columns, source, None)
        self.rows = rows

    def where(self, i: int) -> str:
        return f"{self.source}, row {int(self.rows[i]) + 1}"


def shard_source(path: str) -> str:
    return f"shard '{path}'"


def read_chunks(part: Part, columns: list[str], chunk_rows: int, seed: int
                ) -> Iterator[tuple[Any, np.ndarray]]:
    """(record batch, row index in the file of each of its rows) for the part's rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, offset = part.shard.path, 0
    try:
        pf = pq.ParquetFile(path)
        batches = pf.iter_batches(batch_size=chunk_rows, columns=columns)
        for batch in batches:
            n = batch.num_rows
            rows = np.arange(offset, offset + n)
            mask = part.mask(seed, offset, n)
            offset += n
            if mask is not None:
                batch, rows = batch.filter(pa.array(mask)), rows[mask]
            if batch.num_rows:
                yield batch, rows
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{shard_source(path)} could not be read past row {offset} "
                        f"({first_line(exc)}): the file is truncated, damaged or was replaced "
                        "while it was read. Rewrite the shard (or remove it); a run that "
                        "stopped here keeps its last finished epoch: fix the shard and "
                        "`mtkit train ... --resume`.") from None
    if offset != part.shard.rows:
        raise DataError(f"{shard_source(path)} now holds {offset} rows, but {part.shard.rows} "
                        "when the run started: the file changed while it was read. Keep shards "
                        "unchanged during a run; restart it with --resume.")


class Converter:
    """Turns a chunk into ``Arrays`` for a fitted table schema and the plan's heads."""

    def __init__(self, plan: Any, resolved: Resolved, extra: list[str] | None = None) -> None:
        self.resolved = resolved
        self.heads = {t: plan.tasks[t].head for t in resolved.targets}
        self.columns = list(dict.fromkeys(
            [*resolved.features, *(t.column for t in resolved.targets.values()),
             *(extra or [])]))

    def table(self, batch: Any, path: str, rows: np.ndarray) -> ChunkTable:
        return ChunkTable({}, shard_source(path), rows) if batch is None else ChunkTable(
            {name: batch.column(name) for name in batch.schema.names}, shard_source(path), rows)

    def inputs(self, batch: Any, path: str, rows: np.ndarray) -> dict[str, np.ndarray]:
        """``{feature: (N, 1)}`` float32 (NaN = missing) or object strings ("" = missing)."""
        import pyarrow as pa

        out, slow = {}, {}
        for name, spec in self.resolved.features.items():
            col = batch.column(name)
            t = col.type
            if spec.type not in STRING_TYPES and (pa.types.is_floating(t) or pa.types.is_integer(t)):
                x = col.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
                if not np.isinf(x).any() and not (spec.type == "passthrough" and np.isnan(x).any()):
                    out[name] = x.reshape(-1, 1)
                    continue
            slow[name] = spec
        if slow:
            table = ChunkTable({k: _numpy(batch.column(k)) for k in slow}, shard_source(path),
                               rows)
            sub = Resolved(slow, {}, self.resolved.inferred,
                           inferred_columns=self.resolved.inferred_columns)
            out.update(feature_inputs(table, sub, is_train=False))
        return {k: out[k] for k in self.resolved.features}

    def labels(self, batch: Any, path: str, rows: np.ndarray) -> dict[str, np.ndarray]:
        """``{task: labels}`` in the head's dtype (-1 / NaN = missing), as ``dataprep`` makes."""
        import pyarrow as pa
        import pyarrow.compute as pc

        out = {}
        for task, tgt in self.resolved.targets.items():
            col = batch.column(tgt.column)
            y = None
            if tgt.kind != "classes" and (pa.types.is_floating(col.type) or
                                          pa.types.is_integer(col.type)):
                y = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                if np.isinf(y).any():
                    y = None
            elif tgt.kind == "classes" and tgt.labels is not None and (
                    pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                idx = pc.index_in(col, value_set=pa.array(tgt.labels, col.type))
                if idx.null_count == col.null_count:  # every present cell is a known label
                    y = idx.to_numpy(zero_copy_only=False).astype(np.float64)
            if y is None:  # the general path: messages with shard, row and column
                table = ChunkTable({tgt.column: _numpy(col)}, shard_source(path), rows)
                y = label_arrays(table, {task: tgt})[task]
            head = self.heads[task]
            if head.label_dtype == "int32":
                y = np.where(np.isfinite(y), y, -1).astype(np.int32)
            else:
                y = y.astype(np.float32)
            out[task] = y.reshape((len(y), *head.label_shape()))
        return out

    def arrays(self, batch: Any, path: str, rows: np.ndarray) -> Arrays:
        return Arrays(self.inputs(batch, path, rows), self.labels(batch, path, rows))


def _numpy(col: Any) -> np.ndarray:
    arr = col.to_numpy(zero_copy_only=False)
    return arr if arr.dtype.kind in "biufO" else np.asarray(arr, dtype=object)
