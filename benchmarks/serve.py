"""`mtkit serve` throughput, p50/p99 latency and server CPU per request at concurrency 1, 16
and 64, with dynamic batching on and off and a canned-answer server (the HTTP stack's own
ceiling), on three models: the tabular demo and the multi-digit demo (demo-sized) and an
SVHN-size conv model (inference dominates), in one interleaved run on loopback. Goals:
demo-sized model at c=64 ≥ 50% of canned; heavy model batching ≥ 3x unbatched at c=64;
p99 ≤ 100 ms.

Every setup is a real `mtkit serve` process on 127.0.0.1; the load comes from a separate
client process (asyncio + uvloop, keep-alive connections, one request of one row at a time
per connection: a closed loop of ``c`` clients). A hand-rolled HTTP/1.1 client keeps the
client's own CPU cost per request far below the server's, since both share the same two
cores; httpx would cost more per request than the server it measures. Setups take turns
(round-robin over rounds, each run ``--seconds`` long after a short warm-up), so a load
change on the shared machine hits all of them alike; figures are medians over rounds and
the ratios between setups are the result, not the absolute numbers.

Models: the built-in tabular demo (mtkit/demo.yaml, an MLP: HTTP handling dominates), `make
demo`'s multi-digit conv model (trained for a moment) and configs/svhn.yaml's trunk and heads
on 54x54x3 inputs (random data, one training step: weights do not matter for speed), all
exported with `mtkit export`'s pipeline. Besides wall-clock figures, each run records the
server's CPU time per answered request (/proc), which stays comparable between setups
however much CPU the machine's other users leave.

Usage: .venv/bin/python benchmarks/serve.py [--rounds 3] [--seconds 2] [--workdir DIR]
→ benchmarks/results/serve.json and serve.png
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
CONCURRENCY = (1, 16, 64)
MODES = {
    "canned": ["--canned"],
    "batching": ["--max-batch-size", "64", "--max-delay-ms", "2"],
    "no-batching": ["--no-batching"],
}
# Measure, never refuse; one intra-op thread: the event loop needs the other core, and
# onnxruntime's spinning pool threads cost CPU per request (measured: see docs/deployment.md).
SERVER_FLAGS = ["--timeout-ms", "120000", "--max-queue", "4096", "--threads", "1"]
MAX_REQUESTS = 50_000  # per run, on top of the time bound
HEAVY_SIDE = 54  # configs/svhn.yaml's centre crop
SLOW = {"heavy": 4}  # longer runs: a batch of 64 heavy rows takes seconds on this machine


# ---------------------------------------------------------------- models (TensorFlow here only)

def build_models(workdir: Path) -> dict[str, Path]:
    """Export the three models (cached in ``workdir``): the built-in tabular demo, `make
    demo`'s multi-digit conv model and the heavy SVHN-size model."""
    out = {"tabular": workdir / "tabular.onnx", "demo": workdir / "demo.onnx",
           "heavy": workdir / "heavy.onnx"}
    if all(p.is_file() for p in out.values()):
        return out
    import mtkit
    from mtkit.api import DEMO_CONFIG
    from mtkit.export import ExportOptions, export_run

    sys.path.insert(0, str(HERE))
    from inference import demo_config

    if not out["tabular"].is_file():
        run = workdir / "tabular_run"
        mtkit.train(DEMO_CONFIG, out=run, overwrite=True, quiet=True,
                    overrides=["train.epochs=1", "train.checkpoint=false"])
        export_run(run, out["tabular"], ExportOptions(check=False))

    if not out["demo"].is_file():
        run = workdir / "demo_run"
        mtkit.train(demo_config(), out=run, overwrite=True, quiet=True,
                    overrides=["data.train_size=1000", "data.val_size=200", "data.test_size=200",
                               "train.epochs=1", "train.checkpoint=false"])
        export_run(run, out["demo"], ExportOptions(check=False))
    if not out["heavy"].is_file():
        import yaml

        rng = np.random.default_rng(0)
        n = 64
        arrays = {"image": rng.normal(size=(n, HEAVY_SIDE, HEAVY_SIDE, 3)).astype(np.float32),
                  "length": rng.integers(0, 7, n)}
        arrays.update({f"digit{i}": rng.integers(0, 10, n) for i in range(1, 6)})
        np.savez(workdir / "heavy.npz", **arrays)
        cfg = yaml.safe_load((ROOT / "configs" / "svhn.yaml").read_text())
        cfg["data"] = {"dataset": "npz", "path": str(workdir / "heavy.npz")}
        cfg["train"] = {"epochs": 1, "batch_size": 16, "steps_per_epoch": 1, "seed": 0,
                        "checkpoint": False}
        run = workdir / "heavy_run"
        mtkit.train(cfg, out=run, overwrite=True, quiet=True)
        export_run(run, out["heavy"], ExportOptions(check=False))
    return out


