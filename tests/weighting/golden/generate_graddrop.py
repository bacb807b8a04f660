"""Run LibMTL's GradDrop once and store its outputs as golden fixtures (``graddrop.json``).

Not a test and not run by ``make test`` (it needs torch). Run once in a throw-away venv::

    python3.11 -m venv /tmp/refenv && /tmp/refenv/bin/pip install torch numpy
    # (run with torch 2.14.1, numpy 2.4.6; LibMTL at median-research-group/LibMTL@4336804
    #  extracted to /tmp/libmtl)
    /tmp/refenv/bin/python tests/weighting/golden/generate_graddrop.py /tmp/libmtl

GradDrop works on representation gradients only (``rep_grad=True``), so the host differs
from ``generate.py``'s: the representation is ``rep = A + w`` with ``A`` fixed features
and ``w = 0`` the "encoder" parameter, so ``w.grad`` is exactly the gradient GradDrop
back-propagates into the representation; task ``t``'s loss is ``L_t + Σ rep_t · ∇_t``
on LibMTL's detached per-task copy ``rep_t``, so its representation gradient is exactly
the chosen ``∇_t``. The draw ``U`` (``torch.rand_like``) is replaced by recorded values,
which the test replays. Everything runs in float64, and the class runs unmodified.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from generate import load_libmtl  # noqa: E402  (run from this folder's parent on sys.path)


def cases() -> dict[str, dict]:
    """Conflicting signs, spread norms, an absent (zero) task, 2-5 tasks, 2-D features."""
    rng = np.random.default_rng(31)
    out = {}
    for label, T, shape, leak in (("t2", 2, (4, 3), 0.0), ("t3_leak", 3, (5, 4), 0.3),
                                  ("t5", 5, (3, 6), 0.0), ("t3_zero", 3, (4, 3), 0.0)):
        grads = rng.normal(size=(T, *shape)) * np.exp(rng.uniform(-2, 2, size=(T, 1, 1)))
        if label == "t3_zero":
            grads[1] = 0.0
        feats = rng.normal(size=shape)
        feats[0, 0] = 0.0  # sign(0) = 0: this row's feature 0 adds nothing to the purity
        uniform = rng.uniform(size=shape[1:])
        out[label] = {"grads": grads.tolist(), "features": feats.tolist(),
                      "uniform": uniform.tolist(), "leak": leak}
    return out


def run(libmtl_root: str) -> dict:
    import torch

    torch.set_default_dtype(torch.float64)
    mod = load_libmtl(libmtl_root)
    GradDrop = mod("GradDrop").GradDrop
    out = {"cases": cases(), "results": {}}
    for label, c in out["cases"].items():
        grads, feats = np.asarray(c["grads"]), np.asarray(c["features"])
        T = len(grads)
        m = GradDrop()
        m.task_num, m.device, m.rep_grad = T, "cpu", True
        m.task_name = [f"t{i}" for i in range(T)]
        w = torch.zeros(feats.shape, requires_grad=True)
        m.rep = torch.tensor(feats) + w
        m.rep_tasks = {t: m.rep.detach().clone().requires_grad_(True) for t in m.task_name}
        losses = [1.0 + (m.rep_tasks[t] * torch.tensor(grads[i])).sum()
                  for i, t in enumerate(m.task_name)]
        recorded = torch.tensor(c["uniform"])
        original = torch.rand_like
        torch.rand_like = lambda p, u=recorded, **kw: u.clone()
        try:
            m.backward(losses, leak=c["leak"])
        finally:
            torch.rand_like = original
        out["results"][label] = {"d": w.grad.detach().numpy().tolist()}
    return out


def main() -> None:
    data = run(sys.argv[1])
    path = Path(__file__).with_name("graddrop.json")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
