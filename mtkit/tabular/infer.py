"""Feature types from the data, for columns declared ``auto`` or when ``features:`` is omitted.

Rules (documented in docs/tabular.md): a column whose present cells all read as numbers
is ``numeric``; booleans are ``binary``; text with at most two distinct values is
``binary``, otherwise ``categorical``. A column that is mostly numbers with a few words
is refused: it is almost always a typo or an unusual missing-value marker.
"""

from __future__ import annotations

import numpy as np

from mtkit.errors import DataError
from mtkit.tabular.readers import RawTable
from mtkit.tabular.values import missing_mask, numeric_share, to_categories

MOSTLY_NUMERIC = 0.9


def infer_type(table: RawTable, column: str) -> str:
    values = table.columns[column]
    if values.dtype.kind == "b":
        return "binary"
    if values.dtype.kind in "iuf":
        return "numeric"
    share, bad = numeric_share(values)
    if share == 1.0:
        return "numeric"
    if share >= MOSTLY_NUMERIC and bad is not None:
        raise DataError(f"{table.where(bad)}, column '{column}': {str(values[bad])[:40]!r} is not a "
                        f"number, but {share:.0%} of the column's cells are; fix the cell (leave "
                        f"it empty if the value is missing), or declare the column under "
                        f"`features:` (e.g. `{column}: categorical`).")
    present = to_categories(values[~missing_mask(values)])
    return "binary" if len(np.unique(present)) <= 2 else "categorical"
