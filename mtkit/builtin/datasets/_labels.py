"""Helpers shared by the file-based built-in datasets."""

from __future__ import annotations

from mtkit.plugin_types import TaskInfo


def label_keys(tasks: list[TaskInfo], mapping: dict[str, str] | None) -> dict[str, str]:
    """Task name → array/column name (default: the task's own name)."""
    mapping = mapping or {}
    return {t.name: mapping.get(t.name, t.name) for t in tasks}
