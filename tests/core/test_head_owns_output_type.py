"""A head with an output type mtkit has never heard of works everywhere through the head:
loss fit, metric direction, parity decisions, generated labels and uncertainty's factor."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mtkit import metrics
from mtkit.export import parity, quality
from mtkit.plugin_types import Head, Loss, TaskInfo


@metrics.lower_is_better
def spread(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.std(y_pred.reshape(y_true.shape) - y_true))


class IntervalHead(Head):
    name = "interval"
    output_type = "interval"  # unknown to mtkit
    default_loss = "mse"
    extra_losses: ClassVar[tuple[str, ...]] = ("mse",)
    continuous = True

    def label_shape(self) -> tuple[int, ...]:
        return (2,)

    def metric_functions(self) -> dict[str, Any]:
        return {"spread": spread, "width_accuracy": lambda y, p: 1.0}

    def decisions(self, y: np.ndarray) -> np.ndarray:
        rows = y.reshape(len(y), -1)
        return rows[:, :1] < rows[:, 1:]


class Mse(Loss):
    name = "mse"
    accepts = frozenset({"regression"})


class Hinge(Loss):
    name = "hinge"
    accepts = frozenset({"binary"})


def test_loss_fit_is_the_heads_call():
    head = IntervalHead()
    assert head.fits_loss(Mse()) and not head.fits_loss(Hinge())


def test_metric_directions_come_from_the_marked_function_else_the_name():
    head = IntervalHead()
    assert head.metric_direction("spread") == -1
    assert head.metric_direction("width_accuracy") == 1  # unmarked: by name
    assert metrics.direction("r2", metrics.r2) == 1 and metrics.direction("mae", metrics.mae) == -1


def test_quality_judges_a_new_metric_by_the_heads_direction():
    base = {"tasks": {"t": {"spread": 1.0}}, "directions": {"t.spread": -1}}
    worse = {"tasks": {"t": {"spread": 1.5}}}
    (row,) = quality.deltas(base, worse, max_drop=0.2)
    assert row["worse_by"] == 0.5 and not row["ok"]  # relative rise of an error metric


def test_parity_agreement_uses_the_heads_decisions():
    ref = np.array([[0.0, 1.0], [2.0, 1.0]])
    flipped = np.array([[0.0, 1.0], [0.5, 1.0]])
    row = parity.compare("t", IntervalHead(), ref, flipped, 2, rtol=1e-5, atol=1e-5)
    assert row.agreement == 0.5 and not row.ok
    no_decisions = parity.compare("t", None, ref, ref.copy(), 2, rtol=1e-5, atol=1e-5)
    assert no_decisions.agreement is None and no_decisions.ok


def test_generated_labels_follow_the_heads_label_shape():
    rng = np.random.default_rng(0)
    y = IntervalHead().synthetic_labels(rng.normal(size=(7, 4)), rng, 0.1)
    assert y.shape == (7, 2) and np.isfinite(y).all()


def test_uncertainty_reads_continuous_from_the_task():
    from mtkit.builtin.weightings.uncertainty import Uncertainty

    tasks = [TaskInfo("a", "interval", output_type="interval", continuous=True),
             TaskInfo("b", "classification", output_type="categorical")]
    w = Uncertainty()
    w.setup(tasks)
    assert w.factors == [0.5, 1.0]
