"""A streamed split: its shard parts, read chunk by chunk as model arrays.

``StreamSplit`` stands where ``mtkit.data.Arrays`` stands for in-memory data: ``len``
gives its rows, ``chunks()`` yields ``Arrays`` of at most ``chunk_rows`` rows in file
order (evaluation, prediction), ``sample(rows)`` a small in-memory sample (train metrics,
export's parity check). ``StreamSplits`` holds the three, plus how they were read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.streaming.reader import Converter, read_chunks
from mtkit.streaming.splits import SplitFiles


@dataclass
class StreamSplit:
    files: SplitFiles
    converter: Converter
    chunk_rows: int
    seed: int
    kept_sample: Arrays | None = None

    def __len__(self) -> int:
        return int(self.files.rows or 0)

    @property
    def name(self) -> str:
        return self.files.name

    def part_chunks(self, index: int) -> Iterator[Arrays]:
        part = self.files.parts[index]
        for batch, rows in read_chunks(part, self.converter.columns, self.chunk_rows, self.seed):
            yield self.converter.arrays(batch, part.shard.path, rows)

    def chunks(self) -> Iterator[Arrays]:
        """Every row of the split, chunk by chunk, shards in order."""
        for i in range(len(self.files.parts)):
            yield from self.part_chunks(i)

    def sample(self, rows: int, seed: int = 0) -> Arrays:
        """At most ``rows`` rows: the sample kept by the statistics pass (train), else the
        first ``rows`` rows of the split in file order (held-out splits are not shuffled,
        so their first rows are as good as any)."""
        if self.kept_sample is not None and len(self.kept_sample) >= min(rows, len(self)):
            return _head(self.kept_sample, rows)
        parts, n = [], 0
        for chunk in self.chunks():
            parts.append(chunk)
            n += len(chunk)
            if n >= rows:
                break
        return _head(join(parts), rows)


def _head(arrays: Arrays, rows: int) -> Arrays:
    if len(arrays) <= rows:
        return arrays
    return Arrays({k: v[:rows] for k, v in arrays.inputs.items()},
                  {k: v[:rows] for k, v in arrays.labels.items()})


def join(parts: list[Arrays]) -> Arrays:
    return Arrays(inputs={k: np.concatenate([p.inputs[k] for p in parts]) for k in parts[0].inputs},
                  labels={k: np.concatenate([p.labels[k] for p in parts]) for k in parts[0].labels})


@dataclass
class StreamSplits:
    """The streamed train/validation/test splits and the reading options in force."""

    train: StreamSplit
    val: StreamSplit | None = None
    test: StreamSplit | None = None
    readers: int = 1
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """For run.json: the shards of each split and how they are read."""
        out: dict[str, Any] = dict(self.options, readers=self.readers)
        for key, split in (("train", self.train), ("val", self.val), ("test", self.test)):
            if split is not None:
                out[f"{key}_shards"] = [p.shard.path for p in split.files.parts]
        return out
