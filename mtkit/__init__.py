"""mtkit: plugin-based multitask deep learning for TensorFlow / Keras 3.

Importing ``mtkit`` is cheap (no TensorFlow, no numpy): every name below is imported on
first use. Plugin authors need only ``mtkit.hookimpl`` and the base classes.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "hookimpl": "mtkit.hookspecs",
    "PLUGIN_API_VERSION": "mtkit.hookspecs",
    "Trunk": "mtkit.plugin_types",
    "Head": "mtkit.plugin_types",
    "Loss": "mtkit.plugin_types",
    "Weighting": "mtkit.plugin_types",
    "Dataset": "mtkit.plugin_types",
    "TaskInfo": "mtkit.plugin_types",
    "Gate": "mtkit.plugin_types",
    "Arrays": "mtkit.data",
    "Splits": "mtkit.data",
    "MtkitError": "mtkit.errors",
    "ConfigError": "mtkit.errors",
    "DataError": "mtkit.errors",
    "PluginError": "mtkit.errors",
    "TrainingError": "mtkit.errors",
    "train": "mtkit.api",
    "build_model": "mtkit.api",
    "plan": "mtkit.api",
    "load_config": "mtkit.config",
    "Predictor": "mtkit.runtime",
    "compare": "mtkit.comparison",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mtkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
