"""mtkit: plugin-based multitask deep learning for TensorFlow / Keras 3.

Importing ``mtkit`` is cheap (no TensorFlow): the API functions import it when called.
Plugin authors need only ``mtkit.hookimpl`` and the base classes exported here.
"""

from mtkit.data import Arrays, Splits
from mtkit.errors import ConfigError, DataError, MtkitError, PluginError, TrainingError
from mtkit.hookspecs import PLUGIN_API_VERSION, hookimpl
from mtkit.plugin_types import Dataset, Head, Loss, TaskInfo, Trunk, Weighting

__version__ = "0.1.0"

__all__ = [
    "PLUGIN_API_VERSION", "Arrays", "ConfigError", "DataError", "Dataset", "Head", "Loss",
    "MtkitError", "PluginError", "Splits", "TaskInfo", "TrainingError", "Trunk", "Weighting",
    "build_model", "hookimpl", "load_config", "plan", "train", "Predictor",
]


def __getattr__(name: str):
    if name in ("train", "build_model", "plan"):
        from mtkit import api

        return getattr(api, name)
    if name == "load_config":
        from mtkit.config import load_config

        return load_config
    if name == "Predictor":
        from mtkit.runtime import Predictor

        return Predictor
    raise AttributeError(f"module 'mtkit' has no attribute {name!r}")
