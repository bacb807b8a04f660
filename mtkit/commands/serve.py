"""``mtkit serve MODEL.onnx [NAME=MODEL2.onnx ...]``: exported models behind HTTP, with
dynamic batching on onnxruntime; no TensorFlow (see mtkit.serve and docs/deployment.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from mtkit.commands._common import run_guarded


def serve(
    models: Annotated[list[str], typer.Argument(
        help="Models as PATH or NAME=PATH (.onnx files written by `mtkit export`); the name "
             "in /v1/models/NAME:predict defaults to the file's stem, or its folder's name for "
             "a run's model.onnx.")],
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8000,
    max_batch_size: Annotated[int, typer.Option(help="Rows per onnxruntime call.")] = 64,
    max_delay_ms: Annotated[float, typer.Option(
        help="How long the oldest waiting request waits for others to join its batch.")] = 2.0,
    batching: Annotated[bool, typer.Option(
        help="Merge concurrent requests into one onnxruntime call.")] = True,
    max_queue: Annotated[int, typer.Option(
        help="Requests that may wait per model; more get 503 with Retry-After.")] = 256,
    timeout_ms: Annotated[float, typer.Option(
        help="Per-request deadline; a request not answered by then gets 504.")] = 5000.0,
    max_rows: Annotated[int, typer.Option(help="Rows allowed in one request.")] = 1024,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body, in bytes.")
                              ] = 16 * 1024 * 1024,
    drain_timeout: Annotated[float, typer.Option(
        help="On SIGTERM, seconds to let in-flight requests finish.")] = 30.0,
    provider: Annotated[str, typer.Option(help="auto, cpu, cuda or tensorrt.")] = "auto",
    threads: Annotated[int | None, typer.Option(
        help="onnxruntime intra-op threads per model (default: one per core).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "warning",
    canned: Annotated[bool, typer.Option(
        help="Benchmarks only: answer every request with one fixed prediction, without "
             "parsing or inference (the HTTP stack's own ceiling).")] = False,
) -> None:
    """Serve exported models over HTTP: POST /v1/models/NAME:predict, /v1/models, /healthz,
    /readyz, /metrics; concurrent requests are batched into one onnxruntime call."""

    def go() -> None:
        from mtkit.serve.server import serve as run_server
        from mtkit.serve.settings import ServeSettings

        settings = ServeSettings(max_batch_size=max_batch_size, max_delay_ms=max_delay_ms,
                                 max_queue=max_queue, timeout_ms=timeout_ms, max_rows=max_rows,
                                 max_body_bytes=max_body_bytes, batching=batching,
                                 drain_timeout_s=drain_timeout, canned=canned)
        run_server(models, host, port, settings, provider=provider, threads=threads,
                   log_level=log_level)

    run_guarded(go)
