"""Each sampling mode draws its sources in the documented proportions (numpy, no TF)."""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.config import SamplingConfig
from mtkit.mixtures import sampling

SIZES = {"big": 9000, "mid": 900, "small": 100}


def expected(mode: str, **kw) -> np.ndarray:
    n = np.array(list(SIZES.values()), float)
    w = {"proportional": n, "temperature": n ** (1 / kw.get("temperature", 2.0)),
         "equal": np.ones(3),
         "weights": np.array([kw.get("weights", {}).get(k, 0.0) for k in SIZES])}[mode]
    return w / w.sum()


CASES = [("proportional", {}), ("temperature", {"temperature": 3.0}), ("equal", {}),
         ("weights", {"weights": {"big": 1.0, "mid": 0.0, "small": 3.0}})]


@pytest.mark.parametrize("per", ["batch", "step"])
@pytest.mark.parametrize(("mode", "kw"), CASES)
def test_measured_proportions_match_the_mode(mode, kw, per):
    cfg = SamplingConfig(mode=mode, per=per, **kw)
    probs = sampling.probabilities(SIZES, cfg)
    want = expected(mode, **kw)
    np.testing.assert_allclose(list(probs.values()), want, rtol=1e-12)
    steps, bs = 4000, 32
    choice = sampling.source_choice(probs, steps, bs, per, seed=3, epoch=1)
    measured = np.bincount(choice.ravel(), minlength=3) / choice.size
    # binomial standard error over independent draws (per step: one draw per step)
    draws = steps * bs if per == "batch" else steps
    tol = 5 * np.sqrt(want * (1 - want) / draws) + 1e-9
    assert np.all(np.abs(measured - want) <= tol), (measured, want)
    if per == "step":  # one source for a whole batch
        assert (choice == choice[:, :1]).all()
    else:  # mixed batches
        assert (np.array([len(np.unique(r)) for r in choice]) > 1).mean() > 0.5


def test_schedule_is_seeded_and_rows_belong_to_their_source():
    probs = sampling.probabilities(SIZES, SamplingConfig(mode="equal"))
    a = sampling.source_choice(probs, 50, 16, "batch", seed=0, epoch=2)
    b = sampling.source_choice(probs, 50, 16, "batch", seed=0, epoch=2)
    c = sampling.source_choice(probs, 50, 16, "batch", seed=0, epoch=3)
    assert (a == b).all() and not (a == c).all()
    rows = sampling.row_schedule(SIZES, a, seed=0, epoch=2)
    offsets = np.cumsum([0, *SIZES.values()])
    for s in range(3):
        mine = rows[a == s]
        assert ((mine >= offsets[s]) & (mine < offsets[s + 1])).all()
    # the small source (100 rows) is drawn ~267 times: it cycles through full permutations
    small = rows[a == 2] - offsets[2]
    first = small[:100]
    assert sorted(first.tolist()) == list(range(100))


def test_epoch_is_a_fixed_number_of_steps():
    cfg = SamplingConfig()
    assert sampling.steps_per_epoch(SIZES, cfg, 64, None) == -(-10000 // 64)
    assert sampling.steps_per_epoch(SIZES, SamplingConfig(steps_per_epoch=7), 64, None) == 7
    assert sampling.steps_per_epoch(SIZES, cfg, 64, 5) == 5
