"""Train statistics as streaming accumulators: a column can be fitted in chunks.

``update`` may be called any number of times (one pass over a file, or a sample), then
``result`` gives the statistic. Streaming readers (and mixtures of sources) reuse these.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from mtkit.tabular.values import MISSING


class Moments:
    """Mean and (population) standard deviation over the finite values seen, in float64."""

    def __init__(self) -> None:
        self.n, self.total, self.sq, self.missing = 0, 0.0, 0.0, 0
        self.shift: float | None = None  # first value: keeps the sums well conditioned

    def update(self, values: np.ndarray) -> None:
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        ok = v[np.isfinite(v)]
        self.missing += int(v.size - ok.size)
        if ok.size == 0:
            return
        if self.shift is None:
            self.shift = float(ok[0])
        d = ok - self.shift
        self.n += int(ok.size)
        self.total += float(d.sum())
        self.sq += float((d * d).sum())

    def result(self) -> tuple[float, float]:
        """(mean, std); a column with no spread gets std 1 (it is only shifted, never
        divided by ~0), an empty one (0, 1)."""
        if self.n == 0:
            return 0.0, 1.0
        mean_d = self.total / self.n
        var = max(self.sq / self.n - mean_d * mean_d, 0.0)
        std = float(np.sqrt(var))
        if not std > 1e-12 * max(1.0, abs(mean_d + (self.shift or 0.0))):
            std = 1.0
        return float(mean_d + (self.shift or 0.0)), std


class Categories:
    """Counts of each category string (missing cells counted apart)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.missing = 0

    def update(self, values: np.ndarray) -> None:
        for v in np.asarray(values, dtype=object).reshape(-1):
            if v == MISSING:
                self.missing += 1
            else:
                self.counts[v] += 1

    def vocabulary(self, top: int | None = None) -> list[str]:
        """Most frequent first (ties by value), at most ``top`` entries."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [k for k, _ in (ranked[:top] if top else ranked)]
