"""Raw tables + schema → checked model inputs and encoded labels (numpy only).

Every check that needs a file, a line and a column happens here, before any split is
carved: absent or duplicate columns, text in a numeric column, non-finite numbers, a
column with no value at all, too many categories, labels outside the declared ones.
Statistics are *not* computed here (they come from the train split, see ``prepare``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mtkit.data import Arrays
from mtkit.errors import DataError
from mtkit.plugin_types import TaskInfo
from mtkit.tabular.infer import infer_type
from mtkit.tabular.readers import RawTable
from mtkit.tabular.schema import STRING_TYPES, FeatureSpec, FittedTarget
from mtkit.tabular.values import MISSING, missing_mask, to_categories, to_numbers


@dataclass
class Resolved:
    """The schema once every ``auto`` type is decided, and the targets' label names."""

    features: dict[str, FeatureSpec]
    targets: dict[str, FittedTarget]
    inferred: bool
    standardise_targets: bool = True
    exclude: list[str] = field(default_factory=list)
    inferred_columns: set[str] = field(default_factory=set)


def _header(table: RawTable) -> str:
    names = list(table.columns)
    return ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")


def resolve_features(train: RawTable, label_columns: list[str],
                     declared: dict[str, FeatureSpec] | None, exclude: list[str]) -> Resolved:
    """Decide each feature column's type (declared, or inferred from the train table)."""
    if declared:
        absent = [c for c in declared if c not in train.columns]
        if absent:
            raise DataError(f"{train.source} has no column {', '.join(map(repr, absent))}, which "
                            f"`features:` declares; its columns are {_header(train)}. Fix the "
                            "name under `features:`, or remove the entry.")
        clash = [c for c in declared if c in label_columns]
        if clash:
            raise DataError(f"{train.source}: column(s) {', '.join(map(repr, clash))} are both a "
                            "task's labels and a declared feature; a label column cannot be an "
                            "input. Remove it from `features:`.")
        specs = dict(declared)
    else:
        specs = {c: FeatureSpec() for c in train.columns
                 if c not in label_columns and c not in exclude}
        if not specs:
            raise DataError(f"{train.source} has no feature columns left (every column is a "
                            "label or excluded); its columns are {_header(train)}.")
    resolved = {}
    for name, spec in specs.items():
        kind = spec.type if spec.type != "auto" else infer_type(train, name)
        resolved[name] = spec.model_copy(update={"type": kind})
    auto = {k for k, s in specs.items() if s.type == "auto"}
    return Resolved(resolved, {}, inferred=bool(auto), exclude=list(exclude),
                    inferred_columns=auto)


def _why(name: str, spec: FeatureSpec, inferred: bool) -> str:
    how = ("was inferred numeric from the train file" if inferred else
           f"is declared {spec.type} (features.{name})")
    return (f"the column {how}. Fix the cell (leave it empty for a missing value), or declare "
            f"the column categorical under `features:`.")


def feature_inputs(table: RawTable, schema: Resolved, is_train: bool) -> dict[str, np.ndarray]:
    """Model inputs ``{column: (N, 1)}``: float32 (NaN = missing) or strings ("" = missing)."""
    absent = [c for c in schema.features if c not in table.columns]
    if absent:
        raise DataError(f"{table.source} has no column {', '.join(map(repr, absent))} (a feature "
                        f"of the train file); its columns are {_header(table)}.")
    out = {}
    for name, spec in schema.features.items():
        raw = table.columns[name]
        miss = missing_mask(raw)
        if is_train and miss.all():
            raise DataError(f"{table.source}: column '{name}' is missing in every row "
                            f"({len(raw)} empty cells), so nothing can be learned from it; drop it "
                            "(data.exclude, or remove it from `features:`) or fill it in.")
        if spec.type in STRING_TYPES:
            cats = to_categories(raw)
            if is_train:
                _check_cardinality(table, name, spec, cats)
            out[name] = cats.reshape(-1, 1)
            continue
        x = to_numbers(raw, name, table.where, _why(name, spec, name in schema.inferred_columns))
        if spec.type == "passthrough" and np.isnan(x).any():
            i = int(np.flatnonzero(np.isnan(x))[0])
            raise DataError(f"{table.where(i)}, column '{name}': the cell is missing, but the column "
                            f"is declared passthrough (fed as is, no imputation); fill it, or "
                            f"declare the column numeric (missing cells get the train mean).")
        out[name] = x.astype(np.float32).reshape(-1, 1)
    return out


def _check_cardinality(table: RawTable, name: str, spec: FeatureSpec, cats: np.ndarray) -> None:
    distinct = np.unique(cats[cats != MISSING])
    if spec.type == "binary" and len(distinct) > 2:
        raise DataError(f"{table.source}: column '{name}' is declared binary but has "
                        f"{len(distinct)} distinct values ({', '.join(map(repr, distinct[:5]))}"
                        f"{', ...' if len(distinct) > 5 else ''}); declare it categorical.")
    if spec.top is None and len(distinct) > spec.max_categories:
        raise DataError(
            f"{table.source}: column '{name}' has {len(distinct)} distinct values, more than its "
            f"limit of {spec.max_categories} (features.{name}.max_categories). For an id-like "
            f"column set `features: {{{name}: {{type: categorical, top: {spec.max_categories}}}}}` "
            "(keep the most frequent values; the rest share the unseen bucket), raise "
            "max_categories, or leave the column out (data.exclude). Feature hashing is not "
            "offered: onnxruntime has no standard operator for it.")


