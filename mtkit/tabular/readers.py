"""Tables from files (CSV, Parquet, JSON lines) and pandas DataFrames, through pyarrow.

A ``RawTable`` keeps each column as read (CSV: every column as text, so a numeric column
with a stray word is reported at its line instead of silently becoming text) and knows
how to name a row in messages. ``package:NAME/path`` reads a file shipped inside an
installed Python package (e.g. ``package:palmerpenguins/data/penguins.csv``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import DataError

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


@dataclass
class RawTable:
    """Columns as read (``{name: 1-D array}``), the file they came from, and row naming."""

    columns: dict[str, np.ndarray]
    source: str
    first_line: int | None = None  # line number of row 0 (CSV: 2), None: say "row N"
    row_offset: int = 0  # a chunk of a larger file: rows before it

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def where(self, i: int) -> str:
        at = f"line {i + self.first_line}" if self.first_line is not None else \
            f"row {i + 1 + self.row_offset}"
        return f"{self.source}, {at}"

    def take(self, index: np.ndarray) -> RawTable:
        return RawTable({k: v[index] for k, v in self.columns.items()}, self.source, None)


def resolve_path(path: str) -> Path:
    """A file path, or ``package:NAME/inner/path`` → the file inside that installed package."""
    if not path.startswith("package:"):
        return Path(path)
    import importlib.resources

    spec = path[len("package:"):]
    package, _, inner = spec.partition("/")
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise DataError(f"'{path}': no installed Python package '{package}'; pip install it, or "
                        "give a file path.") from None
    return Path(str(root / inner))


def _check_names(names: list[str], source: str) -> None:
    twice = [n for n, c in Counter(names).items() if c > 1]
    if twice:
        raise DataError(f"{source}: column name(s) {', '.join(map(repr, twice))} appear more than "
                        "once in the header; columns are matched by name, so rename the copies.")
    if any(not str(n).strip() for n in names):
        raise DataError(f"{source}: a column has an empty name in the header; name every column.")


def _columns(table: Any) -> dict[str, np.ndarray]:
    out = {}
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        arr = col.to_numpy(zero_copy_only=False)
        if arr.dtype.kind not in "biufO":
            arr = np.asarray(arr, dtype=object)
        out[str(name)] = arr
    return out


def _bad_line(p: Path, delimiter: str, expected: int) -> int | None:
    """The line of the first row with the wrong number of cells (pyarrow does not say)."""
    import csv

    with p.open(newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter=delimiter)
        for row in reader:
            if row and len(row) != expected:
                return reader.line_num
    return None


def _read_csv(p: Path, source: str, delimiter: str) -> RawTable:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    bad_rows: list[Any] = []

    def invalid(row: Any) -> str:  # pyarrow: a row with too few or too many cells
        bad_rows.append(row)
        return "skip"

    parse = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid)
    try:
        with pacsv.open_csv(p, parse_options=parse,
                            read_options=pacsv.ReadOptions(block_size=1 << 16)) as reader:
            names = list(reader.schema.names)
        _check_names(names, source)
        table = pacsv.read_csv(p, parse_options=parse, convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True))
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                        "re-save it as UTF-8.") from None
    except (pa.ArrowInvalid, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Empty CSV" in text:
            raise DataError(f"{source} is empty; it needs a header row and data rows.") from None
        if "UTF8" in text or "utf8" in text.lower():
            raise DataError(f"{source} is not UTF-8 text ({text[:200]}); re-save it as "
                            "UTF-8.") from None
        raise DataError(f"{source} cannot be read as CSV ({text[:300]}); check the delimiter "
                        "(data.delimiter) and that every row has one cell per column.") from None
    if bad_rows:
        row = bad_rows[0]
        number = row.number if row.number is not None else _bad_line(p, delimiter,
                                                                     row.expected_columns)
        at = f", line {number}" if number is not None else ""
        raise DataError(f"{source}{at}: {row.actual_columns} cells for {row.expected_columns} "
                        "columns (a truncated or malformed row; check data.delimiter).")
    if table.num_rows == 0:
        raise DataError(f"{source} has a header but no data rows.")
    return RawTable(_columns(table), source, first_line=2)


def _read_arrow(p: Path, source: str, fmt: str) -> RawTable:
    import pyarrow as pa

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(p)
        else:
            from pyarrow import json as pajson

            table = pajson.read_json(p)
    except (pa.ArrowInvalid, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{source} cannot be read as {fmt} ({text[:300]}).") from None
    _check_names(list(table.column_names), source)
    if table.num_rows == 0:
        raise DataError(f"{source} has no rows.")
    return RawTable(_columns(table), source, first_line=1 if fmt == "jsonl" else None)


def parquet_chunks(path: str, rows: int) -> Any:
    """A Parquet file as ``RawTable`` chunks of at most ``rows`` rows (bounded memory; rows
    are named by their place in the file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = resolve_path(path)
    source = f"parquet file '{path}'"
    if not p.is_file():
        raise DataError(f"{source} does not exist; check the path.")
    offset = 0
    try:
        pf = pq.ParquetFile(p)
        _check_names(list(pf.schema_arrow.names), source)
        for batch in pf.iter_batches(batch_size=rows):
            table = pa.Table.from_batches([batch])
            yield RawTable(_columns(table), source, None, row_offset=offset)
            offset += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{source} cannot be read as parquet past row {offset} "
                        f"({text[:300]}).") from None
    if offset == 0:
        raise DataError(f"{source} has no rows.")


