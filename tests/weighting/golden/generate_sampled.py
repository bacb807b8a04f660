"""Run LibMTL's MoDo and SDMGrad once and store their outputs as golden fixtures
(``reference_sampled.json``).

Not a test and not run by ``make test`` (it needs torch). Run once in a throw-away venv::

    python3.11 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    # (run with torch 2.13.0+cpu, numpy 2.4.6; LibMTL at median-research-group/LibMTL@4336804
    #  extracted to /tmp/libmtl)
    /tmp/torchenv/bin/python tests/weighting/golden/generate_sampled.py /tmp/libmtl

Both methods take three independent samples of the task losses per step (LibMTL's
trainer stacks three batches' losses, shape ``[3, T]``). They are hosted as in
``generate.py``: one shared parameter ``theta = 0`` of size P and, for sample ``s``, task
losses ``L_st + G_st . theta``, so autograd yields exactly the chosen per-sample task
gradients; the update is ``theta.grad``. Each case is a sequence of steps, since both
keep their weights across steps (MoDo's ``lambd``, SDMGrad's ``w``), and the state after
each step is stored too. The classes run unmodified, under a subclass named like
LibMTL's model class (``class MTLmodel(arch, weighting)``), because their gradient loop
keeps the graph only when the weighting is a base class of the model. One shim: SDMGrad
calls ``np.alltrue``, removed in NumPy 2, aliased here to ``np.all``. Everything runs in
float64.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from generate import P, cases, host, load_libmtl  # noqa: E402  (run from this folder)

SAMPLES = 3
STEPS = 3
SETTINGS = {
    "MoDo": [{"MoDo_gamma": 0.001, "MoDo_rho": 0.1}, {"MoDo_gamma": 0.2, "MoDo_rho": 0.1}],
    "SDMGrad": [{"SDMGrad_lamda": 0.3, "SDMGrad_niter": 20},
                {"SDMGrad_lamda": 0.0, "SDMGrad_niter": 5}],
}


def sampled_cases() -> dict[str, dict]:
    """Per case, ``STEPS`` steps of ``SAMPLES`` noisy copies of ``generate.cases()``'s
    gradients (conflicting, spread norms, a zero and a tiny gradient, 2-6 tasks): the
    noise scales with each task's norm, so a zero task stays exactly zero in every sample.
    ``zero3`` and ``tiny3`` draw the same noise, so they differ only in the one gradient."""
    out = {}
    for i, (name, c) in enumerate(cases().items()):
        rng = np.random.default_rng(23 + (list(cases()).index("zero3") if name == "tiny3" else i))
        G, L = np.asarray(c["G"]), np.asarray(c["L"])
        norm = np.linalg.norm(G, axis=1, keepdims=True)
        steps = []
        for k in range(STEPS):
            drift = G * (1.0 - 0.1 * k)
            samples = drift[None] + 0.4 * rng.normal(size=(SAMPLES, *G.shape)) * norm[None] / np.sqrt(P)
            losses = L[None] * rng.uniform(0.8, 1.2, size=(SAMPLES, len(L)))
            steps.append({"G": samples.tolist(), "L": losses.tolist()})
        out[name] = {"steps": steps}
    return out


def run(libmtl_root: str) -> dict:
    import torch

    torch.set_default_dtype(torch.float64)
    if not hasattr(np, "alltrue"):
        np.alltrue = np.all
    mod = load_libmtl(libmtl_root)
    data = {"P": P, "samples": SAMPLES, "cases": sampled_cases(), "settings": SETTINGS,
            "results": {}}
    for method, settings in SETTINGS.items():
        cls = getattr(mod(method), method)
        model_cls = type("MTLmodel", (cls,), {})
        for si, kw in enumerate(settings):
            for name, case in data["cases"].items():
                T = len(case["steps"][0]["L"][0])
                m = host(model_cls, T)
                m.decoders = {}
                theta = m.encoder.theta
                rows = []
                for step in case["steps"]:
                    G, L = torch.tensor(step["G"]), torch.tensor(step["L"])
                    theta.grad = None
                    losses = torch.stack([torch.stack([G[s, t] @ theta + L[s, t] for t in range(T)])
                                          for s in range(SAMPLES)])
                    m.backward(losses, **kw)
                    state = m.lambd if method == "MoDo" else m.w
                    rows.append({"d": theta.grad.detach().numpy().tolist(),
                                 "state": state.detach().numpy().tolist()})
                data["results"][f"{method}/{si}/{name}"] = rows
    return data


def main() -> None:
    data = run(sys.argv[1])
    path = Path(__file__).with_name("reference_sampled.json")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
