"""onnxruntime's CUDA provider on exported mtkit models: latency at batch 1, 32 and 256 and
parity against reference outputs computed on the CPU, on a machine that has onnxruntime-gpu
and numpy but no TensorFlow (and need not have mtkit installed).

Two steps, so the GPU machine needs only the files:

1. ``prepare`` (any machine with onnxruntime): for each ``.onnx`` file, random inputs from
   the model's own input specs, run on the CPU; writes ``<name>.onnx`` + ``<name>.ref.npz``
   (inputs ``in:<input>`` and outputs ``out:<output>`` per batch size) into a bundle folder.
   ``benchmarks/inference.py --keep DIR`` leaves the exported models to prepare from.
2. ``run`` (the GPU machine): opens each model with ``CUDAExecutionProvider`` (falls back to
   the CPU, and says so in the results, when CUDA cannot start), times it, compares every
   output with the CPU reference (fp32: rtol = atol = 1e-4, TF32 and reduction order
   differ; fp16/int8: 2e-2) and writes JSON.

Usage: python benchmarks/gpu_ort.py prepare MODEL.onnx... --bundle DIR
       python benchmarks/gpu_ort.py run --bundle DIR [--out benchmarks/results/gpu_ort.json]
       [--provider cuda|tensorrt|cpu] [--repeats 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BATCHES = (1, 32, 256)
TOLERANCE = {"fp32": 1e-4, "fp16": 2e-2, "int8": 2e-2}
PROVIDERS = {"cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
             "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
             "cpu": ["CPUExecutionProvider"]}
NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64,
               "tensor(float16)": np.float16, "tensor(int64)": np.int64, "tensor(int32)": np.int32}


def _session(path: Path, providers: list[str]) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=providers)


def _inputs(session: Any, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feed = {}
    for i in session.get_inputs():
        shape = [batch, *[d if isinstance(d, int) else 1 for d in i.shape[1:]]]
        dtype = NUMPY_TYPES.get(i.type)
        if dtype is None:
            raise SystemExit(f"input '{i.name}' has type {i.type}; this script feeds numbers only.")
        values = rng.standard_normal(shape)
        feed[i.name] = (values if np.issubdtype(dtype, np.floating) else np.abs(values) * 3).astype(dtype)
    return feed


def precision_of(session: Any) -> str:
    return session.get_modelmeta().custom_metadata_map.get("mtkit.precision", "fp32")


def prepare(models: list[Path], bundle: Path) -> list[Path]:
    """Copy each model into ``bundle`` beside its CPU reference ``.ref.npz``."""
    bundle.mkdir(parents=True, exist_ok=True)
    written = []
    for i, model in enumerate(models):
        name = model.stem if model.parent.name in ("", ".") else f"{model.parent.name}.{model.stem}"
        session = _session(model, PROVIDERS["cpu"])
        rng = np.random.default_rng(i)
        arrays: dict[str, np.ndarray] = {}
        for batch in BATCHES:
            feed = _inputs(session, batch, rng)
            outputs = session.run(None, feed)
            for k, v in feed.items():
                arrays[f"{batch}/in:{k}"] = v
            for o, v in zip(session.get_outputs(), outputs, strict=True):
                arrays[f"{batch}/out:{o.name}"] = v
        shutil.copy2(model, bundle / f"{name}.onnx")
        np.savez(bundle / f"{name}.ref.npz", **arrays)
        written.append(bundle / f"{name}.onnx")
    return written


def _why_no_cuda(ort: Any) -> str:
    """mtkit's own diagnosis when mtkit is importable, else the providers of this build."""
    try:
        from mtkit.runtime.providers import cuda_problem
    except ImportError:
        cuda_problem = None
    reason = cuda_problem(ort) if cuda_problem else None
    return reason or f"providers in this build: {ort.get_available_providers()}"


def _median_ms(session: Any, feed: dict[str, np.ndarray], repeats: int) -> float:
    for _ in range(3):
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def run(bundle: Path, provider: str, repeats: int) -> dict[str, Any]:
    """Time and check every model of ``bundle`` on ``provider`` (CPU fallback is reported)."""
    import onnxruntime as ort

    wanted = PROVIDERS[provider]
    report: dict[str, Any] = {"onnxruntime": ort.__version__, "device": ort.get_device(),
                              "available_providers": ort.get_available_providers(),
                              "requested": wanted[0], "python": platform.python_version(),
                              "date": time.strftime("%Y-%m-%d"), "models": {}}
    models = sorted(bundle.glob("*.onnx"))
    if not models:
        raise SystemExit(f"no .onnx files in '{bundle}'; run `prepare` first.")
    for model in models:
        ref_path = model.with_suffix(".ref.npz")
        if not ref_path.is_file():
            raise SystemExit(f"'{ref_path}' is missing; run `prepare` on '{model.name}' first.")
        available = [p for p in wanted if p in ort.get_available_providers()]
        session = _session(model, available)
        used = session.get_providers()[0]
        precision = precision_of(session)
        tol = TOLERANCE.get(precision, 1e-4)
        entry: dict[str, Any] = {"provider": used, "precision": precision, "tolerance": tol,
                                 "median_ms": {}, "max_abs_err": {}, "parity_ok": {}}
        if used != wanted[0]:
            entry["fallback"] = (f"{wanted[0]} could not start here ({_why_no_cuda(ort)}); "
                                 f"ran on {used} instead")
        with np.load(ref_path) as ref:
            for batch in BATCHES:
                feed = {k.split(":", 1)[1]: ref[k] for k in ref.files if k.startswith(f"{batch}/in:")}
                outputs = session.run(None, feed)
                errs, ok = [], True
                for o, got in zip(session.get_outputs(), outputs, strict=True):
                    want = ref[f"{batch}/out:{o.name}"].astype(np.float64)
                    diff = np.abs(got.astype(np.float64) - want)
                    errs.append(float(diff.max()) if diff.size else 0.0)
                    ok = ok and bool(np.all(diff <= tol + tol * np.abs(want)))
                entry["max_abs_err"][str(batch)] = max(errs)
                entry["parity_ok"][str(batch)] = ok
                entry["median_ms"][str(batch)] = _median_ms(session, feed, repeats)
        report["models"][model.stem] = entry
    report["all_parity_ok"] = all(all(m["parity_ok"].values()) for m in report["models"].values())
    report["fell_back"] = sorted(k for k, m in report["models"].items() if "fallback" in m)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="copy models and compute CPU reference outputs")
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("--bundle", type=Path, required=True)
    r = sub.add_parser("run", help="time and check the bundle on the GPU")
    r.add_argument("--bundle", type=Path, required=True)
    r.add_argument("--provider", choices=list(PROVIDERS), default="cuda")
    r.add_argument("--repeats", type=int, default=50)
    r.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "gpu_ort.json")
    args = parser.parse_args(argv)
    if args.step == "prepare":
        for path in prepare(args.models, args.bundle):
            print(f"prepared {path}")
        return 0
    report = run(args.bundle, args.provider, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name, m in report["models"].items():
        times = ", ".join(f"batch {b}: {t:.3f} ms" for b, t in m["median_ms"].items())
        print(f"{name:28s} {m['provider']:26s} {m['precision']:5s} {times}; parity "
              f"{'ok' if all(m['parity_ok'].values()) else 'FAILED'} "
              f"(max abs err {max(m['max_abs_err'].values()):.2g})")
        if "fallback" in m:
            print(f"  note: {m['fallback']}")
    print(f"wrote {args.out}")
    return 0 if report["all_parity_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
