"""Keras layers of the in-model preprocessing (one per file), registered for safe loading.

Importing this package registers them with Keras (package ``mtkit``), which
``keras.saving.load_model`` needs to read a tabular ``model.keras``.
"""

from mtkit.tabular.layers.numeric_encode import NumericEncode
from mtkit.tabular.layers.one_hot import CategoryOneHot

__all__ = ["CategoryOneHot", "NumericEncode"]
