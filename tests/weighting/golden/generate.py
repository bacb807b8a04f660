"""Run the reference implementations once and store their outputs as golden fixtures.

Not a test and not run by ``make test`` (it needs torch, cvxpy, ecos, scipy, qpsolvers
and quadprog, which mtkit does not depend on). It was run once in a throw-away venv::

    python3.11 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch numpy scipy cvxpy ecos qpsolvers quadprog
    # (run with torch 2.14.1, cvxpy 1.9.3, ecos 2.0.14, scipy 1.17.1, qpsolvers 4.13.0,
    #  quadprog 0.1.14, numpy 2.4.6)
    # LibMTL at median-research-group/LibMTL@4336804 extracted to /tmp/libmtl,
    # Sener & Koltun at isl-org/MultiObjectiveOptimization@bf5bbb3 extracted to /tmp/mgda
    /tmp/refenv/bin/python tests/weighting/golden/generate.py /tmp/libmtl /tmp/mgda

and wrote ``tests/weighting/golden/reference.json``. The reference classes run
unmodified: each is hosted on a fake "model" whose only shared parameter is a vector
``theta = 0`` of size P, with task losses ``L_t(theta) = L_t + g_t . theta``, so autograd
yields exactly the chosen task gradients ``g_t`` and loss values ``L_t``; the
reference's update is then ``theta.grad`` (what its optimiser would apply). Everything
runs in float64 (``torch.set_default_dtype``) so the fixtures are the references' math,
not float32 noise. Random choices (PCGrad's and GradVac's task orders) are recorded and
replayed by the tests; RLW's draw is recorded with its weights.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import types
from pathlib import Path

import numpy as np

P = 7  # parameters; the tests split them into variables of shapes (2, 2) and (3,)


def cases() -> dict[str, dict]:
    """Named gradient inputs: conflicting, spread norms, a zero and a tiny gradient, 2-6 tasks."""
    rng = np.random.default_rng(20)
    out = {}
    g1 = np.array([1.0, 0.5, -0.2, 0.3, 0.7, 0.0, 0.1])
    g2 = np.array([-0.8, 0.4, 0.6, -0.1, 0.2, 0.3, -0.5])
    out["conflict2"] = {"G": np.stack([g1, g2]), "L": np.array([0.9, 2.3])}
    base = rng.normal(size=(3, P))
    out["spread3"] = {"G": base * np.array([[0.01], [1.0], [100.0]]),
                      "L": np.array([0.05, 1.2, 30.0])}
    z = rng.normal(size=(3, P))
    zero = z.copy()
    zero[2] = 0.0
    out["zero3"] = {"G": zero, "L": np.array([1.0, 0.7, 0.2])}
    tiny = z.copy()
    tiny[2] = z[2] * 1e-6 / np.linalg.norm(z[2])
    out["tiny3"] = {"G": tiny, "L": np.array([1.0, 0.7, 0.2])}
    g4 = rng.normal(size=(4, P)) * rng.uniform(0.2, 5.0, size=(4, 1))
    out["random4"] = {"G": g4, "L": rng.uniform(0.1, 3.0, size=4)}
    g6 = rng.normal(size=(6, P)) * np.exp(rng.uniform(-2, 2, size=(6, 1)))
    g6[5] = -0.8 * g6[0] + 0.1 * rng.normal(size=P)  # a strongly conflicting pair
    out["random6"] = {"G": g6, "L": rng.uniform(0.1, 3.0, size=6)}
    return out


def sequence(T: int, steps: int = 4, seed: int = 7) -> list[dict]:
    """Gradients and losses of consecutive steps, for methods with state across steps."""
    rng = np.random.default_rng(seed + T)
    scale = np.exp(rng.uniform(-1.5, 1.5, size=(T, 1)))
    drift = rng.normal(size=(T, P)) * scale
    seq = []
    losses = rng.uniform(0.5, 3.0, size=T)
    for _ in range(steps):
        seq.append({"G": drift + 0.5 * rng.normal(size=(T, P)) * scale, "L": losses.copy()})
        losses = losses * rng.uniform(0.7, 1.0, size=T)
    return seq


# ------------------------------------------------------------------ hosting the references

def load_libmtl(root: str):
    """Import LibMTL's weighting modules without running its package ``__init__``s."""
    pkg = types.ModuleType("LibMTL")
    pkg.__path__ = [str(Path(root) / "LibMTL")]
    sub = types.ModuleType("LibMTL.weighting")
    sub.__path__ = [str(Path(root) / "LibMTL" / "weighting")]
    sys.modules["LibMTL"], sys.modules["LibMTL.weighting"] = pkg, sub
    return lambda name: importlib.import_module(f"LibMTL.weighting.{name}")