def request_body(model: Path) -> bytes:
    """One row of random input, as the JSON a client would send."""
    import onnxruntime as ort

    meta = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).get_modelmeta()
    specs = json.loads(meta.custom_metadata_map["mtkit.inputs"])
    rng = np.random.default_rng(1)
    inputs = {k: np.round(rng.random((1, *v["shape"]), dtype=np.float32), 4).tolist()
              for k, v in specs.items()}
    return json.dumps({"inputs": inputs}).encode()


def inference_cpu(model: Path, rounds: int = 5, rows: int = 64) -> dict:
    """CPU ms per row of ``Predictor.predict`` alone (one thread, no HTTP) at batch 1 and
    ``rows``: how much batching can save at best, and the floor under a served request."""
    from mtkit.runtime import Predictor

    p = Predictor(model, threads=1)
    rng = np.random.default_rng(2)
    feeds = {b: {k: rng.random((b, *v["shape"]), dtype=np.float32) for k, v in p.inputs.items()}
             for b in (1, rows)}
    per_row: dict[int, list[float]] = {b: [] for b in feeds}
    for _ in range(rounds):
        for b, feed in feeds.items():
            p.predict(feed)
            calls = max(1, rows // b) if b == 1 else 1
            t0 = time.thread_time()
            for _ in range(calls):
                p.predict(feed)
            per_row[b].append((time.thread_time() - t0) * 1000 / (calls * b))
    out = {f"batch {b}": statistics.median(v) for b, v in per_row.items()}
    out["batch 1 / batch 64"] = out["batch 1"] / out[f"batch {rows}"]
    return out


# ---------------------------------------------------------------- servers

class Server:
    """One `mtkit serve` process on a free loopback port."""

    def __init__(self, name: str, model: Path, flags: list[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mtkit.cli", "serve", f"{name}={model}", "--host", "127.0.0.1",
             "--port", "0", *SERVER_FLAGS, *flags],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        if " on http://" not in line:
            raise RuntimeError(f"mtkit serve did not start: {line}{self.proc.stderr.read()}")
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()  # never block it
        host_port = line.split("http://", 1)[1].split()[0]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


# ---------------------------------------------------------------- load generator (own process)

async def _load(host: str, port: int, path: str, body: bytes, concurrency: int, seconds: float,
                warmup: float) -> dict:
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + seconds
    latencies: list[float] = []
    errors, warm, done_in_window = [0], [0], [0]

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= end or len(latencies) >= MAX_REQUESTS:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                t1 = time.perf_counter()
                if not head.startswith(b"HTTP/1.1 200"):
                    errors[0] += 1
                elif t0 >= measure_from:
                    latencies.append(t1 - t0)
                    done_in_window[0] += t1 <= end
                else:
                    warm[0] += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    # Throughput counts answers inside the window; latency, every request started in it.
    return {"requests": len(latencies), "completed_in_window": done_in_window[0],
            "errors": errors[0], "seconds": seconds, "warmup_requests": warm[0],
            "latencies": latencies}


def client_main(args: list[str]) -> None:
    host, port, path, body_file, concurrency, seconds, out_file = args
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out = asyncio.run(_load(host, int(port), path, Path(body_file).read_bytes(), int(concurrency),
                            float(seconds), warmup=float(seconds) / 4))
    Path(out_file).write_text(json.dumps(out))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(server: Server, body_file: Path, concurrency: int, seconds: float) -> dict:
    """One closed-loop run; adds the server's CPU seconds per answered request, which
    stays comparable between setups however much CPU the other sessions leave us."""
    out_file = body_file.with_suffix(".result.json")
    cpu0 = cpu_seconds(server.proc.pid)
    proc = subprocess.run([sys.executable, __file__, "--client", server.host, str(server.port),
                           f"/v1/models/{server.name}:predict", str(body_file), str(concurrency),
                           str(seconds), str(out_file)], capture_output=True, text=True,
                          timeout=seconds + 120)
    cpu = cpu_seconds(server.proc.pid) - cpu0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    res = json.loads(out_file.read_text())
    res["server_cpu_ms_per_request"] = cpu * 1000 / max(1, res["requests"] + res["warmup_requests"])
    return res


# ---------------------------------------------------------------- the run

def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_model(name: str, model: Path, rounds: int, seconds: float, workdir: Path) -> dict:
    inference = inference_cpu(model)
    print(f"{name:6s} Predictor alone, CPU ms/row: " + ", ".join(
        f"{k} {v:.3f}" for k, v in inference.items()), flush=True)
    body_file = workdir / f"{name}.body.json"
    body_file.write_bytes(request_body(model))
    servers = {mode: Server(name, model, flags) for mode, flags in MODES.items()}
    runs: dict[str, dict[int, list[dict]]] = {m: {c: [] for c in CONCURRENCY} for m in MODES}
    try:
        for r in range(rounds):
            for c in CONCURRENCY:
                for mode, server in servers.items():
                    res = measure(server, body_file, c, seconds)
                    runs[mode][c].append(res)
                    print(f"{name:6s} round {r + 1} c={c:<3d} {mode:12s} "
                          f"{res['completed_in_window'] / res['seconds']:8.1f} req/s  p50 "
                          f"{percentile(res['latencies'], 50) * 1000:7.2f} ms  p99 "
                          f"{percentile(res['latencies'], 99) * 1000:8.2f} ms  server CPU "
                          f"{res['server_cpu_ms_per_request']:6.3f} ms/req  errors "
                          f"{res['errors']}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
    table: dict[str, dict[str, dict]] = {}
    for mode in MODES:
        table[mode] = {}
        for c in CONCURRENCY:
            rs = runs[mode][c]
            lat = [x for res in rs for x in res["latencies"]]
            table[mode][str(c)] = {
                "throughput_rps": statistics.median(res["completed_in_window"] / res["seconds"]
                                                    for res in rs),
                "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000,
                "server_cpu_ms_per_request": statistics.median(
                    res["server_cpu_ms_per_request"] for res in rs),
                "requests": sum(res["requests"] for res in rs),
                "errors": sum(res["errors"] for res in rs)}
    return {"body_bytes": body_file.stat().st_size, "seconds_per_run": seconds,
            "predictor_cpu_ms_per_row": inference, "table": table}


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(report["models"]), figsize=(5 * len(report["models"]), 4))
    for ax, (name, res) in zip(axes, report["models"].items(), strict=True):
        for mode, by_c in res["table"].items():
            ax.plot(CONCURRENCY, [by_c[str(c)]["throughput_rps"] for c in CONCURRENCY], "o-",
                    label=mode)
        ax.set_xscale("log", base=2)
        ax.set_xticks(CONCURRENCY, [str(c) for c in CONCURRENCY])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("requests / s (1 row each)")
        ax.set_yscale("log")
        ax.set_title(f"{name} model")
        ax.legend()
    fig.suptitle("mtkit serve on loopback (shared 2-core machine; compare ratios)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--workdir", type=Path, default=None, help="Keep the exported models here.")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        models = build_models(workdir)
        load_before = load_average()
        started = time.time()
        results = {name: bench_model(name, path, args.rounds, args.seconds * SLOW.get(name, 1),
                                     workdir) for name, path in models.items()}
        elapsed = time.time() - started
    t = {n: r["table"] for n, r in results.items()}
    ratios = {}
    for n, tab in t.items():
        b, nb, can = (tab[m]["64"] for m in ("batching", "no-batching", "canned"))
        ratios[n] = {
            "batching / canned, req/s at c=64": b["throughput_rps"] / can["throughput_rps"],
            "batching / no-batching, req/s at c=64": b["throughput_rps"] / nb["throughput_rps"],
            "batching / no-batching, req/s at c=16": tab["batching"]["16"]["throughput_rps"]
            / tab["no-batching"]["16"]["throughput_rps"],
            # CPU-bound throughput ratios from CPU per request (robust to other load):
            "canned / batching, server CPU per request at c=64":
                can["server_cpu_ms_per_request"] / b["server_cpu_ms_per_request"],
            "no-batching / batching, server CPU per request at c=64":
                nb["server_cpu_ms_per_request"] / b["server_cpu_ms_per_request"],
        }
    report = {
        "what": "requests/s and latency of mtkit serve, 1 row per request, closed loop of c "
                "clients on loopback; setups interleaved, medians over rounds; server CPU ms "
                "per request from /proc",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores shared with other sessions "
                   f"(load average before {load_before}, after {load_average()})",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(), "rounds": args.rounds, "seconds_per_run": args.seconds,
        "server_flags": SERVER_FLAGS, "modes": MODES,
        "elapsed_seconds": round(elapsed, 1), "models": results, "ratios": ratios,
        "goals": {
            "demo-sized model at c=64 >= 50% of canned (req/s)": {
                n: ratios[n]["batching / canned, req/s at c=64"] >= 0.5 for n in ("tabular", "demo")},
            "heavy batching >= 3x unbatched at c=64 (req/s)":
                ratios["heavy"]["batching / no-batching, req/s at c=64"] >= 3,
            "p99 <= 100 ms (batching, c=64)": {n: t[n]["batching"]["64"]["p99_ms"] <= 100
                                               for n in t}},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(report, RESULTS / "serve.png")
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()
