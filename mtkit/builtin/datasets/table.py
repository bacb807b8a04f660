"""Built-in dataset: a table file (CSV, Parquet or JSON lines), one column per feature or task.

Feature columns keep their raw values (text categories, empty cells); the schema says
what each is (``features:``, or inferred) and the model does the preprocessing itself.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mtkit.hookspecs import hookimpl
from mtkit.tabular.dataset import TableDataset


class Table(TableDataset):
    """Rows of a table file (.csv, .parquet, .jsonl): feature columns and one column per task."""

    name = "table"
    example: ClassVar[dict[str, Any]] = {"path": "data/train.csv"}


@hookimpl
def register_datasets(register):
    register(Table)