def host(cls, T: int, epoch: int = 0, loss_buffer=None):
    """A reference weighting object on a fake model with one shared parameter vector."""
    import torch
    from torch import nn

    m = cls()
    m.task_num, m.device, m.rep_grad, m.epoch = T, "cpu", False, epoch
    m.task_name = [f"t{i}" for i in range(T)]
    enc = nn.Module()
    enc.theta = nn.Parameter(torch.zeros(P))
    m.encoder = enc
    m.get_share_params = lambda: enc.parameters()
    m.zero_grad_share_params = lambda: enc.zero_grad(set_to_none=False)
    m.train_loss_buffer = loss_buffer
    m.init_param()
    return m


def step(m, G, L, **kw):
    """One reference ``backward``; returns (the shared update theta.grad, the returned weights)."""
    import torch

    theta = m.encoder.theta
    theta.grad = None
    dtype = torch.get_default_dtype()
    Gt, Lt = torch.tensor(G, dtype=dtype), torch.tensor(L, dtype=dtype)
    losses = torch.stack([Gt[t] @ theta + Lt[t] for t in range(len(L))])
    w = m.backward(losses, **kw)
    d = theta.grad.detach().clone().double().numpy()
    w = None if w is None else np.asarray(w, dtype=np.float64).tolist()
    return d.tolist(), w


