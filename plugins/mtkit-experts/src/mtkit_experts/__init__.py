"""mtkit-experts: gated multitask trunks (MMoE, OMoE, CGC, PLE, cross-stitch) for mtkit.

Each trunk module is its own ``mtkit`` entry point (see pyproject.toml), so mtkit finds them
like any third-party plugin; nothing here imports TensorFlow at import time.
"""

__version__ = "0.1.0"
