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
    "weighting_every": [],
    "multidigit_quality": [],
    "mmoe_synthetic": [],
    "serve": [],
    "tabular": [],
    "mixture_sampling": [],
    "memory": [],
    "compare": [],
    "demo_vs_keras": [],
}


BY_HAND = ("ort_profile", "gpu_ort")


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def inference_summary(report: dict) -> list[str]:
    """One bullet per model: onnxruntime fp32 and int8 relative to tf.function / fp32."""
    models = report.get("models")
    if not isinstance(models, dict):  # results of the older one-model benchmark
        return []
    lines = []
    for name, m in models.items():
        r = m["ratio_to_tf_function"]["onnxruntime fp32"]
        c = m.get("cpu_ratio_to_tf_function", {}).get("onnxruntime fp32", {})
        q = m["int8_to_fp32"]
        tf_ms = m["median_ms"]["tf.function"]
        met = sum(g["met"] for g in m["goals"].values())
        drop = m.get("metric_drop", {}).get("int8")
        lines.append(
            f"- **Inference, {name}** ({m['what']}): onnxruntime fp32 / `tf.function` "
            + ", ".join(f"batch {b} **{r[b]:.2f}×** of {tf_ms[b]:.3g} ms" for b in r)
            + (" (CPU time " + ", ".join(f"{c[b]:.2f}×" for b in c) + ")" if c else "")
            + "; int8 / fp32 " + ", ".join(f"{q[b]:.2f}×" for b in q)
            + (f" (worst int8 metric loss {drop:.3f})" if drop is not None else "")
            + f"; {met}/{len(m['goals'])} goals met.")
    if lines:
        lines.append(f"  ({report.get('contention', 'shared machine')})")
    return lines


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
        lines.extend(inference_summary(i))
    if (e := _load("export_time")):
        m = e["median_seconds"]
        lines.append("- **Export** (whole command, demo model): " + ", ".join(
            f"{k} {v:.1f} s" for k, v in m.items()) + ".")
    if (sv := _load("serve")):
        r = sv["ratios"]
        lines.append(
            "- **Serving** (`mtkit serve`, 1 row per request, 64 concurrent clients; server CPU "
            "per request, robust to the shared machine): tabular demo at "
            f"{r['tabular']['canned / batching, server CPU per request at c=64']:.0%} of the canned "
            "ceiling; batching vs none: "
            + ", ".join(f"{n} ×{v['no-batching / batching, server CPU per request at c=64']:.1f}"
                        for n, v in r.items()) + " (details: benchmarks/README.md).")
    if (d := _load("distributed")):
        r = d["ratio_to_1_replica"]
        lines.append("- **Replicas** (" + d["note"] + "): " + ", ".join(
            f"{k} ×{v:.2f}" for k, v in r.items()) + " step time.")
    if (ev := _load("weighting_every")):
        r = ev.get("cpu_ratio_to_sum") or ev["ratio_to_sum"]
        spans = []
        for k in ev["every"]:
            vals = [r[f"{m} (parameters, every {k})"] for m in ev["methods"]]
            spans.append(f"every {k} ×{min(vals):.2f}–{max(vals):.2f}")
        lines.append(f"- **Gradient methods, parameter mode** (6 tasks, {', '.join(ev['methods'])}) "
                     f"vs `sum` per step ({'CPU time' if 'cpu_ratio_to_sum' in ev else 'wall-clock'}): "
                     + ", ".join(spans) + " (`every: k` solves for the "
                     "weights every k steps).")
    if (tb := _load("tabular")):
        parts = []
        for task, r in tb["summary"].items():
            fmt = "{:.1f} g" if r["metric"] == "mae" else "{:.1%}"
            parts.append(f"{task} {r['metric']} {fmt.format(r['mtkit'])} vs best baseline "
                         f"({r['best']}) {fmt.format(r['baselines'][r['best']])}")
        lines.append(f"- **Tables** (palmerpenguins, raw CSV, {tb['seeds']} seeds, one multitask "
                     "model vs one scikit-learn model per task): " + "; ".join(parts) + ".")
    if (mem := _load("memory")) and not mem.get("quick"):
        r = mem["runs"]
        lines.append(f"- **Large data** (streamed Parquet shards, one epoch): peak RSS "
                     f"{r['stream_1m']['peak_rss_mb']:.0f} MB at 1M rows, "
                     f"{r['stream_10m']['peak_rss_mb']:.0f} MB at 10M (×"
                     f"{mem['rss_ratio_large_to_small']:.2f}, goal ≤ 1.2); streamed rows/s "
                     f"×{mem['throughput_ratio_stream_to_memory']:.2f} of in-memory on 1M "
                     "(goal ≥ 0.8).")
    return "\n".join(lines)


