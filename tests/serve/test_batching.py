"""Dynamic batching, seen from outside: concurrent requests are merged into fewer
onnxruntime calls (counted in /metrics) and each still gets exactly its own rows'
predictions; ``--no-batching`` runs one call per request; a full queue answers 503 with
Retry-After and a missed deadline 504, and the server keeps serving."""

from __future__ import annotations

import pytest

from mtkit.runtime import Predictor
from tests.export.fixtures import features
from tests.serve.live import LiveServer, concurrently, model_arg

ROW = [0.25] * 8


def _calls(server: LiveServer) -> tuple[float, float, float]:
    """(onnxruntime calls, requests in them, rows in them) from /metrics."""
    return (server.metric("mtkit_serve_batch_requests_count", model="tiny"),
            server.metric("mtkit_serve_batch_requests_sum", model="tiny"),
            server.metric("mtkit_serve_batch_rows_sum", model="tiny"))


@pytest.mark.parametrize("batching", [True, False], ids=["batching", "no-batching"])
def test_concurrent_requests_merge_only_with_batching(exported_model, batching):
    flags = ["--max-delay-ms", "1000"] if batching else ["--no-batching"]
    server = LiveServer(model_arg(exported_model), *flags)
    try:
        xs = [features(1 + i % 3, seed=20 + i) for i in range(8)]
        expected = [Predictor(exported_model).predict(x) for x in xs]
        results = concurrently([lambda x=x: server.predict("tiny", {"inputs": x.tolist()})
                                for x in xs])
        assert [r.status_code for r in results] == [200] * 8
        assert [r.json()["predictions"] for r in results] == expected
        calls, requests, rows = _calls(server)
        assert requests == 8 and rows == sum(len(x) for x in xs)
        if batching:
            assert calls <= 4, f"8 concurrent requests took {calls} onnxruntime calls"
        else:
            assert calls == 8
    finally:
        assert server.stop() == 0, server.output


def test_full_queue_503_and_deadline_504(exported_model):
    # Two may wait; the batcher holds them 4 s for company, past their 1.5 s deadline.
    server = LiveServer(model_arg(exported_model), "--max-queue", "2", "--max-delay-ms", "4000",
                        "--timeout-ms", "1500")
    try:
        results = concurrently([lambda: server.predict("tiny", {"inputs": [ROW]})] * 5)
        assert sorted(r.status_code for r in results) == [503, 503, 503, 504, 504]
        for r in results:
            err = r.json()["error"]
            assert err["field"] == "model"
            if r.status_code == 503:
                assert r.headers["retry-after"] == "1" and "--max-queue" in err["message"]
            else:
                assert "1500 ms" in err["message"]
        assert server.metric("mtkit_serve_requests_total", model="tiny", status="503") == 3
        assert server.metric("mtkit_serve_requests_total", model="tiny", status="504") == 2
        assert server.get("/healthz").status_code == 200
        assert server.metric("mtkit_serve_queue_depth", model="tiny") == 0
        assert _calls(server)[0] == 0  # timed-out requests were never computed
    finally:
        assert server.stop() == 0, server.output
