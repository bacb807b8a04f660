"""The hook dataprep calls for table datasets: bind the schema, fit statistics on train.

``bind`` hands the config's ``features:`` to the dataset before it loads; ``fit`` turns
the resolved schema and the *train* split into the fitted schema the model is built from
(means, standard deviations, vocabularies, target scaling), and tells the plan what it
learned: class names for heads that had none, standardised regression losses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.data import Arrays, label_present
from mtkit.errors import ConfigError
from mtkit.planning import Plan
from mtkit.tabular.columns import Resolved
from mtkit.tabular.schema import (
    ONE_HOT_MAX,
    STRING_TYPES,
    FittedFeature,
    FittedSchema,
    embedding_size,
)
from mtkit.tabular.stats import Categories, Moments
from mtkit.tabular.targets import standardise_loss


def is_table(plan: Plan) -> bool:
    return bool(getattr(plan.dataset, "tabular", False))


def bind(plan: Plan) -> None:
    """Give a table dataset the config's ``features:``; refuse it for other datasets."""
    features = plan.config.features
    if not is_table(plan):
        if features is not None:
            raise ConfigError(f"{plan.source}: field 'features': dataset "
                              f"'{plan.config.data.dataset_name}' does not read tables, so a feature "
                              "schema does not apply; remove `features:` (it is for the csv, "
                              "parquet, table and dataframe datasets).")
        return
    plan.dataset.declared = features


def nan_inputs(plan: Plan) -> frozenset[str]:
    """Inputs whose NaN cells are missing values the model imputes (numeric features)."""
    resolved: Resolved | None = getattr(plan.dataset, "resolved", None) if is_table(plan) else None
    if resolved is None:
        return frozenset()
    return frozenset(k for k, s in resolved.features.items() if s.type == "numeric")


def accumulator(spec: Any) -> Categories | Moments:
    """The statistic a feature of this type is fitted with (fed in one or many chunks)."""
    return Categories() if spec.type in STRING_TYPES else Moments()


def fitted_feature(name: str, spec: Any, acc: Categories | Moments) -> FittedFeature:
    """A fitted feature from its accumulated statistic (``accumulator``)."""
    if isinstance(acc, Categories):
        vocab = acc.vocabulary(spec.top)
        encoding = spec.encoding
        if encoding == "auto":
            encoding = "one_hot" if len(vocab) <= ONE_HOT_MAX or spec.type == "binary" else \
                "embedding"
        dim = spec.embedding_dim or embedding_size(len(vocab) + 2) if encoding == "embedding" else 0
        return FittedFeature(name, spec.type, vocabulary=vocab, encoding=encoding,
                             embedding_dim=dim, missing_rows=acc.missing)
    mean, std = acc.result() if spec.type == "numeric" else (0.0, 1.0)
    return FittedFeature(name, spec.type, mean=mean, std=std,
                         missing_indicator=spec.missing_indicator, missing_rows=acc.missing)


def _feature(name: str, spec: Any, column: np.ndarray) -> FittedFeature:
    acc = accumulator(spec)
    acc.update(column)
    return fitted_feature(name, spec, acc)


def fit(plan: Plan, train: Arrays) -> FittedSchema:
    """Statistics of the train split → the fitted schema; updates heads and losses."""
    resolved: Resolved = plan.dataset.resolved
    features = {name: _feature(name, spec, train.inputs[name])
                for name, spec in resolved.features.items()}
    moments = {}
    for task, tgt in resolved.targets.items():
        if tgt.kind == "regression":
            y = train.labels[task]
            y = y.reshape(len(y), -1)
            ok = label_present(y)
            moments[task] = [Moments() for _ in range(y.shape[1])]
            for j, m in enumerate(moments[task]):
                m.update(y[ok, j])
    fitted = fit_from(plan, resolved, features, moments)
    fitted.frame = getattr(plan.dataset, "frame", None)  # an in-memory table: the run keeps it
    return fitted


def fit_from(plan: Plan, resolved: Resolved, features: dict[str, FittedFeature],
             target_moments: dict[str, list[Moments]]) -> FittedSchema:
    """The fitted schema from fitted features and each regression target's per-column
    moments (accumulated in memory, or in one streaming pass: ``mtkit.streaming.stats``);
    updates heads (learned class names) and losses (standardised targets)."""
    if plan.config.train.jit_compile and any(f.is_string for f in features.values()):
        raise ConfigError(f"{plan.source}: field 'train.jit_compile': the model looks categories "
                          "up in string tables, which XLA cannot compile; remove "
                          "train.jit_compile (tables train fast without it).")
    targets = {}
    for task, tgt in resolved.targets.items():
        tp = plan.tasks[task]
        if tgt.kind == "classes" and tgt.labels is not None:
            if getattr(tp.head.params, "labels", None) is None and hasattr(tp.head.params, "labels"):
                tp.head.params.labels = list(tgt.labels)  # learned: decode in the user's terms
            if getattr(tp.head.params, "classes", None) is None and hasattr(tp.head.params,
                                                                            "classes"):
                tp.head.params.classes = len(tgt.labels)
        if tgt.kind == "regression":
            stats = [m.result() for m in target_moments[task]]
            tgt.mean, tgt.std = [s[0] for s in stats], [s[1] for s in stats]
            standardise_loss(tp.loss, tgt.mean, tgt.std)
        targets[task] = tgt
    return FittedSchema(features=features, targets=targets, inferred=resolved.inferred)
