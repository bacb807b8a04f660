"""A mixture's rows miss the tasks their source does not label: masked in every weighting.

Real TensorFlow, real train step (``mtkit.training.step``), tiny MLP on synthetic sources.
"""

from __future__ import annotations

import numpy as np
import pytest

from mtkit.api import plan as make_plan
from mtkit.data import label_present
from mtkit.dataprep import prepare
from mtkit.registry import get_registry
from tests.mixtures.test_mixture_errors import cfg

tf = pytest.importorskip("tensorflow")


def test_rows_of_a_source_miss_the_tasks_it_does_not_label():
    splits, specs = prepare(make_plan(cfg()))
    b = splits.sources["b"]
    for split in (b.train, b.val, b.test):
        assert not label_present(split.labels["ta"]).any()
        assert not label_present(split.labels["tb"]).any()
        assert label_present(split.labels["tc"]).all()
    a = splits.sources["a"].train
    assert label_present(a.labels["ta"]).all() and not label_present(a.labels["tc"]).any()
    assert len(splits.train) == len(a) + len(b.train)
    assert len(specs.shapes) == 1 and next(iter(specs.shapes.values())) == (4,)


def test_per_step_batches_come_from_one_source_in_the_right_share():
    p = make_plan(cfg(data__sampling={"mode": "weights", "weights": {"a": 1, "b": 3},
                                      "per": "step", "steps_per_epoch": 400},
                      train={"batch_size": 8, "seed": 1}))
    splits, _ = prepare(p)
    from mtkit.mixtures.epoch_data import MixtureEpochData

    data = MixtureEpochData(p, splits)
    assert data.steps_per_epoch() == 400
    from_b = 0
    for _, labels in data.dataset(1):
        has_a = label_present(labels["ta"].numpy())
        has_c = label_present(labels["tc"].numpy())
        assert has_a.all() != has_c.all() and (has_a ^ has_c).all()  # one source per step
        from_b += int(has_c.all())
    assert abs(from_b / 400 - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 400)


def _head_weights(model, task):
    return [v.numpy().copy() for v in model.trainable_variables if v.path.split("/")[0] == task]


def _weightings():
    return get_registry().names("weighting")


def test_every_weighting_gives_an_absent_task_no_update():
    """One step on a batch of source b only: the heads of ta and tb (absent) stay put,
    tc's head moves, everything stays finite — for every registered weighting."""
    import keras

    from mtkit.assembly import build_model
    from mtkit.training.step import StepParts, make_train_step

    checked = []
    for name in _weightings():
        p = make_plan(cfg(weighting={"type": name}))
        splits, specs = prepare(p)
        keras.utils.set_random_seed(0)
        asm = build_model(p, specs)
        opt = keras.optimizers.SGD(0.5)
        p.weighting.setup(p.task_infos)
        if p.weighting.mode == "shared_gradients":
            p.weighting.setup_shared([tuple(v.shape) for v in asm.shared_variables])
        opt.build(asm.model.trainable_variables
                  + [v for v in p.weighting.variables().values() if v.trainable])
        step = make_train_step(p, StepParts(asm.model, asm.features_model, asm.shared_variables,
                                            opt, tf.distribute.get_strategy()))
        b = splits.sources["b"].train.take(np.arange(16))
        before = {t: _head_weights(asm.model, t) for t in ("ta", "tb", "tc")}
        assert all(before.values()), [v.path for v in asm.model.trainable_variables]
        values, counts = step((b.inputs, b.labels))
        assert float(counts["ta"]) == 0 and float(counts["tc"]) == 16, name
        after = {t: _head_weights(asm.model, t) for t in ("ta", "tb", "tc")}
        for t in ("ta", "tb"):
            for x, y in zip(before[t], after[t], strict=True):
                np.testing.assert_array_equal(x, y, err_msg=f"{name}: absent task {t} moved")
        assert any(not np.array_equal(x, y) for x, y in zip(before["tc"], after["tc"],
                                                            strict=True)), name
        assert all(np.isfinite(w).all() for w in asm.model.get_weights()), name
        checked.append(name)
    assert len(checked) >= 10


def test_a_source_augments_only_its_own_rows():
    pytest.importorskip("mtkit_multidigit")
    from mtkit.mixtures.epoch_data import MixtureEpochData

    small = {"dataset": "multidigit", "train_size": 40, "val_size": 8, "test_size": 8,
             "max_digits": 1}
    p = make_plan({
        "data": {"sources": {"shifted": {**small, "shift": 3.0, "tasks": ["length", "digit1"]},
                             "plain": {**small, "train_size": 60, "tasks": ["digit1"]}},
                 "sampling": {"mode": "equal", "steps_per_epoch": 3}},
        "trunk": {"type": "mlp", "units": [4]},
        "tasks": {"length": {"head": "classification", "classes": 7},
                  "digit1": {"head": "classification", "classes": 10}},
        "train": {"batch_size": 16},
    })
    splits, _ = prepare(p)
    data = MixtureEpochData(p, splits)
    choice, rows = data.schedule(1)
    raw = splits.train.inputs["image"][rows]
    fed = np.stack([b[0]["image"].numpy() for b in data.dataset(1)])
    assert (choice == 0).any() and (choice == 1).any()
    np.testing.assert_array_equal(fed[choice == 1], raw[choice == 1])  # plain: untouched
    moved = np.abs(fed[choice == 0] - raw[choice == 0]).reshape((choice == 0).sum(), -1).max(1)
    assert (moved > 1e-3).mean() > 0.8  # shifted: randomly shifted
