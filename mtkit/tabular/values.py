"""Cells → model values, identically at training and at prediction time (numpy only).

Numbers become float64 with NaN for a missing cell; categories become strings with ""
for a missing cell. Text in a numeric column and non-finite numbers (``inf``, ``1e400``)
are refused with the row and column: a number that overflowed is not a missing value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mtkit.errors import DataError

MISSING = ""
"""The category string a missing cell becomes (it has its own id in the model)."""


def _is_missing_cell(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:  # pandas.NA, numpy.nan in object arrays, NaT
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def missing_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of missing cells (None, NaN, pandas NA, empty text)."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "biu":
        return np.zeros(len(values), dtype=bool)
    return np.fromiter((_is_missing_cell(v) for v in values), dtype=bool, count=len(values))


def to_numbers(values: np.ndarray, column: str, where: Callable[[int], str], why: str) -> np.ndarray:
    """float64 array, NaN where missing; DataError on text or a non-finite number.

    ``why`` ends the text message (e.g. how the column came to be numeric).
    """
    values = np.asarray(values)
    if values.dtype.kind == "b":
        out = values.astype(np.float64)
    elif values.dtype.kind in "iuf":
        out = values.astype(np.float64)
    else:
        miss = missing_mask(values)
        out = np.full(len(values), np.nan)
        for i in np.flatnonzero(~miss):
            v = values[i]
            if isinstance(v, bool | np.bool_):
                out[i] = float(v)
                continue
            try:
                out[i] = float(v.strip() if isinstance(v, str) else v)
            except (TypeError, ValueError):
                raise DataError(f"{where(i)}, column '{column}': {str(v)[:40]!r} is not a number; "
                                f"{why}") from None
    bad = np.flatnonzero(np.isinf(out))
    if bad.size:
        i = int(bad[0])
        raw = values[i]
        raise DataError(f"{where(i)}, column '{column}': {str(raw)[:40]!r} is not a finite number "
                        f"({bad.size} such cell(s) in the column); infinite or overflowing values "
                        "are refused, not treated as missing. Fix the cells (leave a cell empty "
                        "for a missing value).")
    return out


def _category(v: Any) -> str:
    if _is_missing_cell(v):
        return MISSING
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def to_categories(values: np.ndarray) -> np.ndarray:
    """Object array of strings ("" = missing); numbers are written as integers when whole
    (``3.0`` → ``"3"``), booleans as ``true``/``false``."""
    values = np.asarray(values)
    return np.array([_category(v) for v in values], dtype=object)


def numeric_share(values: np.ndarray) -> tuple[float, int | None]:
    """(share of present cells that read as numbers, index of the first that does not)."""
    miss = missing_mask(values)
    present = np.flatnonzero(~miss)
    if values.dtype.kind in "biuf" or present.size == 0:
        return 1.0, None
    ok, first_bad = 0, None
    for i in present:
        v = values[i]
        try:
            float(v.strip() if isinstance(v, str) else v)
            ok += 1
        except (TypeError, ValueError):
            first_bad = int(i) if first_bad is None else first_bad
    return ok / present.size, first_bad
