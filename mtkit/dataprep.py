"""Plan → checked train/val/test arrays: load the dataset, carve splits, validate labels.

Numpy only. Every problem is reported against the dataset plugin and task by name, before
any model is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from mtkit.data import Arrays, Splits, carve, check_arrays, label_present
from mtkit.errors import ConfigError, DataError, MtkitError, PluginError
from mtkit.planning import Plan
from mtkit.plugin_types import Dataset


@dataclass
class InputSpecs:
    """Per-example shape and dtype of every model input, by name."""

    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, str]
    tabular: Any = None  # mtkit.tabular.schema.FittedSchema for a table dataset


def _to_label_dtype(y: np.ndarray, dtype: str, task: str, source: str) -> np.ndarray:
    y = np.asarray(y)
    if y.dtype.kind not in "fiub":
        raise DataError(f"{source}: labels of task '{task}' have dtype {y.dtype}; they must be "
                        "numeric (class indices, 0/1 or values; -1 or NaN for missing).")
    if dtype == "int32":
        finite = y[np.isfinite(y)] if y.dtype.kind == "f" else y
        odd = finite[(finite != np.round(finite)) | (np.abs(finite) >= 2**31)]
        if odd.size:  # would be truncated or wrap around silently in the int32 cast below
            raise DataError(f"{source}: labels of task '{task}' hold values such as "
                            f"{odd.flat[0].item()!r}; this head takes whole class indices "
                            "(-1 or NaN for a missing label).")
        if y.dtype.kind == "f":
            y = np.where(np.isfinite(y), y, -1)
        return y.astype(np.int32)
    return y.astype(np.float32)


def _prepare_split(plan: Plan, arrays: Arrays, split: str, source: str,
                   nan_ok: frozenset[str] = frozenset()) -> Arrays:
    missing = [t for t in plan.tasks if t not in arrays.labels]
    if missing:
        raise DataError(f"{source}: the {split} split has no labels for task(s) "
                        f"{', '.join(missing)}; the dataset must yield one label array per task.")
    check_arrays(arrays, split, source, nan_ok)
    labels = {}
    for name, task in plan.tasks.items():
        y = _to_label_dtype(arrays.labels[name], task.head.label_dtype, name, source)
        want = task.head.label_shape()
        if y.shape[1:] != want and not (want == () and y.shape[1:] == (1,)):
            raise DataError(
                f"{source}: labels of task '{name}' have per-example shape {y.shape[1:]}, but "
                f"head '{task.info.head}' expects {want or 'a scalar'}."
            )
        y = y.reshape((len(y), *want))
        present = label_present(y)
        why = task.head.check_labels(y[present])
        if why:
            raise DataError(f"{source}: task '{name}' ({split} split): {why}.")
        labels[name] = y
    inputs = {k: v if v.dtype == object else np.ascontiguousarray(v)
              for k, v in arrays.inputs.items()}
    return Arrays(inputs=inputs, labels=labels)


INPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_labels_finite(arrays: Arrays, split: str, source: str) -> None:
    """NaN marks a missing label; infinity is a mistake (a value such as 1e400 overflows to
    it), refused with its row as the dataset yields it (before splits are carved)."""
    for task, y in arrays.labels.items():
        y = np.asarray(y)
        if y.dtype.kind == "f" and np.isinf(y).any():
            at = np.argwhere(np.isinf(y))[0]
            col = f", column {int(at[1])}" if y.ndim > 1 else ""
            raise DataError(f"{source}: labels of task '{task}' ({split} data) hold "
                            f"{y[tuple(at)].item()} at row {int(at[0])}{col} (a value such as "
                            "1e400 overflows to infinity); a label must be finite, or NaN (or -1 "
                            "for classes) to mark it missing.")


def _check_inputs(arrays: Arrays, split: str, source: str) -> None:
    """Input names become Keras and ONNX input names; a zero-sized example axis would abort
    the process inside oneDNN (SIGABRT) instead of raising."""
    for k, v in arrays.inputs.items():
        if not INPUT_NAME.fullmatch(str(k)):
            raise DataError(f"{source}: input '{k}' has a name that cannot name a model input "
                            "(ASCII letters, digits and _ only, not starting with a digit); "
                            "rename that array, or list the arrays to use in data.inputs.")
        if np.ndim(v) > 1 and 0 in np.shape(v)[1:]:
            raise DataError(f"{source}: input '{k}' of the {split} split has per-example shape "
                            f"{tuple(np.shape(v)[1:])}, with a zero-length axis: there are no "
                            "features to learn from. Check the data file.")


def has_augment(plan: Plan) -> bool:
    """True when the dataset plugin overrides ``Dataset.augment``."""
    return type(plan.dataset).augment is not Dataset.augment


def missing_labels(plan: Plan, task: str, rows: int) -> np.ndarray:
    """``rows`` missing labels of ``task`` (-1 for class indices, NaN for values)."""
    head = plan.tasks[task].head
    shape = (rows, *head.label_shape())
    if head.label_dtype == "int32":
        return np.full(shape, -1, np.int32)
    return np.full(shape, np.nan, np.float32)


def _keep_labels(plan: Plan, arrays: Arrays, tasks: list[str]) -> Arrays:
    """Labels of ``tasks`` as the dataset gave them; every other task missing."""
    n = len(arrays)
    labels = {t: arrays.labels[t] if t in tasks and t in arrays.labels
              else missing_labels(plan, t, n) for t in plan.tasks}
    return Arrays(inputs=arrays.inputs, labels=labels)


def prepare(plan: Plan, only_tasks: list[str] | None = None) -> tuple[Splits, InputSpecs]:
    """Load, split and validate the plan's data; returns splits and the input specs.

    A task mixture (``data.sources``) prepares each source and joins them
    (``mtkit.mixtures.prepare``); there, ``only_tasks`` are the tasks one source labels,
    and every other task is set missing for its rows. A dataset that streams (Parquet
    shards) gives ``mtkit.streaming.data.StreamSplits`` instead of in-memory splits.
    """
    from mtkit.tabular import prepare as tabular

    if plan.sources and only_tasks is None:
        from mtkit.mixtures.prepare import prepare_mixture

        return prepare_mixture(plan)
    cfg = plan.config
    tabular.bind(plan)
    from mtkit.streaming.prepare import prepare_stream, streams

    if streams(plan):  # shards read in chunks, never all at once (docs/large-data.md)
        return prepare_stream(plan)
    path = getattr(plan.dataset.params, "path", None)
    source = f"dataset '{cfg.data.dataset_name}'" + (f" ({path})" if path else "")
    try:
        splits = plan.dataset.load(plan.task_infos, cfg.train.seed)
    except MtkitError:
        raise
    except Exception as exc:  # a bug in the plugin, or data it did not expect
        detail = (str(exc).strip().splitlines() or [""])[0][:300]
        raise PluginError(
            f"{source}: the dataset plugin failed in load() with {type(exc).__name__}: {detail} "
            f"(plugin code in module '{type(plan.dataset).__module__}'). Check its data.* "
            "parameters and files; if they are right, report it to the plugin's authors "
            "(MTKIT_DEBUG=1 shows the traceback)."
        ) from exc
    if not isinstance(splits, Splits):
        raise DataError(f"{source}: load() returned {type(splits).__name__}, not mtkit.Splits; "
                        "the dataset plugin is broken.")
    if only_tasks is not None:
        splits = Splits(*(_keep_labels(plan, a, only_tasks) if a is not None else None
                          for a in (splits.train, splits.val, splits.test)))
    train, val, test = splits.train, splits.val, splits.test
    for name, part in (("train", train), ("validation", val), ("test", test)):
        if part is not None:
            _check_inputs(part, name, source)
            _check_labels_finite(part, name, source)
    nan_ok = tabular.nan_inputs(plan)  # a table's empty numeric cells: imputed in the model
    check_arrays(train, "train", source, nan_ok)
    if test is None and cfg.train.test_fraction > 0:
        train, test = carve(train, cfg.train.test_fraction, cfg.train.seed + 1)
    if val is None and cfg.train.validation_fraction > 0:
        train, val = carve(train, cfg.train.validation_fraction, cfg.train.seed + 2)
    fitted = tabular.fit(plan, train) if tabular.is_table(plan) else None  # train split only
    out = Splits(
        train=_prepare_split(plan, train, "train", source, nan_ok),
        val=_prepare_split(plan, val, "validation", source, nan_ok) if val is not None else None,
        test=_prepare_split(plan, test, "test", source, nan_ok) if test is not None else None,
    )
    for name in only_tasks if only_tasks is not None else plan.tasks:
        if not label_present(out.train.labels[name]).any():
            raise DataError(f"{source}: task '{name}' has no label at all in the training split "
                            "(every value is missing), so its head cannot learn; label some "
                            "rows or remove the task.")
    # A dataset that augments (e.g. random crops) may store train inputs larger than the
    # model input: then the evaluation splits define the model's input shapes.
    held_out = out.val if out.val is not None else out.test
    ref = held_out if has_augment(plan) and held_out is not None else out.train
    specs = InputSpecs(
        shapes={k: tuple(v.shape[1:]) for k, v in ref.inputs.items()},
        dtypes={k: "float32" if v.dtype.kind == "f" else "string" if v.dtype == object else "int32"
                for k, v in ref.inputs.items()},
        tabular=fitted,
    )
    for split in (out.val, out.test):
        if split is None:
            continue
        for k, v in split.inputs.items():
            if k not in specs.shapes or tuple(v.shape[1:]) != specs.shapes[k]:
                raise DataError(f"{source}: input '{k}' has shape {tuple(v.shape[1:])} outside "
                                f"the training split ({specs.shapes.get(k)}).")
    if cfg.inputs is not None:
        _check_declared(cfg.inputs, specs, plan.source)
    return out, specs


def _check_declared(declared: dict, specs: InputSpecs, source: str) -> None:
    if set(declared) != set(specs.shapes):
        raise ConfigError(f"{source}: field 'inputs': declares {', '.join(sorted(declared))} "
                          f"but the dataset yields {', '.join(sorted(specs.shapes))}; make the "
                          "names match (or remove `inputs:` to take them from the data).")
    for k, spec in declared.items():
        if tuple(spec.shape) != specs.shapes[k]:
            raise ConfigError(f"{source}: field 'inputs.{k}.shape': {list(spec.shape)} does not "
                              f"match the data's per-example shape {list(specs.shapes[k])}.")