def render_serve() -> str:
    """The serving benchmark as Markdown tables (also embedded in docs/deployment.md)."""
    sv = _load("serve")
    if not sv:
        return "No serving figures yet: run `.venv/bin/python benchmarks/serve.py`."
    out = [f"Measured {sv.get('date', '')} on {sv['machine']}; {sv['rounds']} interleaved rounds "
           f"per setup; server flags `{' '.join(sv['server_flags'])}`. Wall-clock figures "
           "swing with the other sessions' load; the server's CPU time per request does not, "
           "so its ratios are the ones to compare.", ""]
    for name, res in sv["models"].items():
        inf = res["predictor_cpu_ms_per_row"]
        out += [f"**{name}** (request body {res['body_bytes']} bytes; `Predictor` alone: "
                f"{inf['batch 1']:.3f} ms CPU per row at batch 1, {inf['batch 64']:.3f} at batch 64, "
                f"×{inf['batch 1 / batch 64']:.2f}):", "",
                "| setup | c | req/s | p50 ms | p99 ms | server CPU ms/req |", "|---|---|---|---|---|---|"]
        for mode, by_c in res["table"].items():
            for c, row in by_c.items():
                out.append(f"| {mode} | {c} | {row['throughput_rps']:.0f} | {row['p50_ms']:.1f} | "
                           f"{row['p99_ms']:.1f} | {row['server_cpu_ms_per_request']:.3f} |")
        out.append("")
    out += ["| ratio at c=64 | " + " | ".join(sv["ratios"]) + " |",
            "|---|" + "---|" * len(sv["ratios"])]
    for key in next(iter(sv["ratios"].values())):
        out.append(f"| {key} | " + " | ".join(f"{v[key]:.2f}" for v in sv["ratios"].values())
                   + " |")
    return "\n".join(out)


def render_mixtures() -> str:
    """The task-mixture sampling benchmark as a Markdown table (seed means)."""
    mx = _load("mixture_sampling")
    if not mx:
        return "No mixture figures yet: run `.venv/bin/python benchmarks/mixture_sampling.py`."
    cols = [("numbers", "sequence_accuracy"), ("numbers", "length"), ("numbers", "digit1"),
            ("numbers", "digit2"), ("numbers", "digit3"), ("numbers", "digit5"),
            ("first_digits", "digit1")]
    out = [f"`configs/mixture.yaml`, {mx['steps']} steps of batch 64 per run, test accuracy "
           f"per source, mean over seeds {mx['means'][0]['seeds']}; {mx['note']}", "",
           "| sampling | p(numbers) | " + " | ".join(f"{s} {m}" for s, m in cols) + " |",
           "|---|---|" + "---|" * len(cols)]
    for r in mx["means"]:
        out.append(f"| {r['setup']} | {r['source_probabilities']['numbers']:.2f} | "
                   + " | ".join(f"{r[s][m]:.3f}" for s, m in cols) + " |")
    out += ["", "![mixture sampling](results/mixture_sampling.png)"]
    return "\n".join(out)


def render_memory() -> str:
    """The large-data benchmark as a Markdown table."""
    mem = _load("memory")
    if not mem:
        return "No large-data figures yet: run `.venv/bin/python benchmarks/memory.py`."
    out = [f"{mem['features']} numeric features, 3 tasks (4 classes, binary, regression "
           "labelled on 30% of rows), one epoch of batch 1024 per run, each run in its own "
           f"process; {mem['machine']}.", "",
           "| run | train rows | peak RSS | rows/s (epoch) | rows/s (whole run) |",
           "|---|---|---|---|---|"]
    for name, r in mem["runs"].items():
        out.append(f"| {name} | {r['train_rows']:,} | {r['peak_rss_mb']:.0f} MB | "
                   f"{r['rows_per_second']:,.0f} | {r['rows_per_second_end_to_end']:,.0f} |")
    out += ["", "| goal | value | met |", "|---|---|---|"]
    out += [f"| {k} | {g['value']:.2f} | {'yes' if g['met'] else 'NO'} |"
            for k, g in mem["goals"].items()]
    out += ["", "![large data](results/memory.png)"]
    return "\n".join(out)


