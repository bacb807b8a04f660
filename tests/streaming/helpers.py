"""Small Parquet shard sets for the streaming tests (written with pyarrow, vectorised)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml


def shard_table(rows: int, seed: int, start: int = 0, text: bool = True) -> Any:
    """``rows`` rows: numbers x0..x3 (some missing), a category, and three tasks —
    classes ``cls``, regression ``reg`` (labelled on 30% of rows), binary ``flag``."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    cols: dict[str, Any] = {f"x{j}": x[:, j] for j in range(4)}
    cols["x3"] = pa.array(x[:, 3], mask=rng.random(rows) < 0.05)
    if text:
        cols["color"] = pa.array(rng.choice(["red", "green", "blue"], rows))
    cols["cls"] = pa.array(((x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)).astype(np.int64))
    reg = x[:, 0] * 2 + x[:, 2] + 0.1 * rng.normal(size=rows)
    cols["reg"] = pa.array(reg, mask=rng.random(rows) >= 0.3)
    cols["flag"] = pa.array(np.where(x[:, 2] + x[:, 3] > 0, "yes", "no"))
    cols["row_id"] = pa.array(np.arange(start, start + rows, dtype=np.int64))
    return pa.table(cols)


def write_shards(folder: Path, rows_per_shard: list[int], seed: int = 0, text: bool = True,
                 row_group: int = 256) -> list[Path]:
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    paths, start = [], 0
    for i, n in enumerate(rows_per_shard):
        p = folder / f"part-{i:03d}.parquet"
        pq.write_table(shard_table(n, seed * 1000 + i, start, text), p, row_group_size=row_group)
        paths.append(p)
        start += n
    return paths


def config(path: str, **data: Any) -> dict[str, Any]:
    return {
        "data": {"dataset": "parquet", "path": path, "exclude": ["row_id"], "chunk_rows": 128,
                 "shuffle_buffer": 256, **data},
        "trunk": {"type": "mlp", "units": [8]},
        "tasks": {"cls": {"head": "classification", "classes": 3},
                  "reg": {"head": "regression"},
                  "flag": {"head": "binary"}},
        "train": {"epochs": 2, "batch_size": 32, "learning_rate": 0.01, "seed": 1,
                  "validation_fraction": 0.2, "test_fraction": 0.1},
    }


def write_config(t: Path, cfg: dict[str, Any], name: str = "cfg.yaml") -> Path:
    p = t / name
    p.write_text(yaml.safe_dump(cfg))
    return p