# ------------------------------------------------------------------------------ labels

def _as_index(v: str) -> int | None:
    try:
        f = float(v)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def _label_error(table: RawTable, i: int, column: str, value: str, labels: list[str],
                 task: str) -> DataError:
    return DataError(f"{table.where(i)}, column '{column}': label {value!r} is not one of the "
                     f"declared labels of task '{task}' ({', '.join(map(repr, labels[:10]))}; "
                     f"tasks.{task}.labels). Fix the cell, or add the class to the labels.")


def _class_labels(task: TaskInfo, column: str, tables: list[RawTable]) -> FittedTarget:
    """The class names of a classification or binary task: declared, or learned (sorted)."""
    declared = task.head_params.get("labels")
    positive = task.head_params.get("positive")
    cats = [to_categories(t.columns[column]) for t in tables]
    present = np.unique(np.concatenate([c[c != MISSING] for c in cats]))
    if declared:
        return FittedTarget(task.name, column, "classes", labels=[str(x) for x in declared])
    if all(_as_index(v) is not None for v in present):
        return FittedTarget(task.name, column, "values")  # class indices (or 0/1) as before
    learned = sorted(str(v) for v in present)
    if task.output_type == "binary":
        if positive is not None:
            if str(positive) not in learned:
                raise DataError(f"{tables[0].source}, column '{column}': the positive class "
                                f"{positive!r} of task '{task.name}' (tasks.{task.name}.positive) "
                                f"never occurs; the column holds {', '.join(map(repr, learned[:5]))}.")
            learned = [v for v in learned if v != str(positive)] + [str(positive)]
        if len(learned) > 2:
            raise DataError(f"{tables[0].source}, column '{column}': task '{task.name}' is binary "
                            f"but the column has {len(learned)} distinct labels "
                            f"({', '.join(map(repr, learned[:5]))}); use a classification head.")
    classes = task.head_params.get("classes")
    if classes is not None and len(learned) > int(classes):
        raise DataError(f"{tables[0].source}, column '{column}': task '{task.name}' has "
                        f"{len(learned)} distinct labels ({', '.join(map(repr, learned[:5]))}...) "
                        f"but tasks.{task.name}.classes is {classes}; raise classes or declare "
                        "tasks.<name>.labels.")
    return FittedTarget(task.name, column, "classes", labels=learned, learned=True)


def resolve_targets(tasks: list[TaskInfo], keys: dict[str, str], tables: list[RawTable],
                    standardise: bool) -> dict[str, FittedTarget]:
    for table in tables:
        missing = [f"'{c}' (task {t})" for t, c in keys.items() if c not in table.columns]
        if missing:
            raise DataError(f"{table.source} has no label column {', '.join(missing)}; its "
                            f"columns are {_header(table)}. Set data.labels to map tasks to "
                            "columns.")
    out = {}
    for task in tasks:
        column = keys[task.name]
        if task.output_type in ("categorical", "binary"):
            out[task.name] = _class_labels(task, column, tables)
        elif task.output_type == "regression" and standardise:
            out[task.name] = FittedTarget(task.name, column, "regression")
        else:
            out[task.name] = FittedTarget(task.name, column, "values")
    return out


def label_arrays(table: RawTable, targets: dict[str, FittedTarget]) -> dict[str, np.ndarray]:
    """Labels as float64 (NaN = missing): class indices, 0/1, or values in user units."""
    out = {}
    for task, tgt in targets.items():
        raw = table.columns[tgt.column]
        if tgt.kind == "classes" and tgt.labels is not None:
            cats = to_categories(raw)
            index = {v: i for i, v in enumerate(tgt.labels)}
            y = np.full(len(cats), np.nan)
            for i, v in enumerate(cats):
                if v == MISSING:
                    continue
                if v in index:
                    y[i] = index[v]
                    continue
                k = _as_index(v)
                if k is None or not 0 <= k < len(tgt.labels) or tgt.learned:
                    raise _label_error(table, i, tgt.column, v, tgt.labels, task)
                y[i] = k
            out[task] = y
        else:
            why = (f"it holds the labels of task '{task}', which must be numbers (leave a cell "
                   "empty for a missing label).")
            out[task] = to_numbers(raw, tgt.column, table.where, why)
    return out


def table_arrays(table: RawTable, schema: Resolved, is_train: bool) -> Arrays:
    return Arrays(inputs=feature_inputs(table, schema, is_train),
                  labels=label_arrays(table, schema.targets))


def string_columns(schema: Resolved) -> list[str]:
    return [k for k, s in schema.features.items() if s.type in STRING_TYPES]


def numeric_columns(schema: Resolved) -> set[str]:
    return {k for k, s in schema.features.items() if s.type == "numeric"}