def render_every(image: bool = True) -> str:
    """The ``every: k`` step-time table (gradient methods in parameter mode vs ``sum``);
    ``image``: end with the figure (benchmarks/README.md; the docs site cannot link it)."""
    ev = _load("weighting_every")
    if not ev:
        return "No figures yet: run `.venv/bin/python benchmarks/weighting_every.py`."
    ks, cpu = ev["every"], ev.get("cpu_ratio_to_sum")
    load = ev.get("load_average")
    out = [f"{ev['problem']}, batch {ev['batch_size']}, six tasks, parameter mode; per step "
           f"relative to `sum`, {'CPU time (wall-clock in brackets)' if cpu else 'wall-clock'} "
           f"(one cached batch through mtkit's step, fastest of {ev['rounds']} interleaved "
           f"rounds of {ev['steps_per_round']} steps; `sum` {ev['ms_per_step']['sum']:.0f} ms "
           f"wall-clock; {ev['machine']}"
           + (f", load average {load[0]:.1f}" if load else "") + f", {ev['date']}). "
           "Goal ≤ 2×: met at every "
           + (", ".join(str(k) for k in ev["goal"]["met_at"]) or "— (not met)") + ".", "",
           "| method | " + " | ".join(f"every {k}" for k in ks) + " |",
           "|---|" + "---|" * len(ks)]
    for m in ev["methods"]:
        cells = []
        for k in ks:
            key = f"{m} (parameters, every {k})"
            wall = ev["ratio_to_sum"][key]
            cells.append(f"{cpu[key]:.2f}× ({wall:.2f}×)" if cpu else f"{wall:.2f}×")
        out.append(f"| `{m}` | " + " | ".join(cells) + " |")
    q = ev.get("quality_imbalance")
    if q:
        s = q["sum"]
        out += ["", "Quality on the two-task imbalance problem (value RMSE / kind accuracy; "
                f"`sum` {s['value_rmse']:.3f} / {s['kind_accuracy']:.3f}):", "",
                "| method | " + " | ".join(f"every {k}" for k in ks) + " |",
                "|---|" + "---|" * len(ks)]
        for m in [m for m in ev["methods"] if f"{m} (parameters, every 1)" in q]:
            cells = [q[f"{m} (parameters, every {k})"] for k in ks]
            out.append(f"| `{m}` | " + " | ".join(
                f"{c['value_rmse']:.3f} / {c['kind_accuracy']:.3f}" for c in cells) + " |")
    if image:
        out += ["", "![every k](results/weighting_every.png)"]
    return "\n".join(out)


def render_compare() -> str:
    """`mtkit compare` on penguins and the digits: Δm per weighting (mean ± std over seeds)."""
    cp = _load("compare")
    if not cp:
        return "No comparison figures yet: run `.venv/bin/python benchmarks/compare.py`."
    out = [f"Measured {cp['measured']} on {cp['machine']}. Δm: mean relative change of each "
           "task's test metric against its single-task baseline, signed so that positive is "
           "better (%, mean ± std over seeds); see docs/compare.md.", ""]
    for name, s in cp["setups"].items():
        multi = {v: r for v, r in s["variants"].items() if r["delta_m"]}
        out += [f"`{s['command']}`:", "", "| variant | Δm % | step ms |", "|---|---|---|"]
        for v, r in multi.items():
            step = f"{r['step_ms']:.2f}" if r["step_ms"] else "—"
            out.append(f"| {v} | {r['delta_m']['mean']:+.2f} ± {r['delta_m']['std']:.2f} | "
                       f"{step} |")
        if s.get("note"):
            out += ["", f"Reading: {s['note']}"]
        out += ["", f"Full report: [compare_{name}.md](results/compare_{name}.md), "
                f"![{name}](results/compare_{name}.png)", ""]
    return "\n".join(out).rstrip()


