"""The TensorFlow-free number reader the runtime calls for models of the multi-digit datasets.

``sequences.sequence_decode_spec`` stores ``"decoder": "mtkit_multidigit.decode:
decode_digit_sequence"`` in run.json and in exported models; ``mtkit.runtime`` imports this
module (numpy only) to add a ``sequence`` entry beside the tasks' own predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def decode_digit_sequence(spec: dict[str, Any], raw: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Number strings from a length head and digit heads (Goodfellow et al. 2013).

    ``n = argmax(length)``; the number is the argmax of the first ``min(n, K)`` digit
    heads; ``n == overflow_class`` means more than K digits (marked by a trailing ``+``).
    ``probability`` is the product of the chosen classes' probabilities: the model's
    confidence in the whole transcription, for thresholding by coverage.
    """
    length = raw[spec["length"]].reshape(len(raw[spec["length"]]), -1)
    digits = [raw[d].reshape(len(raw[d]), -1) for d in spec["digits"]]
    overflow = spec.get("overflow_class")
    n = np.argmax(length, axis=1)
    out = []
    for row, count in enumerate(n):
        used = digits[: min(int(count), len(digits))]
        picks = [int(np.argmax(d[row])) for d in used]
        prob = float(length[row, count]) * float(np.prod([d[row, p] for d, p in zip(used, picks,
                                                                                   strict=True)]))
        over = overflow is not None and int(count) == int(overflow)
        out.append({"number": "".join(map(str, picks)) + ("+" if over else ""),
                    "length": int(count), "overflow": over, "probability": prob})
    return out
