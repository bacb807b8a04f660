"""Built-in dataset: a CSV file with feature columns plus one column per task.

Read with pyarrow; an empty cell is a missing value (feature) or a missing label (task).
Text categories and string labels are fine: see docs/tabular.md.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mtkit.hookspecs import hookimpl
from mtkit.tabular.dataset import TableDataset


class Csv(TableDataset):
    """Rows of a CSV file: feature columns plus one column per task (empty cell = missing)."""

    name = "csv"
    example: ClassVar[dict[str, Any]] = {"path": "data/train.csv"}


@hookimpl
def register_datasets(register):
    register(Csv)
