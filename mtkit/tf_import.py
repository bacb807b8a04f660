"""Import TensorFlow without its start-up chatter (oneDNN notices, CUDA probing on CPU hosts).

TensorFlow writes these from C++ straight to file descriptor 2, before its logging is set
up, so the only way to keep the CLI's output clean is to point fd 2 elsewhere while it
initialises. Anything written is replayed if the import fails, so no error is hidden.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

_TF: Any = None


def import_tensorflow() -> Any:
    """``import tensorflow`` (once), quietly.

    ``MTKIT_LOGICAL_CPUS=N`` splits the CPU into N logical devices (before TensorFlow
    initialises), so ``mirrored`` can be tried and tested on one CPU.
    """
    global _TF
    if _TF is not None:
        return _TF
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            cpus = tf.config.list_physical_devices("CPU")
            logical = int(os.environ.get("MTKIT_LOGICAL_CPUS", "0") or 0)
            if logical > 1:  # for trying strategies on one CPU (tests, benchmarks)
                tf.config.set_logical_device_configuration(
                    cpus[0], [tf.config.LogicalDeviceConfiguration()] * logical)
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    _TF = tf
    return tf
