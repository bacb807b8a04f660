"""Reader for SVHN format 1 annotations, ``digitStruct.mat`` (MATLAB v7.3, i.e. HDF5).

Layout (http://ufldl.stanford.edu/housenumbers/): a group ``digitStruct`` with datasets
``name`` and ``bbox`` of shape (N, 1), each element an object reference. A ``name``
reference points at a uint16 array of character codes (the PNG file name); a ``bbox``
reference points at a group with datasets ``label``, ``left``, ``top``, ``width`` and
``height`` of shape (k, 1) for k digits: plain numbers when k == 1, otherwise references
to (1, 1) arrays. Label 10 means the digit 0. Every problem becomes a DataError naming
the file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtkit.errors import DataError

FIELDS = ("label", "left", "top", "width", "height")


@dataclass(frozen=True)
class Annotation:
    """One image: its file name, its digits (0-9) and their boxes (left, top, width, height)."""

    name: str
    digits: tuple[int, ...]
    boxes: tuple[tuple[float, float, float, float], ...]


def _values(f, ds) -> list[float]:
    """The numbers stored in a bbox field, following references when there are several."""
    import h5py

    arr = ds[()]
    if h5py.check_dtype(ref=ds.dtype) is not None:
        return [float(np.asarray(f[r][()]).reshape(-1)[0]) for r in np.asarray(arr).reshape(-1)]
    return [float(v) for v in np.asarray(arr).reshape(-1)]


def _name(f, ref) -> str:
    codes = np.asarray(f[ref][()]).reshape(-1)
    return "".join(chr(int(c)) for c in codes)


def read_digitstruct(path: str | Path, limit: int | None = None) -> list[Annotation]:
    """All annotations of ``path`` (the first ``limit`` when given), in file order."""
    import h5py

    p = Path(path)
    fix = ("data.path should be a folder holding the SVHN format 1 folders (train/, test/, "
           "optionally extra/), each with its digitStruct.mat and PNG images, as unpacked from "
           "train.tar.gz / test.tar.gz / extra.tar.gz")
    if not p.is_file():
        raise DataError(f"SVHN annotation file '{p}' does not exist; {fix}.")
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"SVHN annotation file '{p}' cannot be read as MATLAB v7.3 / HDF5 "
                        f"({reason}); it is truncated or not a digitStruct.mat; download and "
                        "unpack it again.") from None
    with f:
        group = f.get("digitStruct")
        if not isinstance(group, h5py.Group) or not {"name", "bbox"} <= set(group.keys()):
            found = ", ".join(sorted(f.keys())) or "nothing"
            inner = f" (digitStruct holds {', '.join(sorted(group.keys())) or 'nothing'})" \
                if isinstance(group, h5py.Group) else ""
            raise DataError(f"SVHN annotation file '{p}' has the wrong layout: it needs a group "
                            f"'digitStruct' with datasets 'name' and 'bbox', but holds {found}"
                            f"{inner}. Is it SVHN format 1 (not the cropped-digit .mat files of "
                            "format 2)?")
        names, bboxes = group["name"], group["bbox"]
        if len(names) != len(bboxes):
            raise DataError(f"SVHN annotation file '{p}': 'digitStruct/name' has {len(names)} "
                            f"entries but 'digitStruct/bbox' has {len(bboxes)}; the file is "
                            "damaged.")
        count = len(names) if limit is None else min(limit, len(names))
        out = []
        for i in range(count):
            try:
                out.append(_entry(f, names, bboxes, i))
            except DataError as exc:
                raise DataError(f"SVHN annotation file '{p}', entry {i + 1}: {exc}") from None
            except (KeyError, ValueError, TypeError, IndexError, OSError, RuntimeError) as exc:
                why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise DataError(f"SVHN annotation file '{p}', entry {i + 1} cannot be read "
                                f"({why}); each entry needs a name reference and a bbox "
                                f"group with {', '.join(FIELDS)}.") from None
        return out


def _entry(f, names, bboxes, i: int) -> Annotation:
    import h5py

    name = _name(f, names[i][0])
    box = f[bboxes[i][0]]
    if not isinstance(box, h5py.Group):
        raise DataError(f"the bbox of '{name}' is not a group")
    missing = [k for k in FIELDS if k not in box]
    if missing:
        raise DataError(f"the bbox of '{name}' lacks {', '.join(missing)}")
    vals = {k: _values(f, box[k]) for k in FIELDS}
    counts = {len(v) for v in vals.values()}
    if len(counts) != 1 or 0 in counts:
        raise DataError(f"the bbox of '{name}' has {', '.join(f'{len(v)} {k}' for k, v in vals.items())} "
                        "values; they must match and be at least one")
    digits = []
    for v in vals["label"]:
        if v != int(v) or not 1 <= v <= 10:
            raise DataError(f"'{name}' has digit label {v}; SVHN labels are 1-10 (10 = digit 0)")
        digits.append(int(v) % 10)
    boxes = tuple(zip(vals["left"], vals["top"], vals["width"], vals["height"], strict=True))
    return Annotation(name=name, digits=tuple(digits), boxes=boxes)
