"""Which rows of which shards make the train, validation and test splits.

With ``val_path`` / ``test_path`` the splits are their own files. Without them the
validation and test rows are carved deterministically out of the train shards:

* ``carve: hash`` (default) — each row gets a uniform number from a counter-based hash of
  (seed, shard file name, row index in the file); the test split is ``u < test_fraction``,
  validation the next ``validation_fraction``, train the rest. Any number of shards works,
  a row's split does not depend on chunk sizes, worker counts or mount points, and no
  list of row ids is ever held in memory. Evaluating such a split reads every train shard.
* ``carve: shard`` — whole shards are set aside (a seeded permutation of the file names;
  at least one shard per carved split), so evaluation reads only those files.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from mtkit.errors import DataError
from mtkit.streaming.shards import Shard

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def row_uniform(seed: int, name: str, start: int, count: int, salt: int = 0) -> np.ndarray:
    """A uniform [0, 1) number per row ``start .. start+count`` of shard ``name``
    (splitmix64 of the row index, keyed by seed, file name and salt)."""
    key = np.uint64(((zlib.crc32(name.encode()) << 20) ^ (seed * 1_000_003 + salt * 7919))
                    & 0xFFFFFFFFFFFFFFFF)
    x = np.arange(start, start + count, dtype=np.uint64) * _GOLDEN + key
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass
class Part:
    """Rows of one shard in a split: those whose row hash falls in [lo, hi)."""

    shard: Shard
    lo: float = 0.0
    hi: float = 1.0

    @property
    def whole(self) -> bool:
        return self.lo <= 0.0 and self.hi >= 1.0

    def mask(self, seed: int, start: int, count: int) -> np.ndarray | None:
        """Which of rows ``start .. start+count`` belong to the split (None: all)."""
        if self.whole:
            return None
        u = row_uniform(seed, self.shard.name, start, count)
        return (u >= self.lo) & (u < self.hi)


@dataclass
class SplitFiles:
    """One split: its parts, and its row count once known (metadata or the stats pass)."""

    name: str
    parts: list[Part]
    rows: int | None = None
    rows_per_part: list[int] = field(default_factory=list)

    def known_rows(self) -> None:
        if all(p.whole for p in self.parts):
            self.rows_per_part = [p.shard.rows for p in self.parts]
            self.rows = sum(self.rows_per_part)


def carve(train: list[Shard], val: list[Shard] | None, test: list[Shard] | None,
          val_fraction: float, test_fraction: float, how: str, seed: int, source: str
          ) -> tuple[SplitFiles, SplitFiles | None, SplitFiles | None]:
    """The three splits; the carved ones come out of ``train`` (see the module doc)."""
    tf = test_fraction if test is None else 0.0
    vf = val_fraction if val is None else 0.0
    out_val = SplitFiles("validation", [Part(s) for s in val]) if val is not None else None
    out_test = SplitFiles("test", [Part(s) for s in test]) if test is not None else None
    if how == "hash" or (vf == 0 and tf == 0):
        parts = [Part(s, tf + vf, 1.0) for s in train]
        if tf > 0:
            out_test = SplitFiles("test", [Part(s, 0.0, tf) for s in train])
        if vf > 0:
            out_val = SplitFiles("validation", [Part(s, tf, tf + vf) for s in train])
        out_train = SplitFiles("train", parts)
    else:
        order = np.random.default_rng(seed).permutation(len(train))
        n_test = max(1, round(tf * len(train))) if tf > 0 else 0
        n_val = max(1, round(vf * len(train))) if vf > 0 else 0
        if n_test + n_val >= len(train):
            raise DataError(f"{source}: data.carve 'shard' sets whole shards aside, and "
                            f"{len(train)} shard(s) cannot give {n_test} test and {n_val} "
                            "validation shard(s) and keep one for training; write more shards, "
                            "give data.val_path / data.test_path, or use data.carve: hash.")
        picked = [train[i] for i in order]
        if n_test:
            out_test = SplitFiles("test", [Part(s) for s in picked[:n_test]])
        if n_val:
            out_val = SplitFiles("validation", [Part(s) for s in picked[n_test:n_test + n_val]])
        chosen = {s.path for s in picked[:n_test + n_val]}
        out_train = SplitFiles("train", [Part(s) for s in train if s.path not in chosen])
    for split in (out_train, out_val, out_test):
        if split is not None:
            split.known_rows()
    return out_train, out_val, out_test
