"""Raw rows → the inputs of an exported table model, without TensorFlow (runtime side).

Accepts a pandas DataFrame, a dict of columns, a list of row dicts, or a table read from
a file (``readers.read_table``: CSV, Parquet, JSON lines). Cells are converted exactly as
at training time (``values``): numbers to float32 with NaN for a missing cell (the model
imputes it), categories to strings ("" = missing; an unseen value goes to the model's
unseen bucket, it is not an error). Columns the model does not use are ignored.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.errors import DataError
from mtkit.tabular.readers import as_table
from mtkit.tabular.values import to_categories, to_numbers


def model_inputs(rows: Any, schema: dict[str, Any], source: str = "predict") -> dict[str, np.ndarray]:
    """``{column: (N, 1)}`` arrays for a table model whose fitted schema is ``schema``."""
    table = as_table(rows, source)
    features = schema["features"]
    absent = [c for c in features if c not in table.columns]
    if absent:
        raise DataError(f"{table.source}: the model needs column(s) {', '.join(map(repr, absent))}"
                        f", which the rows do not have (they have "
                        f"{', '.join(list(table.columns)[:20]) or 'none'}). Give every feature "
                        "column; an empty cell is fine (the model imputes it).")
    out = {}
    for name, f in features.items():
        raw = np.asarray(table.columns[name])
        if f["type"] in ("categorical", "binary"):
            out[name] = to_categories(raw).reshape(-1, 1)
            continue
        why = "the model takes numbers in this column (leave a cell empty if it is missing)."
        x = to_numbers(raw, name, table.where, why)
        if f["type"] == "passthrough" and np.isnan(x).any():
            i = int(np.flatnonzero(np.isnan(x))[0])
            raise DataError(f"{table.where(i)}, column '{name}': the cell is missing, but this "
                            "column is fed to the model as is (passthrough); fill it.")
        out[name] = x.astype(np.float32).reshape(-1, 1)
    return out


def row_names(rows: Any, source: str) -> list[str]:
    """A name per row for messages and ``mtkit predict`` output (file:line or row N)."""
    table = as_table(rows, source)
    return [table.where(i) for i in range(len(table))]
