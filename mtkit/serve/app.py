"""The HTTP routes (Starlette): predict, model listing, health, readiness and metrics.

``POST /v1/models/{name}:predict`` takes ``{"inputs": ...}`` in the forms
``Predictor.prepare`` accepts and answers ``{"model", "predictions"}``, one decoded dict
per row exactly as ``Predictor.predict`` gives. Every client mistake is a JSON
``{"error": {"status", "field", "message"}}`` with a 4xx status; 503 (queue full, with
``Retry-After``) and 504 (deadline) are the server protecting itself.
"""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mtkit.serve.batcher import Batcher, DeadlineExceeded, QueueFull
from mtkit.serve.metrics import CONTENT_TYPE, Metrics
from mtkit.serve.settings import ServeSettings
from mtkit.serve.validate import RequestError, check_request, parse_json

PREDICT_SUFFIX = ":predict"


class State:
    """What the routes share: the models, their batchers, metrics and readiness."""

    def __init__(self, models: dict[str, Any], settings: ServeSettings) -> None:
        self.models = models
        self.settings = settings
        self.metrics = Metrics()
        self.batchers: dict[str, Batcher] = {}
        self.ready = False
        self.draining = False
        self.canned: dict[str, bytes] = {}


def _error(err: RequestError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.as_json(), status_code=err.status, headers=headers)


def _describe(name: str, predictor: Any) -> dict[str, Any]:
    meta = predictor.meta
    return {"name": name, "path": str(predictor.path), "inputs": predictor.inputs,
            "tasks": {t: {"head": m.head, "output_type": m.output_type, "labels": m.labels}
                      for t, m in meta.tasks.items()},
            "metadata": {"mtkit_version": meta.version, "precision": meta.precision,
                         "dataset": meta.dataset, "decode": meta.decode},
            "provider": predictor.provider}


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (413) before reading past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    too_big = RequestError(413, "body", f"the request body is larger than this server's limit of "
                           f"{limit} bytes (--max-body-bytes): send fewer rows per request.")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(models: dict[str, Any], settings: ServeSettings | None = None) -> Starlette:
    """A Starlette app serving ``models`` (name → loaded ``Predictor``)."""
    settings = settings or ServeSettings()
    state = State(models, settings)
    timeout_s = settings.timeout_ms / 1000
    requests = {n: {} for n in models}
    latency = {n: state.metrics.latency.labels(n) for n in models}

    def count(model: str, status: int) -> None:
        child = requests.get(model, {}).get(status)
        if child is None:
            child = state.metrics.requests.labels(model if model in models else "-", str(status))
            requests.setdefault(model, {})[status] = child
        child.inc()

    async def predict(request: Request) -> Response:
        start = time.perf_counter()
        name = request.path_params["name"]
        status = 200
        try:
            if name not in models:
                raise RequestError(404, "model", f"no model named {name!r}; this server has "
                                   f"{', '.join(map(repr, models))} (GET /v1/models lists them).")
            body = await _read_body(request, settings.max_body_bytes)
            if settings.canned:
                return Response(state.canned[name], media_type="application/json")
            arrays, rows = check_request(parse_json(body), models[name], name, settings.max_rows)
            if rows == 0:
                predictions: list[dict] = []
            else:
                predictions = await state.batchers[name].submit(arrays, rows, timeout_s)
            return Response(json.dumps({"model": name, "predictions": predictions}),
                            media_type="application/json")
        except RequestError as err:
            status = err.status
            return _error(err)
        except QueueFull:
            status = 503
            return _error(RequestError(503, "model", f"model {name!r} has {settings.max_queue} "
                                       "requests waiting (--max-queue); retry shortly."),
                          headers={"Retry-After": "1"})
        except DeadlineExceeded:
            status = 504
            return _error(RequestError(504, "model", f"no prediction from model {name!r} within "
                                       f"{settings.timeout_ms:g} ms (--timeout-ms); the server is "
                                       "overloaded: retry later or add processes."))
        except ClientDisconnect:
            status = 499
            return Response(status_code=499)
        except Exception as exc:  # noqa: BLE001 - a bug: answer 500 and keep serving
            status = 500
            return _error(RequestError(500, "model", f"internal error ({type(exc).__name__}: "
                                       f"{str(exc)[:200]}); this is a bug in mtkit, please report "
                                       "it."))
        finally:
            count(name, status)
            if name in latency and status == 200:
                latency[name].observe(time.perf_counter() - start)

    async def list_models(request: Request) -> Response:
        return JSONResponse({"models": [_describe(n, p) for n, p in models.items()]})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if state.ready and not state.draining:
            return JSONResponse({"status": "ready", "models": list(models)})
        why = "draining (shutting down)" if state.draining else "starting"
        return JSONResponse({"status": why}, status_code=503)

    async def metrics(request: Request) -> Response:
        for n, b in state.batchers.items():
            state.metrics.queue_depth.labels(n).set(b.depth)
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    async def not_found(request: Request, exc: HTTPException) -> Response:
        field = "path" if exc.status_code == 404 else "method"
        return _error(RequestError(exc.status_code, field, f"{request.method} {request.url.path}: "
                                   f"{exc.detail}; the API is POST /v1/models/NAME:predict, GET "
                                   "/v1/models, /healthz, /readyz and /metrics."))

    @asynccontextmanager
    async def lifespan(app: Starlette):
        for n, p in models.items():
            b = Batcher(n, p, state.metrics, max_batch_size=settings.max_batch_size,
                        max_delay_s=settings.max_delay_ms / 1000, max_queue=settings.max_queue,
                        batching=settings.batching)
            b.start()
            state.batchers[n] = b
            if settings.canned:  # a real prediction of one all-zero row, answered as is
                import numpy as np

                zero = {k: np.zeros((1, *v["shape"]), v["dtype"]) for k, v in p.inputs.items()}
                state.canned[n] = json.dumps({"model": n, "predictions": p.predict(zero)}).encode()
        state.ready = True
        yield
        state.ready = False
        for b in state.batchers.values():
            await b.stop()

    routes = [Route("/v1/models/{name}" + PREDICT_SUFFIX, predict, methods=["POST"]),
              Route("/v1/models", list_models, methods=["GET"]),
              Route("/healthz", healthz, methods=["GET"]),
              Route("/readyz", readyz, methods=["GET"]),
              Route("/metrics", metrics, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: not_found})
    app.state.serve = state
    return app
