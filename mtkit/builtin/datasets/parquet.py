"""Built-in dataset: Parquet — one file read into memory, or a folder/glob of shards streamed.

A single file behaves as before (the whole table in memory). A folder or a glob (or
``stream: true``) is read in chunks by ``mtkit.streaming``: memory stays bounded whatever
the size of the data, and under ``multi-worker`` each worker reads only its own shards.
See docs/large-data.md.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from mtkit.hookspecs import hookimpl
from mtkit.tabular.dataset import TableDataset, TableFiles


class ParquetFiles(TableFiles):
    path: str = Field(description="A Parquet file (read into memory), or a folder or glob of "
                      "Parquet shards (streamed in chunks; docs/large-data.md).")
    val_path: str | None = Field(None, description="Optional separate validation file, folder "
                                 "or glob (default: carved out of `path`, see `carve`).")
    test_path: str | None = Field(None, description="Optional separate test file, folder or "
                                  "glob (default: carved out of `path`, see `carve`).")
    stream: bool | None = Field(None, description="Read in chunks instead of into memory; "
                                "default: when a path is a folder or a glob.")
    chunk_rows: int = Field(65536, ge=1, description="Streamed: rows read from a shard at a "
                            "time (also the chunk of evaluation and prediction).")
    shuffle_buffer: int = Field(262144, ge=1, description="Streamed: rows shuffled together "
                                "(whole chunks from interleaved shards); memory grows with it.")
    interleave: int = Field(4, ge=1, description="Streamed: shards each reader reads at once, "
                            "round-robin, so a batch mixes several files.")
    carve: Literal["hash", "shard"] = Field(
        "hash", description="Streamed, without val_path/test_path: carve the validation and "
        "test rows by a hash of each row (any number of shards) or set whole shards aside.")
    readers: int | None = Field(None, ge=1, description="Streamed: input pipelines (default: "
                                "one per worker); on one process, the worker count of a "
                                "multi-worker run reproduces its batches exactly.")


class Parquet(TableDataset):
    """Rows of Parquet: one file (in memory), or a folder/glob of shards (streamed)."""

    name = "parquet"
    example: ClassVar[dict[str, Any]] = {"path": "data/train.parquet"}
    Params = ParquetFiles

    def streams(self) -> bool:
        from mtkit.streaming.shards import is_pattern

        p = self.params
        if p.stream is not None:
            return p.stream
        return any(is_pattern(x) for x in (p.path, p.val_path, p.test_path) if x)

    def tables(self) -> Any:
        p = self.params
        from mtkit.errors import DataError
        from mtkit.streaming.shards import is_pattern

        for field in ("path", "val_path", "test_path"):
            value = getattr(p, field)
            if value and is_pattern(value):
                raise DataError(f"field 'data.{field}': '{value}' is a folder or glob, which is "
                                "streamed; remove data.stream: false to stream it, or give one "
                                "Parquet file to read into memory.")
        return super().tables()


@hookimpl
def register_datasets(register):
    register(Parquet)
