"""Built-in dataset: a Parquet file with feature columns plus one column per task."""

from __future__ import annotations

from typing import Any, ClassVar

from mtkit.hookspecs import hookimpl
from mtkit.tabular.dataset import TableDataset


class Parquet(TableDataset):
    """Rows of a Parquet file: feature columns plus one column per task (null = missing)."""

    name = "parquet"
    example: ClassVar[dict[str, Any]] = {"path": "data/train.parquet"}


@hookimpl
def register_datasets(register):
    register(Parquet)