def render_demo_vs_keras() -> str:
    """The demo against a hand-written plain Keras model at the same wall budget, per seed."""
    d = _load("demo_vs_keras")
    if not d:
        return "No figures yet: run `.venv/bin/python benchmarks/demo_vs_keras.py`."
    s = d["summary"]
    out = [f"Budget {d['budget_seconds']:g} s a side (Keras: training; mtkit: the whole `make demo` "
           f"after set-up), seeds {', '.join(map(str, d['seeds']))}; {d['machine']['cpus']} cores, "
           f"load average {d['machine']['load_average_1min']} at the end (a shared machine: "
           f"absolute times vary), {d['date']}.", "",
           "| seed | mtkit sequence acc. | epochs | demo s | Keras sequence acc. | epochs | Keras s |",
           "|---|---|---|---|---|---|---|"]
    rows = {(r["seed"], r["side"]): r for r in d["rows"]}
    for seed in d["seeds"]:
        m, k = rows[(seed, "mtkit")], rows[(seed, "keras")]
        out.append(f"| {seed} | {m['sequence_accuracy']:.2%} | {m['epochs']} | {m['demo_seconds']} "
                   f"| {k['sequence_accuracy']:.2%} | {k['epochs']} | {k['train_seconds']} |")
    out += ["", f"Mean: mtkit {s['mtkit']['mean_sequence_accuracy']:.2%}, Keras "
            f"{s['keras']['mean_sequence_accuracy']:.2%} ({s['gain_points']:+.2f} points; goal "
            f"+0.5: {'met' if s['goals']['accuracy_gain_ge_0.5_point'] else 'NOT met'}); demo "
            f"{s['mean_demo_seconds']:.0f} s vs Keras training {s['mean_keras_train_seconds']:.0f} s "
            f"(goal ≤: {'met' if s['goals']['demo_le_keras_training'] else 'NOT met'})."]
    return "\n".join(out)


def update_block(path: Path, name: str, text: str) -> None:
    """Replace what stands between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``."""
    body = path.read_text()
    block = f"<!-- {name}:start -->\n{text}\n<!-- {name}:end -->"
    path.write_text(re.sub(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", lambda _: block,
                           body, flags=re.S))


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
    out += ["", "Run by hand (they take model files, not a fresh run):", ""]
    for name in BY_HAND:
        doc = " ".join((HERE / f"{name}.py").read_text().split('"""')[1].strip().split("\n\n")[0].split())
        out.append(f"- `{name}.py`: {doc}")
    out += ["", gpu_summary()]
    out += ["", "## Serving (`serve.py`)", "", render_serve()]
    out += ["", "## Task mixtures (`mixture_sampling.py`)", "", render_mixtures()]
    out += ["", "## Does multitask help? (`compare.py`)", "", render_compare()]
    out += ["", "## Gradient methods every k steps (`weighting_every.py`)", "", render_every()]
    out += ["", "## Large data (`memory.py`)", "", render_memory()]
    out += ["", "## The demo vs plain Keras (`demo_vs_keras.py`)", "", render_demo_vs_keras()]
    return "\n".join(out) + "\n"


def gpu_summary() -> str:
    """The latest CUDA figures from gpu_ort.py, or a note that none were measured yet."""
    g = _load("gpu_ort")
    if not g:
        return ("GPU: no figures yet — no GPU machine was available when these were measured. "
                "Prepare on any machine with `benchmarks/inference.py --keep DIR` and "
                "`benchmarks/gpu_ort.py prepare DIR/*/*.onnx --bundle B`, then run "
                "`benchmarks/gpu_ort.py run --bundle B` where onnxruntime-gpu and a GPU are.")
    rows = ["GPU (`gpu_ort.py`, onnxruntime " + g["onnxruntime"] + "):", "",
            "| model | provider | batch 1 | batch 32 | batch 256 | parity |", "|---|---|---|---|---|---|"]
    for name, m in g["models"].items():
        t = m["median_ms"]
        rows.append(f"| {name} | {m['provider']} | {t['1']:.3f} ms | {t['32']:.3f} ms | "
                    f"{t['256']:.3f} ms | {'ok' if all(m['parity_ok'].values()) else 'FAILED'} |")
    return "\n".join(rows)


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
    update_block(ROOT / "docs" / "deployment.md", "serve", render_serve())
    update_block(ROOT / "docs" / "weighting.md", "every", render_every(image=False))
    print(render_summary())


if __name__ == "__main__":
    main()
