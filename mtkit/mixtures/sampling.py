"""Which source each training row (or step) draws from: numpy only, seeded, testable.

Source probabilities: ``proportional`` p_s ∝ n_s (train rows), ``temperature``
p_s ∝ n_s^(1/T), ``equal`` p_s = 1/S, ``weights`` p_s ∝ w_s. ``per: batch`` draws a source
for every row of every batch (mixed batches; counts per batch are multinomial);
``per: step`` draws one source per step, for the whole batch. Within a source rows are
taken in a fresh seeded permutation each epoch, cycled (re-permuted) when the epoch needs
more rows than the source has. An epoch is a fixed number of full batches.
"""

from __future__ import annotations

import numpy as np

from mtkit.config import SamplingConfig


def probabilities(sizes: dict[str, int], sampling: SamplingConfig) -> dict[str, float]:
    """Source → probability of being drawn (sums to 1)."""
    names = list(sizes)
    n = np.array([sizes[k] for k in names], dtype=np.float64)
    if sampling.mode == "proportional":
        w = n
    elif sampling.mode == "temperature":
        w = n ** (1.0 / sampling.temperature)
    elif sampling.mode == "equal":
        w = np.ones_like(n)
    else:
        w = np.array([float((sampling.weights or {}).get(k, 0.0)) for k in names])
    return {k: float(v) for k, v in zip(names, w / w.sum(), strict=True)}


def steps_per_epoch(sizes: dict[str, int], sampling: SamplingConfig, batch_size: int,
                    cap: int | None) -> int:
    steps = sampling.steps_per_epoch or -(-sum(sizes.values()) // batch_size)
    return min(steps, cap) if cap else steps


def source_choice(probs: dict[str, float], steps: int, batch_size: int, per: str,
                  seed: int, epoch: int) -> np.ndarray:
    """(steps, batch_size) int array: the source index of every row of the epoch."""
    rng = np.random.default_rng([seed, epoch, 7])
    p = np.array(list(probs.values()))
    if per == "step":
        return np.repeat(rng.choice(len(p), size=steps, p=p)[:, None], batch_size, axis=1)
    return rng.choice(len(p), size=(steps, batch_size), p=p)


def row_schedule(sizes: dict[str, int], choice: np.ndarray, seed: int, epoch: int
                 ) -> np.ndarray:
    """(steps, batch_size) rows of the joined train split (sources in ``sizes`` order)."""
    offsets = np.cumsum([0] + list(sizes.values()))
    out = np.empty(choice.shape, dtype=np.int64)
    flat = choice.reshape(-1)
    result = out.reshape(-1)
    for s, n in enumerate(sizes.values()):
        where = np.flatnonzero(flat == s)
        if not len(where):
            continue
        passes = -(-len(where) // n)
        rows = np.concatenate([np.random.default_rng([seed, epoch, s, k]).permutation(n)
                               for k in range(passes)])[: len(where)]
        result[where] = rows + offsets[s]
    return out
