"""``mtkit compare``: does multitask help here, and which weighting? Single-task
baselines and multitask variants on the same data, splits and budget; Δm and a report."""

from mtkit.comparison.runner import CompareResult, compare

__all__ = ["CompareResult", "compare"]
