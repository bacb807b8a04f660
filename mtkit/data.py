"""In-memory data passed from dataset plugins to training: arrays, splits, checks.

Numpy only (no TensorFlow), so the runtime and the CLI can share it. Missing labels are
first class: -1 in an integer label array, NaN in a float one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtkit.errors import DataError


@dataclass
class Arrays:
    """One split: ``inputs`` ``{name: (N, ...)}`` and ``labels`` ``{task: (N, ...)}``."""

    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.inputs.values()))) if self.inputs else 0

    def take(self, index: np.ndarray) -> Arrays:
        return Arrays(
            inputs={k: v[index] for k, v in self.inputs.items()},
            labels={k: v[index] for k, v in self.labels.items()},
        )


@dataclass
class Splits:
    """What a dataset plugin returns; None splits are carved out of ``train``."""

    train: Arrays
    val: Arrays | None = None
    test: Arrays | None = None


def label_present(y: np.ndarray) -> np.ndarray:
    """Boolean (N,) mask of rows that carry a label (int: >= 0, float: all finite)."""
    if np.issubdtype(y.dtype, np.integer):
        ok = y >= 0
    else:
        ok = np.isfinite(y)
    return ok.reshape(len(y), -1).all(axis=1) if y.ndim > 1 else ok


def sample(arrays: Arrays, rows: int, seed: int = 0) -> Arrays:
    """At most ``rows`` rows picked at random (seeded), kept in their original order.
    A streamed split (``mtkit.streaming``) gives its own bounded sample."""
    if not isinstance(arrays, Arrays):
        return arrays.sample(rows, seed)
    if len(arrays) <= rows:
        return arrays
    idx = np.sort(np.random.default_rng(seed).choice(len(arrays), rows, replace=False))
    return arrays.take(idx)


def carve(arrays: Arrays, fraction: float, seed: int) -> tuple[Arrays, Arrays]:
    """Split off ``fraction`` of rows at random (deterministic by seed)."""
    n = len(arrays)
    order = np.random.default_rng(seed).permutation(n)
    k = int(round(n * fraction))
    return arrays.take(np.sort(order[k:])), arrays.take(np.sort(order[:k]))


def check_arrays(arrays: Arrays, split: str, source: str,
                 nan_ok: frozenset[str] = frozenset()) -> None:
    """Every input and label has the same number of rows, and inputs are finite.

    Inputs named in ``nan_ok`` may hold NaN (a missing cell the model imputes itself).
    """
    if not arrays.inputs:
        raise DataError(f"{source}: the {split} split has no inputs.")
    for kind, group in (("input", arrays.inputs), ("labels of task", arrays.labels)):
        for k, v in group.items():
            if np.ndim(v) == 0:
                raise DataError(f"{source}: {kind} '{k}' of the {split} split is a single value, "
                                "not an array with one row per example.")
    lengths = {f"input '{k}'": len(v) for k, v in arrays.inputs.items()}
    lengths.update({f"labels of task '{k}'": len(v) for k, v in arrays.labels.items()})
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise DataError(
            f"{source}: the {split} split has arrays of different lengths ({detail}); "
            "every input and label array needs one row per example."
        )
    if len(arrays) == 0:
        raise DataError(f"{source}: the {split} split is empty; the dataset needs examples.")
    for k, v in arrays.inputs.items():
        if k in nan_ok:
            v = v[~np.isnan(v)]
        if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all():
            bad = int((~np.isfinite(v)).reshape(len(v), -1).any(axis=1).sum())
            first = np.argwhere(~np.isfinite(v))[0]
            where = f"row {int(first[0])}" + (
                f", column {', '.join(str(int(i)) for i in first[1:])}" if len(first) > 1 else "")
            raise DataError(
                f"{source}: input '{k}' of the {split} split has NaN or infinite values in "
                f"{bad} rows (the first at {where}: {v[tuple(first)].item()}); clean or impute "
                "them (missing *labels* are fine, missing *inputs* are not)."
            )
