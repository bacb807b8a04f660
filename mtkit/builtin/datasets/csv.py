"""Built-in dataset: a CSV file with feature columns plus one column per task.

An empty cell in a task column is a missing label. Classification tasks with class
`labels` may hold the class names; otherwise class indices.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mtkit.builtin.datasets._labels import label_keys
from mtkit.data import Arrays, Splits
from mtkit.errors import DataError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, TaskInfo


class CsvParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    val_path: str | None = None
    test_path: str | None = None
    features: list[str] | None = Field(None, description="Feature columns; default: the rest.")
    labels: dict[str, str] | None = Field(None, description="Task → column name.")
    input_name: str = Field("features", description="Name of the model's one input.")
    delimiter: str = Field(",", min_length=1, max_length=1)


def _number(cell: str, path: Path, line: int, column: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise DataError(f"csv file '{path}', line {line}, column '{column}': '{cell}' is not "
                        "a number.") from None


def read_csv(path: str, params: CsvParams, tasks: list[TaskInfo]) -> Arrays:
    p = Path(path)
    if p.is_dir():
        raise DataError(f"csv file '{p}' is a folder; data.path must name the .csv file itself.")
    if not p.is_file():
        raise DataError(f"csv file '{p}' does not exist; check data.path.")
    keys = label_keys(tasks, params.labels)
    try:
        with p.open(newline="", encoding="utf-8-sig") as f:  # -sig: drop a BOM
            rows = list(csv.reader(f, delimiter=params.delimiter))
    except UnicodeDecodeError as exc:
        raise DataError(f"csv file '{p}' is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                        "re-save it as UTF-8.") from None
    if not rows:
        raise DataError(f"csv file '{p}' is empty; it needs a header row and data rows.")
    header, body = rows[0], rows[1:]
    missing = [c for c in keys.values() if c not in header]
    if missing:
        raise DataError(f"csv file '{p}' has no column {', '.join(map(repr, missing))}; its "
                        f"header is {', '.join(header)}. Set data.labels to map tasks to columns.")
    features = params.features or [c for c in header if c not in keys.values()]
    absent = [c for c in features if c not in header]
    if absent or not features:
        raise DataError(f"csv file '{p}': feature column(s) {', '.join(absent) or '(none)'} "
                        f"not in header {', '.join(header)}.")
    col = {c: i for i, c in enumerate(header)}
    x = np.empty((len(body), len(features)), dtype=np.float32)
    labels = {t.name: [] for t in tasks}
    classes = {t.name: t.head_params.get("labels") for t in tasks}
    for r, row in enumerate(body):
        line = r + 2
        if len(row) != len(header):
            raise DataError(f"csv file '{p}', line {line}: {len(row)} cells for {len(header)} "
                            "columns (a truncated or malformed row).")
        for j, c in enumerate(features):
            x[r, j] = _number(row[col[c]], p, line, c)
        for t in tasks:
            cell = row[col[keys[t.name]]].strip()
            if cell == "":
                labels[t.name].append(np.nan)
            elif classes[t.name] and cell in classes[t.name]:
                labels[t.name].append(float(classes[t.name].index(cell)))
            else:
                labels[t.name].append(_number(cell, p, line, keys[t.name]))
    return Arrays(inputs={params.input_name: x},
                  labels={k: np.asarray(v, dtype=np.float64) for k, v in labels.items()})


class Csv(Dataset):
    """Rows of a CSV file: feature columns plus one column per task (empty cell = missing)."""

    name = "csv"
    Params = CsvParams
    example: ClassVar[dict[str, Any]] = {"path": "data/train.csv", "labels": {"price": "price_eur"}}

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        p = self.params
        return Splits(
            train=read_csv(p.path, p, tasks),
            val=read_csv(p.val_path, p, tasks) if p.val_path else None,
            test=read_csv(p.test_path, p, tasks) if p.test_path else None,
        )


@hookimpl
def register_datasets(register):
    register(Csv)
