"""Run the app under uvicorn: load and warm the models, bind, serve, drain on SIGTERM.

On SIGTERM (or Ctrl-C) ``/readyz`` turns 503 at once, uvicorn stops accepting
connections and waits up to ``drain_timeout_s`` for in-flight requests to be answered,
then the batchers finish and the process exits 0. uvicorn re-raises the signal after a
graceful stop; a no-op handler installed first takes it, so a drained stop is a clean exit.
"""

from __future__ import annotations

import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from mtkit.errors import MtkitError
from mtkit.serve.settings import ServeSettings


def model_names(specs: list[str]) -> dict[str, Path]:
    """``PATH`` or ``NAME=PATH`` → {name: path}; the name defaults to the file's stem (its
    folder's name for an exported run's ``model.onnx``)."""
    out: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep:
            path, p = spec, Path(spec)
            name = p.parent.name if p.stem == "model" and p.parent.name else p.stem
        if not name or any(c in name for c in "/: ") or not path:
            raise MtkitError(f"model {spec!r}: give PATH or NAME=PATH, with a NAME of letters, "
                             "digits, '-', '_' or '.' (no '/', ':' or spaces).")
        if name in out:
            raise MtkitError(f"two models are named {name!r} ({out[name]} and {path}); name them "
                             "apart with NAME=PATH.")
        out[name] = Path(path)
    return out


def load_models(paths: dict[str, Path], provider: str, threads: int | None) -> dict[str, Any]:
    """Load each model with ``Predictor`` and run one row through it (first-call costs are
    paid before the server reports ready)."""
    import numpy as np

    from mtkit.runtime import Predictor

    models = {}
    for name, path in paths.items():
        p = Predictor(path, provider=provider, threads=threads)
        p.predict({k: np.zeros((1, *v["shape"]), v["dtype"]) for k, v in p.inputs.items()})
        models[name] = p
    return models


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), refused with a clear message when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MtkitError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port "
                         "or stop what is using it.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(specs: list[str], host: str, port: int, settings: ServeSettings, provider: str = "auto",
          threads: int | None = None, log_level: str = "warning") -> None:
    """Load the models and serve them until SIGTERM / Ctrl-C."""
    problems = settings.problems()
    if problems:
        raise MtkitError("; ".join(problems) + ".")
    t0 = time.perf_counter()
    models = load_models(model_names(specs), provider, threads)
    import uvicorn

    from mtkit.serve.app import create_app

    app = create_app(models, settings)
    state = app.state.serve

    class DrainingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            state.draining = True
            super().handle_exit(sig, frame)

    sock = bind(host, port)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=settings.drain_timeout_s,
                            timeout_keep_alive=30)
    server = DrainingServer(config)
    for sig in (signal.SIGTERM, signal.SIGINT):  # takes uvicorn's re-raised signal (see above)
        signal.signal(sig, lambda *_: None)
    bound = sock.getsockname()
    shown = f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0]
    batching = (f"up to {settings.max_batch_size} rows / {settings.max_delay_ms:g} ms"
                if settings.batching else "off")
    print(f"mtkit serve: {', '.join(models)} on http://{shown}:{bound[1]} (loaded in "
          f"{time.perf_counter() - t0:.2f} s; batching {batching})", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
    print("mtkit serve: stopped (in-flight requests drained)", file=sys.stderr, flush=True)

