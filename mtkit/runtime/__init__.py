"""The TensorFlow-free runtime: load an exported ``.onnx`` and predict with onnxruntime.

Imports only numpy, onnxruntime and mtkit's light modules (never TensorFlow, Keras,
``mtkit.training`` or ``mtkit.export``), so it can be deployed without them.
"""

from mtkit.runtime.predictor import Predictor

__all__ = ["Predictor"]
