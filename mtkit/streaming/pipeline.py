"""Training batches from shards: ``StreamEpochData``, the interface of ``EpochData``.

Why numpy and not tf.data per-row ops: per-element ``unbatch``/``shuffle``/``batch`` and
per-chunk tensor conversion cost more than a small model's step. Here a Python generator
reads large record batches (``chunk_rows``) round-robin from ``interleave`` open shards,
converts each once to contiguous numpy columns, keeps a shuffle buffer of whole chunks
(``shuffle_buffer`` rows), permutes it with a seeded numpy Generator and slices ready-made
batches (dicts of contiguous arrays); ``tf.data.Dataset.from_generator`` with a fixed
output signature and ``prefetch`` overlaps that with the step. Memory is bounded by the
buffer plus one decoded row group per open shard, whatever the size of the data.

Readers: the train shards are dealt out round-robin to ``readers`` input pipelines (shard
i → reader i mod R). Each reader yields local batches of ``batch_size / R`` rows; a global
batch is the readers' local batches side by side. Under ``multi-worker`` R is the number
of workers and worker i runs reader i only (it opens only its own shards); on one process
``data.readers: R`` builds exactly the same global batches, so a multi-worker run can be
reproduced on one machine. An epoch has ``min over readers of ceil(rows / local batch)``
steps (``floor`` with ``train.jit_compile``), capped by ``train.steps_per_epoch``; rows a
larger reader has beyond that are not seen that epoch (which ones changes every epoch).

Determinism and resume: an epoch's batches are a pure function of (seed, epoch, reader):
shard order, interleaving and shuffling all come from ``numpy.random.default_rng([seed,
epoch, reader])``. A checkpoint is written after every epoch, so ``--resume`` after a kill
restarts the interrupted epoch from its first batch, and the run ends exactly where the
uninterrupted run ends (the killed epoch's partial steps are redone, nothing is skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from mtkit.data import Arrays
from mtkit.errors import ConfigError, DataError, MtkitError
from mtkit.planning import Plan
from mtkit.streaming.data import StreamSplits

TRACE = "MTKIT_TRACE_SHARDS"
"""Debugging aid: a file to which every train shard a reader opens is appended
(``epoch=E reader=R PATH``); the multi-worker test uses it to see who read what."""


def _concat(parts: list[Arrays]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    if len(parts) == 1:
        return dict(parts[0].inputs), dict(parts[0].labels)
    return ({k: np.concatenate([p.inputs[k] for p in parts]) for k in parts[0].inputs},
            {k: np.concatenate([p.labels[k] for p in parts]) for k in parts[0].labels})


class StreamEpochData:
    """Training batches of streamed shards (see the module doc); one reader per worker."""

    def __init__(self, plan: Plan, splits: StreamSplits) -> None:
        self.plan, self.splits = plan, splits
        self.train = splits.train
        self.readers = splits.readers
        bs = plan.config.train.batch_size
        if bs % self.readers:
            raise ConfigError(f"{plan.source}: field 'train.batch_size': {bs} is not divisible "
                              f"by the {self.readers} readers (data.readers, or one per "
                              "worker); each reader gives an equal share of every batch.")
        self.local_batch = bs // self.readers
        parts = self.train.files.parts
        self.assigned = [list(range(r, len(parts), self.readers)) for r in range(self.readers)]
        self.rows = [sum(self.train.files.rows_per_part[i] for i in idx) for idx in self.assigned]
        empty = [r for r, n in enumerate(self.rows) if n == 0]
        if empty:
            files = ", ".join(parts[i].shard.path for i in self.assigned[empty[0]])
            raise DataError(f"reader {empty[0]} of {self.readers} has no train rows (its shards: "
                            f"{files}); write the data into more, evenly sized shards.")
        self.error: MtkitError | None = None

    def steps_per_epoch(self) -> int:
        cfg = self.plan.config.train
        drop = cfg.jit_compile
        per = [n // self.local_batch if drop else -(-n // self.local_batch) for n in self.rows]
        steps = max(min(per), 1)
        return min(steps, cfg.steps_per_epoch) if cfg.steps_per_epoch else steps

    # ---------------------------------------------------------------- the numpy side

    def _chunks(self, order: list[int], tag: str) -> Iterator[Arrays]:
        """Chunks of the reader's shards, round-robin over ``interleave`` open shards."""
        k = max(1, int(self.splits.options.get("interleave", 1)))
        pending = list(order)
        open_: list[Iterator[Arrays]] = []
        trace = os.environ.get(TRACE)
        while pending or open_:
            while pending and len(open_) < k:
                index = pending.pop(0)
                if trace:
                    with open(trace, "a", encoding="utf-8") as f:
                        f.write(f"{tag} {self.train.files.parts[index].shard.path}\n")
                open_.append(self.train.part_chunks(index))
            for it in list(open_):
                chunk = next(it, None)
                if chunk is None:
                    open_.remove(it)
                else:
                    yield chunk

    def reader_batches(self, epoch: int, reader: int, pieces: int = 1
                       ) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        """The reader's local batches of an epoch (each cut in ``pieces`` equal parts, one
        per replica of a worker with several devices)."""
        cfg = self.plan.config.train
        rng = np.random.default_rng([cfg.seed, epoch, reader])
        mine = self.assigned[reader]
        order = [mine[i] for i in rng.permutation(len(mine))]
        bs, steps = self.local_batch, self.steps_per_epoch()
        buffer_rows = max(int(self.splits.options.get("shuffle_buffer", bs)), bs)
        emitted, parts, held = 0, [], 0

        def flush(final: bool):
            nonlocal parts, held, emitted
            inputs, labels = _concat(parts)
            n = held
            perm = rng.permutation(n)
            inputs = {k: v[perm] for k, v in inputs.items()}
            labels = {k: v[perm] for k, v in labels.items()}
            full = n // bs * bs
            end = n if final and not cfg.jit_compile else full
            for s in range(0, end, bs):
                if emitted == steps:
                    break
                e = min(s + bs, end)
                emitted += 1
                for piece in _pieces(s, e, pieces):
                    yield ({k: v[piece] for k, v in inputs.items()},
                           {k: v[piece] for k, v in labels.items()})
            rest = Arrays({k: v[full:] for k, v in inputs.items()},
                          {k: v[full:] for k, v in labels.items()})
            parts, held = ([rest], n - full) if n > full and not final else ([], 0)

        for chunk in self._chunks(order, f"epoch={epoch} reader={reader}"):
            parts.append(chunk)
            held += len(chunk)
            if held >= buffer_rows:
                yield from flush(final=False)
                if emitted == steps:
                    return
        if held:
            yield from flush(final=True)

    def _guarded(self, it: Iterator[Any]) -> Iterator[Any]:
        """Remember a data problem met inside tf.data (which would otherwise surface as a
        bare TensorFlow error), so the trainer can raise it as itself."""
        try:
            yield from it
        except MtkitError as exc:
            self.error = exc
            raise

    def global_batches(self, epoch: int) -> Iterator[Any]:
        its = [self.reader_batches(epoch, r) for r in range(self.readers)]
        for locals_ in zip(*its, strict=False):
            yield (_concat_dicts([b[0] for b in locals_]), _concat_dicts([b[1] for b in locals_]))

    # ---------------------------------------------------------------- the tf.data side

    def signature(self) -> Any:
        import tensorflow as tf

        conv = self.train.converter
        inputs = {k: tf.TensorSpec((None, 1), tf.string if s.type in ("categorical", "binary")
                                   else tf.float32) for k, s in conv.resolved.features.items()}
        labels = {t: tf.TensorSpec((None, *h.label_shape()),
                                   tf.int32 if h.label_dtype == "int32" else tf.float32)
                  for t, h in conv.heads.items()}
        return inputs, labels

    def _dataset(self, make: Any) -> Any:
        import tensorflow as tf

        self.error = None
        ds = tf.data.Dataset.from_generator(lambda: self._guarded(make()),
                                            output_signature=self.signature())
        return ds.prefetch(4)

    def dataset(self, epoch: int) -> Any:
        """The epoch's global batches (every reader, side by side): one process."""
        return self._dataset(lambda: self.global_batches(epoch))

    def local_dataset(self, epoch: int, reader: int, pieces: int = 1) -> Any:
        """Only reader ``reader``'s batches: one worker of a multi-worker run."""
        return self._dataset(lambda: self.reader_batches(epoch, reader, pieces))

    def failure(self) -> MtkitError | None:
        return self.error


def _concat_dicts(ds: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(ds) == 1:
        return ds[0]
    return {k: np.concatenate([d[k] for d in ds]) for k in ds[0]}


def _pieces(start: int, end: int, pieces: int) -> list[slice]:
    if pieces == 1:
        return [slice(start, end)]
    bounds = np.linspace(start, end, pieces + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
