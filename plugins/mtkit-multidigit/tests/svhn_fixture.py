"""Write a tiny SVHN format 1 folder exactly as the official archives lay it out.

``digitStruct.mat`` is a MATLAB v7.3 file: a 512-byte user block starting with MATLAB's
128-byte header, then HDF5 with group ``digitStruct`` holding ``name`` and ``bbox``
(N×1 object references into ``#refs#``); a bbox field is a plain 1×1 number for a
one-digit image and a k×1 array of references to 1×1 numbers otherwise.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
from PIL import Image

FIELDS = ("height", "label", "left", "top", "width")  # MATLAB writes them sorted


def matlab_header() -> bytes:
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    return text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"


def write_digitstruct(path: Path, entries: list[tuple[str, list[dict[str, float]]]]) -> Path:
    """``entries``: (file name, [{"label", "left", "top", "width", "height"} per digit])."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        group = f.create_group("digitStruct")
        name_refs, bbox_refs = [], []
        for i, (name, boxes) in enumerate(entries):
            codes = np.array([[ord(c)] for c in name], dtype=np.uint16)
            name_refs.append(refs.create_dataset(f"n{i}", data=codes).ref)
            box = refs.create_group(f"b{i}")
            for key in FIELDS:
                values = [float(b[key]) for b in boxes]
                if len(values) == 1:
                    box.create_dataset(key, data=np.array([[values[0]]]))
                else:
                    each = [refs.create_dataset(f"{key}{i}_{j}", data=np.array([[v]])).ref
                            for j, v in enumerate(values)]
                    box.create_dataset(key, data=np.array(each, dtype=h5py.ref_dtype).reshape(-1, 1))
            bbox_refs.append(box.ref)
        group.create_dataset("name", data=np.array(name_refs, dtype=h5py.ref_dtype).reshape(-1, 1))
        group.create_dataset("bbox", data=np.array(bbox_refs, dtype=h5py.ref_dtype).reshape(-1, 1))
    with open(path, "r+b") as fh:
        fh.write(matlab_header())
    return path


def make_folder(folder: Path, count: int, seed: int) -> list[tuple[int, ...]]:
    """``count`` PNGs with 1-3 bright digit boxes on a dark background, plus digitStruct.mat.

    Each digit box is filled with a grey level that encodes the digit, so a model can learn
    the labels; returns the digit tuples in file order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries, numbers = [], []
    for i in range(count):
        n = int(rng.integers(1, 4))
        digits = [int(d) for d in rng.integers(0, 10, size=n)]
        h, w = 40, 30 + 20 * n
        img = np.full((h, w, 3), 10, dtype=np.uint8)
        boxes = []
        for j, d in enumerate(digits):
            left, top, bw, bh = 10 + 20 * j, 8, 16, 24
            img[top:top + bh, left:left + bw] = 40 + 20 * d
            boxes.append({"label": 10 if d == 0 else d, "left": left, "top": top,
                          "width": bw, "height": bh})
        name = f"{i + 1}.png"
        Image.fromarray(img).save(folder / name)
        entries.append((name, boxes))
        numbers.append(tuple(digits))
    write_digitstruct(folder / "digitStruct.mat", entries)
    return numbers
