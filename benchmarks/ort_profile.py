"""Where onnxruntime spends its time: the optimised graph's op counts and, from onnxruntime's
own profiler (``enable_profiling``), the median kernel time per op type at batch 1, 32, 256.

Used by ``inference.py`` on every model it times (fp32 and int8), so each goal it misses
comes with the profile that explains it; also runs on its own on any ``.onnx`` files.
One intra-op thread, so kernel times add up to the work done (no thread-pool waits).

Usage: .venv/bin/python benchmarks/ort_profile.py MODEL.onnx... [--batches 1 32 256]
→ prints a table per model and writes benchmarks/results/ort_profile.json
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 5
TIMED = 15


def _options(ort: Any, **extra: Any) -> Any:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    for key, value in extra.items():
        setattr(opts, key, value)
    return opts


def optimized_ops(path: Path) -> dict[str, int]:
    """Op counts of the graph onnxruntime actually runs (``optimized_model_filepath``)."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "optimized.onnx"
        ort.InferenceSession(str(path), _options(ort, optimized_model_filepath=str(out)),
                             providers=["CPUExecutionProvider"])
        graph = onnx.load(str(out)).graph
    names = [(n.domain.split(".")[-1] + ":" if n.domain else "") + n.op_type for n in graph.node]
    return dict(collections.Counter(names).most_common())


def kernel_times(path: Path, batch: int) -> dict[str, Any]:
    """Median run time and the per-op-type sum of per-node median kernel times (ms)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        opts = _options(ort, enable_profiling=True, profile_file_prefix=str(Path(tmp) / "p"))
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feed = {i.name: rng.standard_normal((batch, *[d if isinstance(d, int) else 1
                                                      for d in i.shape[1:]])).astype(np.float32)
                for i in session.get_inputs()}
        for _ in range(WARMUP + TIMED):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    per_node: dict[str, list[float]] = collections.defaultdict(list)
    op_of: dict[str, str] = {}
    runs = []
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_node[e["name"]].append(e["dur"])
            op_of[e["name"]] = e["args"]["op_name"]
        elif e.get("cat") == "Session" and e["name"] == "model_run":
            runs.append(e["dur"])
    by_op: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    for node, durations in per_node.items():  # medians: a preempted call does not count
        by_op[op_of[node]] += statistics.median(durations[WARMUP:] or durations) / 1e3
        count[op_of[node]] += 1
    kernels = sum(by_op.values())
    return {"run_ms": statistics.median(runs[WARMUP:] or runs) / 1e3, "kernels_ms": kernels,
            "by_op_ms": {op: round(ms, 4) for op, ms in by_op.most_common()},
            "nodes": dict(count), "top_share": (by_op.most_common(1)[0][1] / kernels) if kernels else 0.0}


def profile(path: Path, batches: tuple[int, ...] = (1, 32, 256)) -> dict[str, Any]:
    return {"optimized_ops": optimized_ops(path),
            "batches": {str(b): kernel_times(path, b) for b in batches}}


def describe(name: str, prof: dict[str, Any]) -> str:
    lines = [f"{name}: optimised graph {prof['optimized_ops']}"]
    for b, t in prof["batches"].items():
        top = ", ".join(f"{op} {ms:.3f}" for op, ms in list(t["by_op_ms"].items())[:5])
        lines.append(f"  batch {b:>3}: run {t['run_ms']:.3f} ms, kernels {t['kernels_ms']:.3f} ms "
                     f"({top})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 32, 256])
    args = parser.parse_args()
    report = {str(p): profile(p, tuple(args.batches)) for p in args.models}
    for name, prof in report.items():
        print(describe(name, prof))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ort_profile.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
