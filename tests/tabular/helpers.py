"""A small raw table with every feature type, string labels and empty cells (generated)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLORS = ["red", "green", "blue"]


def raw_rows(n: int = 240, seed: int = 0) -> list[dict]:
    """Rows as dicts; ``None`` = an empty cell. Targets depend on the features (learnable)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        size = float(rng.normal(50, 10))
        color = COLORS[int(rng.integers(3))]
        flag = "yes" if rng.random() < 0.5 else "no"
        user = int(rng.integers(20))
        kind = "big" if size > 55 else ("small" if size < 45 else "mid")
        grams = 1000 + 60 * size + (400 if color == "red" else 0) + float(rng.normal(0, 30))
        rows.append({
            "size": None if i % 17 == 3 else round(size, 3),
            "color": None if i % 23 == 5 else color,
            "flag": flag,
            "user": user,
            "offset": round(float(rng.normal()), 3),
            "kind": kind,
            "heavy": None if i % 9 == 0 else ("heavy" if grams > 4400 else "light"),
            "grams": round(grams, 2),
        })
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    cols = list(rows[0])
    lines = [",".join(cols)] + [",".join("" if r[c] is None else str(r[c]) for c in cols)
                                for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config(path: Path, epochs: int = 12) -> dict:
    return {
        "data": {"dataset": "csv", "path": str(path)},
        "features": {"size": {"type": "numeric", "missing_indicator": True},
                     "color": "categorical", "flag": "binary",
                     "user": {"type": "categorical", "encoding": "embedding", "embedding_dim": 3},
                     "offset": "passthrough"},
        "trunk": {"type": "mlp", "units": [16]},
        "tasks": {"kind": {"head": "classification"},
                  "heavy": {"head": "binary", "positive": "heavy"},
                  "grams": {"head": "regression"}},
        "train": {"epochs": epochs, "batch_size": 32, "learning_rate": 0.01, "seed": 0},
    }