def read_table(path: str, delimiter: str = ",", fmt: str = "auto") -> RawTable:
    """Read one table file; the format comes from the suffix unless ``fmt`` says."""
    p = resolve_path(path)
    kind = FORMATS.get(p.suffix.lower(), "csv") if fmt == "auto" else fmt
    source = f"{kind} file '{path}'"
    if p.is_dir():
        raise DataError(f"{source} is a folder; give the table file itself.")
    if not p.is_file():
        raise DataError(f"{source} does not exist; check the path.")
    if kind == "csv":
        return _read_csv(p, source, "\t" if p.suffix.lower() == ".tsv" and delimiter == "," else
                         delimiter)
    return _read_arrow(p, source, kind)


def from_frame(frame: Any, source: str = "DataFrame") -> RawTable:
    """A pandas DataFrame (or anything with ``columns`` and ``__getitem__``) → RawTable."""
    names = [str(c) for c in frame.columns]
    _check_names(names, source)
    cols = {}
    for name, c in zip(names, frame.columns, strict=True):
        arr = np.asarray(frame[c].to_numpy() if hasattr(frame[c], "to_numpy") else frame[c])
        cols[name] = arr if arr.dtype.kind in "biufO" else arr.astype(object)
    if not cols or len(next(iter(cols.values()))) == 0:
        raise DataError(f"{source} has no rows or no columns.")
    return RawTable(cols, source, None)


def from_columns(columns: dict[str, Any], source: str = "input") -> RawTable:
    """A dict of columns ``{name: list or array}`` → RawTable."""
    cols = {}
    for k, v in columns.items():
        arr = np.asarray(v, dtype=object) if isinstance(v, list | tuple) else np.asarray(v)
        cols[str(k)] = arr.reshape(len(arr)) if arr.ndim == 2 and arr.shape[1] == 1 else arr
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise DataError(f"{source}: columns have different numbers of rows "
                        f"({', '.join(f'{k}: {len(v)}' for k, v in cols.items())}).")
    return RawTable(cols, source, None)


def from_records(rows: list[dict[str, Any]], source: str = "input") -> RawTable:
    """A list of row dicts ``[{column: value}, ...]`` → RawTable (absent keys = missing)."""
    names: list[str] = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    return RawTable({str(k): np.array([r.get(k) for r in rows], dtype=object) for k in names},
                    source, None)


def as_table(rows: Any, source: str = "input") -> RawTable:
    """Any accepted row container → RawTable (DataFrame, dict of columns, list of dicts)."""
    if isinstance(rows, RawTable):
        return rows
    if hasattr(rows, "columns") and hasattr(rows, "iloc"):
        return from_frame(rows, source)
    if isinstance(rows, dict):
        return from_columns(rows, source)
    if isinstance(rows, list | tuple) and all(isinstance(r, dict) for r in rows):
        return from_records(list(rows), source)
    raise DataError(f"{source}: rows must be a pandas DataFrame, a dict of columns or a list of "
                    f"row dicts (got {type(rows).__name__}).")
