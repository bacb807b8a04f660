"""Typer command functions registered by ``mtkit.cli`` (one module per command).

Modules here import only typer and the standard library at import time, so ``mtkit
--help`` stays fast; each command imports what it needs (TensorFlow, onnxruntime) inside.
"""
