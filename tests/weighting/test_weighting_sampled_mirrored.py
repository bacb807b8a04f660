"""MoDo under MirroredStrategy on 2 logical CPU devices gives the one-device result.

The same check as ``test_weighting_mirrored.py`` (its script, in a fresh process), for the
sampled step: every epoch ends with a batch of 9 rows split 5/4 over the replicas, so the
interleaved samples (rows ``i::3`` of the *global* batch) only agree with one device if
each replica numbers its rows from its offset in the global batch. SDMGrad runs the same
step (only its combination differs, golden-tested on its own), so MoDo stands for both.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.weighting.test_weighting_mirrored import SCRIPT

pytest.importorskip("tensorflow")

METHODS = [{"type": "modo", "gamma": 0.2}]


def test_sampled_methods_mirrored_match_single_device():
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(METHODS)],
                          capture_output=True, text=True, timeout=600)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(line[0][len("RESULT "):])
    assert len(result) == len(METHODS)
    for method, runs in result.items():
        assert runs["mirrored"]["replicas"] == 2 and runs["none"]["replicas"] == 1, method
        for part in ("weights", "state"):
            single, mirrored = runs["none"][part], runs["mirrored"][part]
            assert len(single) == len(mirrored)
            for a, b in zip(single, mirrored, strict=True):
                np.testing.assert_allclose(b, a, rtol=1e-4, atol=2e-5, err_msg=f"{method} {part}")
        # the weights moved away from their start 1/T: the samples' gradients reached them
        assert not np.allclose(runs["none"]["state"][0], 1 / 3), method
