"""The six-head layout of Goodfellow et al. (2013), shared by both datasets (numpy only).

A number of up to ``K`` digits is described by a ``length`` task (class = number of digits,
with one extra class meaning "more than K", the paper's ">5") and digit tasks
``digit1`` … ``digitK`` (10 classes). A digit position beyond the number's length has no
label (-1): it is masked out of that head's loss, not trained as an 11th "blank" class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mtkit.errors import ConfigError
from mtkit.plugin_types import TaskInfo

LENGTH_TASK = "length"
DIGIT_PREFIX = "digit"
MAX_DIGIT_HEADS = 5
DIGIT_CLASSES = 10


def digit_task(position: int) -> str:
    """Task name of the digit at 1-based ``position``."""
    return f"{DIGIT_PREFIX}{position}"


def check_tasks(tasks: list[TaskInfo], max_digits: int | None, dataset: str) -> int:
    """Validate the configured tasks against the layout; return the number of digit heads.

    ``max_digits`` is the longest number the data holds (None: whatever the data holds,
    longer numbers fall into the length head's overflow class). Raises ConfigError naming
    the field to fix when a task is unknown, missing, has the wrong number of classes, or
    when ``data.max_digits`` does not match the digit heads.
    """
    names = [t.name for t in tasks]
    by_name = {t.name: t for t in tasks}
    digit_names = [n for n in names if n.startswith(DIGIT_PREFIX) and n[len(DIGIT_PREFIX):].isdigit()]
    unknown = [n for n in names if n != LENGTH_TASK and n not in digit_names]
    layout = (f"dataset '{dataset}' labels the tasks '{LENGTH_TASK}' (classification, 7 classes: "
              f"0-5 digits and '>5') and '{digit_task(1)}'..'{digit_task(MAX_DIGIT_HEADS)}' "
              "(classification, 10 classes); see configs/multidigit.yaml")
    if unknown:
        raise ConfigError(f"field 'tasks': {layout}; it has no label for task(s) "
                          f"{', '.join(map(repr, unknown))}. Remove or rename them.")
    if LENGTH_TASK not in by_name:
        raise ConfigError(f"field 'tasks': {layout}; add the task '{LENGTH_TASK}'.")
    heads = len(digit_names)
    expected = [digit_task(i) for i in range(1, heads + 1)]
    if sorted(digit_names) != sorted(expected) or heads > MAX_DIGIT_HEADS:
        raise ConfigError(f"field 'tasks': digit tasks must be {digit_task(1)}..digitK with K <= "
                          f"{MAX_DIGIT_HEADS}, numbered without gaps; the config has "
                          f"{', '.join(sorted(digit_names)) or 'none'}.")
    if heads == 0:
        raise ConfigError(f"field 'tasks': {layout}; add at least the task '{digit_task(1)}'.")
    if max_digits is not None and max_digits > heads:
        have = f"{digit_task(1)}..{digit_task(heads)}" if heads else "no digit heads"
        raise ConfigError(
            f"field 'data.max_digits': {max_digits} is more than the digit heads support "
            f"(the config has {have}); lower data.max_digits to {heads} or add tasks up to "
            f"{digit_task(max_digits)}.")
    for name in [LENGTH_TASK, *expected]:
        t = by_name[name]
        if t.output_type != "categorical":
            raise ConfigError(f"field 'tasks.{name}.head': task '{name}' needs a categorical "
                              f"head such as 'classification'; '{t.head}' outputs {t.output_type}.")
    for name in expected:
        classes = by_name[name].head_params.get("classes")
        if classes != DIGIT_CLASSES:
            raise ConfigError(f"field 'tasks.{name}.classes': digit heads have {DIGIT_CLASSES} "
                              f"classes (0-9); got {classes}.")
    # Real data may hold longer numbers than there are heads: they need the ">K" class.
    need = heads + 2 if max_digits is None else max_digits + 1
    why = (f"0..{heads} digits and '>{heads}'" if max_digits is None
           else f"0..{max_digits} digits")
    length_classes = by_name[LENGTH_TASK].head_params.get("classes")
    if not isinstance(length_classes, int) or length_classes < need:
        raise ConfigError(
            f"field 'tasks.{LENGTH_TASK}.classes': the length head needs at least {need} classes "
            f"({why}); got {length_classes}.")
    return heads


def length_classes(tasks: list[TaskInfo]) -> int:
    """Number of classes of the configured length head."""
    return int(next(t for t in tasks if t.name == LENGTH_TASK).head_params["classes"])


def sequence_labels(numbers: list[list[int]], heads: int, n_length_classes: int) -> dict[str, np.ndarray]:
    """Labels of each task for a list of digit lists (-1 where a position is absent).

    A number longer than ``heads`` gets the overflow length class ``heads + 1`` when the
    length head has one (the paper's ">5"); its first ``heads`` digits stay labelled.
    """
    n = len(numbers)
    length = np.empty(n, dtype=np.int32)
    digits = np.full((heads, n), -1, dtype=np.int32)
    for row, number in enumerate(numbers):
        length[row] = min(len(number), heads + 1, n_length_classes - 1)
        for pos, d in enumerate(number[:heads]):
            digits[pos, row] = d
    out = {LENGTH_TASK: length}
    out.update({digit_task(i + 1): digits[i] for i in range(heads)})
    return out


def digit_tasks_in(labels: dict[str, Any]) -> list[str]:
    """The digit task names present in ``labels``, in position order."""
    out = []
    while digit_task(len(out) + 1) in labels:
        out.append(digit_task(len(out) + 1))
    return out


def sequence_metrics(labels: dict[str, np.ndarray], predictions: dict[str, np.ndarray]) -> dict[str, float]:
    """Whole-number metrics over rows with a length label.

    ``sequence_accuracy``: the predicted length is right and every digit up to the true
    length is right (the paper's transcription accuracy). ``per_digit_accuracy``: over
    all labelled digit positions. ``length_accuracy``: the length head alone.
    """
    if LENGTH_TASK not in labels or LENGTH_TASK not in predictions:
        return {}
    digits = digit_tasks_in(labels)
    y_len = np.asarray(labels[LENGTH_TASK]).reshape(-1)
    rows = y_len >= 0
    if not rows.any():
        return {}
    length_ok = np.argmax(predictions[LENGTH_TASK], axis=-1) == y_len
    all_ok = length_ok.copy()
    hits = total = 0
    for name in digits:
        y = np.asarray(labels[name]).reshape(-1)
        present = y >= 0
        right = np.argmax(predictions[name], axis=-1) == y
        all_ok &= right | ~present
        hits += int((right & present & rows).sum())
        total += int((present & rows).sum())
    return {
        "sequence_accuracy": float(all_ok[rows].mean()),
        "per_digit_accuracy": float(hits / total) if total else float("nan"),
        "length_accuracy": float(length_ok[rows].mean()),
        "sequences": int(rows.sum()),
    }


def sequence_decode_spec(heads: int, n_length_classes: int) -> dict[str, Any]:
    """How a runtime turns the six heads into a number string (stored in run.json / ONNX).

    Take ``n = argmax(length)``; the number is the argmax of ``digits[0..min(n, K)-1]``
    joined as a string; ``n == overflow_class`` (if not null) means more than K digits.
    """
    return {
        "type": "digit_sequence",
        "name": "sequence",
        "decoder": "mtkit_multidigit.decode:decode_digit_sequence",
        "length": LENGTH_TASK,
        "digits": [digit_task(i) for i in range(1, heads + 1)],
        "overflow_class": heads + 1 if n_length_classes > heads + 1 else None,
    }


def decode_numbers(spec: dict[str, Any], outputs: dict[str, np.ndarray]) -> list[str]:
    """Numpy reference decoder for :func:`sequence_decode_spec` (a ``+`` marks overflow)."""
    lengths = np.argmax(outputs[spec["length"]], axis=-1)
    digits = [np.argmax(outputs[d], axis=-1) for d in spec["digits"]]
    out = []
    for row, n in enumerate(lengths):
        text = "".join(str(int(d[row])) for d in digits[: min(int(n), len(digits))])
        out.append(text + ("+" if spec.get("overflow_class") is not None
                           and int(n) == spec["overflow_class"] else ""))
    return out
