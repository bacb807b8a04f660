"""The TensorFlow-free runtime: load an exported ``.onnx`` and predict with onnxruntime.

Imports only numpy, onnxruntime and mtkit's light modules (never TensorFlow, Keras,
``mtkit.training`` or ``mtkit.export``), so it can be deployed without them. It is the
lower layer: the exporter opens its check sessions and writes its metadata through it.
"""

from mtkit.runtime.predictor import Predictor
from mtkit.runtime.session import SessionConfig

__all__ = ["Predictor", "SessionConfig"]