class Orders:
    """Replace ``random.shuffle`` by a seeded permutation and record every order drawn."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.drawn: list[list[int]] = []

    def shuffle(self, x):
        perm = self.rng.permutation(len(x))
        x[:] = [x[i] for i in perm]
        self.drawn.append(list(map(int, x)))


def run_all(libmtl_root: str, mgda_root: str) -> dict:
    import torch

    torch.set_default_dtype(torch.float64)
    # torch.symeig (ascending eigenvalues, eigenvectors in columns) was removed in torch
    # 1.9; Aligned-MTL calls it, and torch.linalg.eigh is the same decomposition.
    torch.symeig = lambda m, eigenvectors=True: torch.linalg.eigh(m)
    mod = load_libmtl(libmtl_root)
    out: dict = {"P": P, "cases": {}, "sequences": {}, "results": {}}
    cs = cases()
    for k, c in cs.items():
        out["cases"][k] = {"G": c["G"].tolist(), "L": c["L"].tolist()}
    seqs = {f"seq{T}": sequence(T) for T in (2, 3, 5)}
    for k, s in seqs.items():
        out["sequences"][k] = [{"G": x["G"].tolist(), "L": x["L"].tolist()} for x in s]
    res = out["results"]

    def per_case(label, cls, kw, only=None, epoch=0, buffer=None):
        res[label] = {}
        for k, c in cs.items():
            if only and k not in only:
                continue
            T = len(c["L"])
            try:
                buf = buffer(c["L"]) if buffer else None
                d, w = step(host(cls, T, epoch, buf), c["G"], c["L"], **kw)
                res[label][k] = {"d": d, "w": w}
            except Exception as exc:  # the reference fails on this input: record why
                res[label][k] = {"error": f"{type(exc).__name__}: {exc}"}

    def per_sequence(label, cls, kw, post=None, epochs=None):
        res[label] = {}
        for k, s in seqs.items():
            T = len(s[0]["L"])
            m = host(cls, T)
            rows = []
            for i, x in enumerate(s):
                if epochs is not None:
                    m.epoch = epochs[i]
                d, w = step(m, x["G"], x["L"], **kw)
                rows.append({"d": d, "w": w})
                if post is not None and i + 1 < len(s):
                    post(m, s[i + 1])
            res[label][k] = rows

    ew = mod("EW").EW
    per_case("EW", ew, {})
    for gn in ("none", "l2", "loss", "loss+"):
        per_case(f"MGDA/{gn}", mod("MGDA").MGDA, {"mgda_gn": gn})
    per_case("CAGrad", mod("CAGrad").CAGrad, {"calpha": 0.4, "rescale": 1})
    per_case("IMTL", mod("IMTL").IMTL, {})
    # Aligned-MTL's rank cut-off is ``max(l) * T * torch.finfo().eps``: the eps of the
    # default dtype, float32 in LibMTL's normal use (and mtkit's gradients are float32), so
    # it runs in float32 here; in float64 it would keep directions float32 cannot resolve.
    torch.set_default_dtype(torch.float32)
    per_case("Aligned_MTL", mod("Aligned_MTL").Aligned_MTL, {})
    torch.set_default_dtype(torch.float64)
    per_case("GLS", mod("GLS").GLS, {})
    per_case("UW", mod("UW").UW, {})
    per_case("UPGrad", mod("UPGrad").UPGrad, {"UPGrad_norm_eps": 1e-4, "UPGrad_reg_eps": 1e-4})
    per_case("FairGrad/1", mod("FairGrad").FairGrad, {"FairGrad_alpha": 1.0})
    per_case("FairGrad/2", mod("FairGrad").FairGrad, {"FairGrad_alpha": 2.0})
    # Nash-MTL: the authors' defaults (max_norm 1) and, to judge the solve itself, an
    # unclipped run with many solver iterations.
    per_case("Nash_MTL", mod("Nash_MTL").Nash_MTL,
             {"update_weights_every": 1, "optim_niter": 20, "max_norm": 1.0})
    per_case("Nash_MTL/noclip", mod("Nash_MTL").Nash_MTL,
             {"update_weights_every": 1, "optim_niter": 200, "max_norm": 0.0})
    # GradNorm from epoch 1 with L(0) = the current losses: the first step's update.
    per_case("GradNorm", mod("GradNorm").GradNorm, {"alpha": 1.5}, epoch=1,
             buffer=lambda L: np.stack([L, L], axis=1))
    # DWA at epoch 2 with a known two-epoch history.
    per_case("DWA", mod("DWA").DWA, {"T": 2.0}, epoch=2,
             buffer=lambda L: np.stack([np.linspace(1.0, 2.0, len(L)),
                                        np.linspace(0.9, 1.1, len(L)), np.zeros(len(L))], axis=1))

    # Random task orders, recorded for replay.
    for label, cls, kw in (("PCGrad", mod("PCGrad").PCGrad, {}),):
        res[label] = {}
        for k, c in cs.items():
            rec = Orders(len(c["L"]))
            old, random.shuffle = random.shuffle, rec.shuffle
            try:
                d, w = step(host(cls, len(c["L"])), c["G"], c["L"], **kw)
            finally:
                random.shuffle = old
            res[label][k] = {"d": d, "w": w, "orders": rec.drawn}
    # RLW: the draw and the update.
    res["RLW"] = {}
    for k, c in cs.items():
        torch.manual_seed(3)
        eps = torch.randn(len(c["L"])).tolist()
        torch.manual_seed(3)
        d, w = step(host(mod("RLW").RLW, len(c["L"])), c["G"], c["L"])
        res["RLW"][k] = {"d": d, "w": w, "eps": eps}

    # Stateful methods over step sequences.
    for label, cls, kw in (
        ("GradVac", mod("GradVac").GradVac, {"GradVac_beta": 0.5, "GradVac_group_type": 0}),
    ):
        res[label] = {}
        for k, s in seqs.items():
            T = len(s[0]["L"])
            m = host(cls, T)
            rows = []
            for x in s:
                rec = Orders(T + 100 * len(rows))
                old, random.shuffle = random.shuffle, rec.shuffle
                try:
                    d, w = step(m, x["G"], x["L"], **kw)
                finally:
                    random.shuffle = old
                rows.append({"d": d, "w": w, "orders": rec.drawn})
            res[label][k] = rows
    per_sequence("MoCo", mod("MoCo").MoCo, {"MoCo_beta": 0.5, "MoCo_beta_sigma": 0.5,
                                             "MoCo_gamma": 0.1, "MoCo_gamma_sigma": 0.5,
                                             "MoCo_rho": 0.0})
    per_sequence("DB_MTL", mod("DB_MTL").DB_MTL, {"DB_beta": 0.9, "DB_beta_sigma": 0.0})
    per_sequence("DB_MTL/decay", mod("DB_MTL").DB_MTL, {"DB_beta": 0.9, "DB_beta_sigma": 0.5})
    per_sequence("ExcessMTL", mod("ExcessMTL").ExcessMTL, {"robust_step_size": 1e-2})
    per_sequence("ExcessMTL/fast", mod("ExcessMTL").ExcessMTL, {"robust_step_size": 0.5})
    # STCH with warmup 1: epoch 0 plain log-sum, epoch 1 (warmup) averages the losses,
    # epoch 2 on uses the smooth Tchebycheff objective with that nadir point.
    per_sequence("STCH", mod("STCH").STCH, {"STCH_mu": 1.0, "STCH_warmup_epoch": 1},
                 epochs=[0, 1, 1, 2])
    per_sequence("STCH/mu", mod("STCH").STCH, {"STCH_mu": 0.3, "STCH_warmup_epoch": 0},
                 epochs=[0, 1, 1, 2])

    # FAMO: after each step the reference updates its logits with the post-step losses;
    # mtkit takes the next step's losses as those, so the sequence feeds exactly them.
    def famo_post(m, nxt):
        import torch as _t
        m.update_w(_t.tensor(nxt["L"]))

    per_sequence("FAMO", mod("FAMO").FAMO, {"FAMO_w_lr": 0.025, "FAMO_w_gamma": 1e-3},
                 post=famo_post)
    per_sequence("FAMO/fast", mod("FAMO").FAMO, {"FAMO_w_lr": 0.5, "FAMO_w_gamma": 1e-3},
                 post=famo_post)

    # Sener & Koltun's own MGDA-UB: normalisers and min-norm weights on representation
    # gradients (rows x features, flattened), then the weights scale the raw losses.
    sys.path.insert(0, str(Path(mgda_root) / "multi_task"))
    import min_norm_solvers  # noqa: E402
    from min_norm_solvers import MinNormSolver, gradient_normalizers  # noqa: E402

    class _Float(float):  # the 2018 code reads dot products as ``x.sum().data.cpu()``
        @property
        def data(self):
            return self

        def cpu(self):
            return float(self)

    class _Product:
        def __init__(self, value):
            self.value = value

        def sum(self):
            return _Float(np.sum(self.value))

    # Newer torch returns 0-d tensors there, which numpy then rejects; a float shim keeps
    # the solver's own arithmetic unchanged (float64 numpy).
    min_norm_solvers.torch = types.SimpleNamespace(
        mul=lambda a, b: _Product(np.multiply(np.asarray(a), np.asarray(b))))

    rng = np.random.default_rng(11)
    feats = {}
    for k, T in (("feat2", 2), ("feat3", 3), ("feat5", 5)):
        rows = rng.normal(size=(T, 4, 3)) * np.exp(rng.uniform(-2, 2, size=(T, 1, 1)))
        feats[k] = {"rows": rows.tolist(), "L": rng.uniform(0.05, 3.0, size=T).tolist()}
    out["features"] = feats
    for gn in ("none", "l2", "loss", "loss+"):
        res[f"MGDA-UB/{gn}"] = {}
        for k, f in feats.items():
            T = len(f["L"])
            grads = {t: [torch.tensor(np.asarray(f["rows"][t]))] for t in range(T)}
            raw = {t: [np.asarray(f["rows"][t])] for t in range(T)}
            loss_data = {t: f["L"][t] for t in range(T)}
            norms = gradient_normalizers(grads, loss_data, gn)
            for t in range(T):
                grads[t] = [g / float(norms[t]) for g in raw[t]]
            sol, _ = MinNormSolver.find_min_norm_element([grads[t] for t in range(T)])
            res[f"MGDA-UB/{gn}"][k] = {"w": [float(s) for s in sol]}
    return out


def main() -> None:
    libmtl_root, mgda_root = sys.argv[1], sys.argv[2]
    data = run_all(libmtl_root, mgda_root)
    path = Path(__file__).with_name("reference.json")
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
