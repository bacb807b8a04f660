"""Read prediction inputs from files: ``.npz`` arrays, image files, or a CSV of features.

What each format becomes is decided by the model's input specs (from its metadata), so a
file that cannot fit is refused with the file name and what the model wants.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_npz(path: Path, specs: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Arrays named like the model's inputs (a one-input model also takes a lone array)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DataError(f"npz file '{path}' cannot be read ({exc}); is it an .npz written by "
                        "numpy.savez?") from None
    if all(name in arrays for name in specs):
        return {name: arrays[name] for name in specs}
    if len(specs) == 1 and len(arrays) == 1:
        return {next(iter(specs)): next(iter(arrays.values()))}
    raise DataError(f"npz file '{path}' holds {', '.join(sorted(arrays)) or 'no arrays'}, but the "
                    f"model needs arrays named {', '.join(map(repr, specs))}.")


def load_images(paths: list[Path], specs: dict[str, dict[str, Any]], scale: float) -> dict[str, np.ndarray]:
    """Images → one batch for a one-input image model: resized, gray or RGB, times ``scale``."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise DataError("reading images needs Pillow: pip install pillow") from None
    if len(specs) != 1:
        raise DataError(f"images can feed only a one-input model; this one has {len(specs)} "
                        f"inputs ({', '.join(specs)}). Use an .npz file.")
    name, spec = next(iter(specs.items()))
    shape = tuple(spec["shape"])
    if len(shape) == 2 or (len(shape) == 3 and shape[2] == 1):
        mode = "L"
    elif len(shape) == 3 and shape[2] == 3:
        mode = "RGB"
    else:
        raise DataError(f"the model's input '{name}' has shape {shape}, which is not an image "
                        "(height, width[, 1 or 3]); use an .npz or .csv file.")
    height, width = shape[0], shape[1]
    batch = []
    for p in paths:
        try:
            with Image.open(p) as img:
                img = img.convert(mode)
                if img.size != (width, height):
                    img = img.resize((width, height), Image.Resampling.BILINEAR)
                batch.append(np.asarray(img, dtype=np.float32).reshape(shape) * scale)
        except Image.DecompressionBombError as exc:
            raise DataError(f"image file '{p}' is refused: {exc} Pillow treats such sizes as a "
                            "decompression bomb; shrink the image first (the model takes "
                            f"{width}x{height}).") from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise DataError(f"image file '{p}' cannot be read ({exc}).") from None
    return {name: np.stack(batch)}


def load_csv(path: Path, specs: dict[str, dict[str, Any]], tasks: list[str]) -> dict[str, np.ndarray]:
    """Feature rows for a one-input vector model; columns named like tasks are ignored.

    Read with pyarrow (``mtkit.tabular.readers``); each cell must be a finite number.
    """
    from mtkit.tabular.readers import read_table
    from mtkit.tabular.values import to_numbers

    if len(specs) != 1 or len(next(iter(specs.values()))["shape"]) != 1:
        described = ", ".join(f"{k} {tuple(v['shape'])}" for k, v in specs.items())
        raise DataError(f"a CSV file can feed only a model with one vector input; this model's "
                        f"inputs are {described}. Use an .npz file.")
    name, spec = next(iter(specs.items()))
    width = spec["shape"][0]
    table = read_table(str(path), fmt="csv")
    columns = [c for c in table.columns if c not in tasks]
    if len(columns) != width:
        raise DataError(f"csv file '{path}' has {len(columns)} feature columns (label columns "
                        f"named like tasks are skipped), but the model's input '{name}' takes "
                        f"{width}.")
    why = "this model takes numbers only (and no empty cells)."
    x = np.stack([to_numbers(table.columns[c], c, table.where, why) for c in columns], axis=1)
    if np.isnan(x).any():
        r, j = (int(v[0]) for v in np.nonzero(np.isnan(x)))
        raise DataError(f"{table.where(r)}, column '{columns[j]}': the cell is empty; this model "
                        "has no imputation (only table models do): fill it.")
    return {name: x.astype(np.float32)}


TABLE_SUFFIXES = {".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json"}


def load_rows(paths: list[Path]) -> tuple[Any, list[str]]:
    """Raw rows for a table model: one CSV, Parquet or JSON-lines file."""
    from mtkit.tabular.readers import read_table

    if len(paths) != 1 or paths[0].suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"a table model reads its rows from one file ({', '.join(sorted(TABLE_SUFFIXES))}); "
                        f"got {', '.join(map(str, paths[:3])) or 'nothing'}.")
    table = read_table(str(paths[0]))
    first = table.first_line
    return table, [f"{paths[0]}:{i + first}" if first is not None else f"{paths[0]}[{i}]"
                   for i in range(len(table))]


def _rows(arrays: dict[str, np.ndarray], path: Path) -> int:
    """Rows of a loaded file: at least one, and one count for every array."""
    for k, v in arrays.items():
        if np.ndim(v) == 0:
            raise DataError(f"file '{path}': array '{k}' is a single value, not one row per "
                            "example; add the batch axis (x[None]).")
    n = len(next(iter(arrays.values())))
    if n == 0:
        raise DataError(f"file '{path}' holds no rows (its arrays have length 0); there is "
                        "nothing to predict. Check the file.")
    return n


def load_inputs(paths: list[Path], specs: dict[str, dict[str, Any]], tasks: list[str],
                scale: float = 1 / 255, tabular: bool = False) -> tuple[Any, list[str]]:
    """Files → (inputs, one source name per row). A directory means the images in it.

    ``tabular``: the model takes raw rows (see ``load_rows``).
    """
    if tabular:
        return load_rows(paths)
    if not paths:
        raise DataError("no input given: pass an .npz, a .csv, image files or a folder of images.")
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise DataError(f"folder '{p}' holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))}).")
            files += found
        elif not p.is_file():
            raise DataError(f"input file '{p}' does not exist.")
        else:
            files.append(p)
    kinds = {("image" if f.suffix.lower() in IMAGE_SUFFIXES else f.suffix.lower()) for f in files}
    if kinds == {"image"}:
        return load_images(files, specs, scale), [str(f) for f in files]
    if len(files) == 1 and kinds == {".npz"}:
        arrays = load_npz(files[0], specs)
        return arrays, [f"{files[0]}[{i}]" for i in range(_rows(arrays, files[0]))]
    if len(files) == 1 and kinds == {".csv"}:
        arrays = load_csv(files[0], specs, tasks)
        return arrays, [f"{files[0]}:{i + 2}" for i in range(_rows(arrays, files[0]))]
    raise DataError(f"cannot read {', '.join(map(str, files[:3]))}: pass one .npz file, one .csv "
                    f"file, or image files ({', '.join(sorted(IMAGE_SUFFIXES))}).")
