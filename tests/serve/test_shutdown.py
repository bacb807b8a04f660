"""SIGTERM drains: requests already in flight are answered (200, right predictions), the
listening socket closes, and the process exits 0 saying it stopped."""

from __future__ import annotations

import threading
import time

import httpx

from mtkit.runtime import Predictor
from tests.export.fixtures import features
from tests.serve.live import LiveServer, model_arg


def test_sigterm_answers_in_flight_requests_then_exits_0(exported_model):
    server = LiveServer(model_arg(exported_model), "--max-delay-ms", "2500")
    xs = [features(2, seed=40 + i) for i in range(4)]
    expected = [Predictor(exported_model).predict(x) for x in xs]
    results: list = [None] * len(xs)

    def send(i: int) -> None:
        results[i] = server.predict("tiny", {"inputs": xs[i].tolist()})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while server.metric("mtkit_serve_queue_depth", model="tiny") < len(xs):
        assert time.monotonic() < deadline, "the requests never reached the queue"
        time.sleep(0.02)
    server.terminate()  # all four are waiting out the 2.5 s batching delay
    for t in threads:
        t.join(30)
    assert [r.status_code for r in results] == [200] * 4
    assert [r.json()["predictions"] for r in results] == expected
    assert server.proc.wait(30) == 0, server.output
    assert server.stop() == 0
    assert "stopped (in-flight requests drained)" in server.output
    assert "Traceback" not in server.output
    try:
        httpx.get(server.url + "/healthz", timeout=2)
        raise AssertionError("the server still accepts connections after SIGTERM")
    except httpx.TransportError:
        pass
