"""`make bench`: run every benchmark, then write benchmarks/README.md (and the figures
block of the top-level README) from their JSON results, so the quoted figures are always
the latest measured ones.

Usage: .venv/bin/python benchmarks/run_all.py [--only NAME ...] [--render-only]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ROOT = HERE.parent

# name → arguments; ordered from quick to slow
BENCHMARKS = {
    "cli_startup": [],
    "export_time": [],
    "training": ["--repeats", "3"],
    "inference": [],
    "distributed": ["--repeats", "2"],
    "weighting": [],
    "multidigit_quality": [],
    "mmoe_synthetic": [],
    "tabular": [],
}


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render_summary() -> str:
    """The headline figures, as Markdown bullets (used in both READMEs)."""
    lines = []
    if (c := _load("cli_startup")):
        m = c["median_seconds"]
        lines.append(f"- **Start-up:** `mtkit --help` {_ms(m['mtkit --help'])}, "
                     f"`mtkit plugins --json` {_ms(m['mtkit plugins --json'])} "
                     f"(`import tensorflow` alone: {_ms(m[next(k for k in m if 'tensorflow' in k)])}).")
    if (t := _load("training")):
        r, s = t["ratios"], t["step_seconds"]
        lines.append(f"- **Training step** ({t['what']}): mtkit {_ms(s['mtkit'])} vs hand-written "
                     f"Keras `fit` {_ms(s['keras_fit'])} → ratio **{r['mtkit / keras_fit']:.2f}**; "
                     f"with XLA {r['mtkit_xla / keras_fit']:.2f}; tf.data pipeline vs one cached "
                     f"batch {r['mtkit (tf.data) / mtkit_step_cached_batch']:.2f} (no input stall).")
    if (i := _load("inference")):
        m, q = i["median_ms"], i["ratio_to_tf_function"]
        b1 = {k: v.get("1") if isinstance(v, dict) else None for k, v in m.items()}
        ort = next((k for k in b1 if "fp32" in k), None)
        tff = next((k for k in b1 if "tf.function" in k or "tf_function" in k), None)
        if ort and tff and b1[ort] and b1[tff]:
            ratio = q.get(ort, {}).get("1") if isinstance(q.get(ort), dict) else None
            lines.append(f"- **Inference, batch 1:** onnxruntime fp32 {b1[ort]:.3f} ms vs compiled "
                         f"`tf.function` {b1[tff]:.3f} ms"
                         + (f" → ratio **{ratio:.2f}**" if ratio else "") + ".")
    if (e := _load("export_time")):
        m = e["median_seconds"]
        lines.append("- **Export** (whole command, demo model): " + ", ".join(
            f"{k} {v:.1f} s" for k, v in m.items()) + ".")
    if (d := _load("distributed")):
        r = d["ratio_to_1_replica"]
        lines.append("- **Replicas** (" + d["note"] + "): " + ", ".join(
            f"{k} ×{v:.2f}" for k, v in r.items()) + " step time.")
    if (tb := _load("tabular")):
        parts = []
        for task, r in tb["summary"].items():
            fmt = "{:.1f} g" if r["metric"] == "mae" else "{:.1%}"
            parts.append(f"{task} {r['metric']} {fmt.format(r['mtkit'])} vs best baseline "
                         f"({r['best']}) {fmt.format(r['baselines'][r['best']])}")
        lines.append(f"- **Tables** (palmerpenguins, raw CSV, {tb['seeds']} seeds, one multitask "
                     "model vs one scikit-learn model per task): " + "; ".join(parts) + ".")
    return "\n".join(lines)


def render_readme() -> str:
    sys.path.insert(0, str(ROOT))
    from mtkit.tf_import import import_tensorflow

    tf = import_tensorflow()
    import keras

    out = [
        "# Benchmarks",
        "",
        "Every script here measures in **one run, side by side** (alternating setups, medians,",
        "ratios), because these machines are noisy; none of these numbers is asserted by a test.",
        "`make bench` reruns all of them and rewrites this page and the README's figures.",
        "",
        f"Latest figures — machine: {platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"no GPU; Python {platform.python_version()}, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}; {time.strftime('%Y-%m-%d')}.",
        "",
        render_summary(),
        "",
        "| script | measures | result files |",
        "|---|---|---|",
    ]
    for name in BENCHMARKS:
        script = HERE / f"{name}.py"
        if not script.is_file():
            continue
        doc = " ".join(script.read_text().split('"""')[1].strip().split("\n\n")[0].split())
        files = sorted(p.name for p in RESULTS.glob(f"{name}.*"))
        out.append(f"| `{name}.py` | {doc} | {', '.join(files) or '—'} |")
    return "\n".join(out) + "\n"


def update_top_readme(summary: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = f"<!-- bench:start -->\n{summary}\n<!-- bench:end -->"
    new = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _: block, text, flags=re.S)
    readme.write_text(new)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    if not args.render_only:
        for name, extra in BENCHMARKS.items():
            if args.only and name not in args.only or not (HERE / f"{name}.py").is_file():
                continue
            print(f"== {name}", flush=True)
            subprocess.run([sys.executable, str(HERE / f"{name}.py"), *extra], check=True)
    (HERE / "README.md").write_text(render_readme())
    update_top_readme(render_summary())
    print(render_summary())


if __name__ == "__main__":
    main()
