"""The base of the table datasets (``table``, ``csv``, ``parquet``, ``dataframe``).

``load`` reads the files, resolves the schema (declared under ``features:`` or inferred
from the train file), checks every cell, encodes the labels and returns raw-column
splits; the train statistics are fitted later, on the train split only
(``mtkit.tabular.prepare``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.datasets._labels import label_keys
from mtkit.data import Splits
from mtkit.plugin_types import Dataset, TaskInfo
from mtkit.tabular.columns import Resolved, resolve_features, resolve_targets, table_arrays
from mtkit.tabular.readers import RawTable, read_table
from mtkit.tabular.schema import FeatureSpec


class TableOptions(BaseModel):
    """Parameters every table dataset shares."""

    model_config = ConfigDict(extra="forbid")
    labels: dict[str, str] | None = Field(None, description="Task → label column (default: the "
                                          "column named like the task).")
    exclude: list[str] = Field(default_factory=list, description="Columns that are not features "
                               "(ids, dates) when `features:` is omitted.")
    standardise_targets: bool = Field(True, description="Train regression heads on standardised "
                                      "targets (the model de-standardises its outputs).")


class TableFiles(TableOptions):
    path: str = Field(description="The table (train, or everything): .csv, .parquet, .jsonl, "
                      "or package:NAME/path for a file inside an installed package.")
    val_path: str | None = Field(None, description="Optional separate validation table.")
    test_path: str | None = Field(None, description="Optional separate test table.")
    delimiter: str = Field(",", min_length=1, max_length=1, description="CSV cell delimiter.")
    format: Literal["auto", "csv", "parquet", "jsonl"] = Field(
        "auto", description="File format; auto = from the suffix (.csv, .parquet, .jsonl).")


class TableDataset(Dataset):
    """Base class: subclasses say where the raw tables come from (``tables``)."""

    tabular: ClassVar[bool] = True
    Params = TableFiles

    def __init__(self, params: BaseModel | None = None) -> None:
        super().__init__(params)
        self.declared: dict[str, FeatureSpec] | None = None  # the config's `features:`
        self.resolved: Resolved | None = None

    def tables(self) -> tuple[RawTable, RawTable | None, RawTable | None]:
        p = self.params
        fmt = getattr(p, "format", "auto")

        def read(path: str | None) -> RawTable | None:
            return read_table(path, p.delimiter, fmt) if path else None

        return read(p.path), read(p.val_path), read(p.test_path)

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        train, val, test = self.tables()
        keys = label_keys(tasks, self.params.labels)
        given = [t for t in (train, val, test) if t is not None]
        resolved = resolve_features(train, list(keys.values()), self.declared,
                                    self.params.exclude)
        resolved.targets = resolve_targets(tasks, keys, given, self.params.standardise_targets)
        resolved.standardise_targets = self.params.standardise_targets
        self.resolved = resolved
        return Splits(
            train=table_arrays(train, resolved, is_train=True),
            val=table_arrays(val, resolved, is_train=False) if val is not None else None,
            test=table_arrays(test, resolved, is_train=False) if test is not None else None,
        )
