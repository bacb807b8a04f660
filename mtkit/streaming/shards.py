"""Shard files: resolve a folder or glob, check every file from its Parquet footer.

Only metadata is read here (row counts and the Arrow schema from each footer), so a
thousand shards are checked in a second, and a damaged file, a schema that disagrees or a
missing task column is named before any row is read or anything is written.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtkit.errors import DataError, first_line

SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Shard:
    """One Parquet file: its path, row count and row-group count (from the footer)."""

    path: str
    rows: int
    row_groups: int
    columns: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The file name: what row hashes are keyed on, so a shard keeps its rows' splits
        when shared storage is mounted at another path on another worker."""
        return os.path.basename(self.path)


def is_pattern(path: str) -> bool:
    """A folder or a glob (streamed), as opposed to one file (read into memory)."""
    return any(c in path for c in "*?[") or Path(path).is_dir()


def resolve(path: str, field: str) -> list[str]:
    """The sorted shard files of a folder (its *.parquet / *.pq files), a glob or one file."""
    p = Path(path)
    if p.is_dir():
        files = sorted(str(f) for f in p.iterdir() if f.suffix.lower() in SUFFIXES and f.is_file())
        if not files:
            raise DataError(f"field '{field}': folder '{path}' holds no .parquet files; put the "
                            "shards there (one .parquet file per shard) or give a glob such as "
                            f"'{p / '*.parquet'}'.")
        return files
    if any(c in path for c in "*?["):
        files = sorted(f for f in glob.glob(path, recursive=True) if Path(f).is_file())
        if not files:
            raise DataError(f"field '{field}': the glob '{path}' matches no file; check the "
                            "folder and the pattern (e.g. 'data/train/*.parquet').")
        return files
    if not p.is_file():
        raise DataError(f"field '{field}': '{path}' does not exist; give a Parquet file, a "
                        "folder of Parquet shards or a glob.")
    return [path]


def kind(arrow_type: Any) -> str:
    """The kind of an Arrow column type that shards must agree on: ints and floats are
    both numbers (pandas writes an int column as float where a cell is missing), and a
    column that is null in every row of a shard agrees with anything."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    return str(t)


def _open(path: str) -> tuple[Shard, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"shard '{path}' cannot be read as Parquet ({first_line(exc)}); the file "
                        "is truncated, damaged or not Parquet. Rewrite it (or remove it from the "
                        "folder); nothing was written.") from None
    return Shard(path, int(meta.num_rows), int(meta.num_row_groups), tuple(schema.names)), schema


def open_shards(path: str, field: str, needed: dict[str, str],
                reference: tuple[str, Any] | None = None) -> tuple[list[Shard], tuple[str, Any]]:
    """Check every shard of ``path``: readable footer, the same column kinds as the first
    shard (or ``reference``, the first train shard), and every column of ``needed``
    (column → what it is, e.g. "label column of task 'y'"). Returns the shards and the
    reference (file, schema) for the next split."""
    shards = []
    for f in resolve(path, field):
        shard, schema = _open(f)
        kinds = {n: kind(schema.field(n).type) for n in schema.names}
        absent = [f"'{c}' ({why})" for c, why in needed.items() if c not in kinds]
        if absent:
            raise DataError(f"shard '{f}' has no column {', '.join(absent)}; its columns are "
                            f"{', '.join(schema.names[:20])}. Every shard needs every feature "
                            "and label column (a missing label is a null cell); fix the shard or "
                            "set data.labels.")
        if reference is None:
            reference = (f, kinds)
        else:
            ref_file, ref = reference
            for name in ref:
                if name in kinds and "null" not in (ref[name], kinds[name]) and \
                        ref[name] != kinds[name]:
                    raise DataError(f"shards disagree: column '{name}' is {kinds[name]} in "
                                    f"'{f}' but {ref[name]} in '{ref_file}'. Every shard must "
                                    "have the same schema; rewrite the odd shard.")
            for name, k in kinds.items():
                if name not in ref or ref[name] == "null":
                    reference = (ref_file, {**reference[1], name: k})
        shards.append(shard)
    if sum(s.rows for s in shards) == 0:
        raise DataError(f"field '{field}': the shards of '{path}' hold no rows.")
    return shards, reference
