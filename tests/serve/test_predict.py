"""A live server answers exactly what ``Predictor`` does, lists its models, reports health,
and refuses every kind of bad request with a 4xx JSON error naming the field, without
disturbing the good requests sent alongside."""

from __future__ import annotations

import json

import pytest

from mtkit.runtime import Predictor
from tests.export.fixtures import features
from tests.serve.live import LiveServer, concurrently, model_arg

MAX_ROWS = 50
MAX_BODY = 40_000


@pytest.fixture(scope="module")
def server(exported_model):
    s = LiveServer(model_arg(exported_model), model_arg(exported_model, "other"),
                   "--max-rows", str(MAX_ROWS), "--max-body-bytes", str(MAX_BODY),
                   "--max-delay-ms", "5")
    yield s
    s.stop()


def test_predictions_equal_predictor(server, exported_model):
    x = features(7, seed=3)
    expected = Predictor(exported_model).predict(x)
    r = server.predict("tiny", {"inputs": x.tolist()})
    assert r.status_code == 200, r.text
    assert r.json() == {"model": "tiny", "predictions": expected}
    named = server.predict("tiny", {"inputs": {"features": x.tolist()}})
    assert named.json()["predictions"] == expected
    assert server.predict("tiny", {"inputs": []}).json()["predictions"] == []
    other = server.predict("other", {"inputs": x.tolist()}).json()
    assert other == {"model": "other", "predictions": expected}


def test_models_health_and_readiness(server, exported_model):
    models = server.get("/v1/models").json()["models"]
    assert [m["name"] for m in models] == ["tiny", "other"]
    p = Predictor(exported_model)
    assert models[0]["inputs"] == p.inputs
    assert list(models[0]["tasks"]) == p.tasks
    assert models[0]["tasks"]["segment"]["labels"] == ["low", "mid", "high"]
    assert models[0]["metadata"]["precision"] == "fp32"
    assert server.get("/healthz").json() == {"status": "ok"}
    assert server.get("/readyz").status_code == 200


ROW = [0.5] * 8
BAD = {
    "invalid JSON": (dict(content=b'{"inputs": [[1, 2'), 400, "body", "not valid JSON"),
    "not an object": (dict(body=[ROW]), 400, "body", "not an object"),
    "unknown field": (dict(body={"inputs": [ROW], "instances": [ROW]}), 400, "instances",
                      "unknown field"),
    "no inputs": (dict(body={}), 400, "inputs", "has no 'inputs'"),
    "inputs a number": (dict(body={"inputs": 3}), 400, "inputs", "'inputs' is a JSON int"),
    "wrong width": (dict(body={"inputs": [[1.0] * 7]}), 400, "inputs.features", "(batch, 8)"),
    "ragged row": (dict(body={"inputs": [ROW, ROW[:5]]}), 400, "inputs.features",
                   "inputs.features[1] has shape (5,)"),
    "one row without batch axis": (dict(body={"inputs": ROW}), 400, "inputs.features",
                                   "without the batch axis"),
    "text value": (dict(body={"inputs": [["x"] + ROW[1:]]}), 400, "inputs.features", "dtype"),
    "null value": (dict(body={"inputs": [[None] + ROW[1:]]}), 400, "inputs.features", "dtype"),
    "NaN": (dict(content=b'{"inputs": [[NaN, 1, 2, 3, 4, 5, 6, 7]]}'), 400, "inputs.features",
            "NaN or infinite"),
    "Infinity": (dict(content=b'{"inputs": [[Infinity, 1, 2, 3, 4, 5, 6, 7]]}'), 400,
                 "inputs.features", "NaN or infinite"),
    "nested too deeply": (dict(content=b'{"inputs": ' + b"[" * 15000 + b"]" * 15000 + b"}"), 400,
                          "body", "too deeply"),
    "unknown input name": (dict(body={"inputs": {"feats": [ROW]}}), 400, "inputs",
                           "unknown 'feats'"),
    "too many rows": (dict(body={"inputs": [ROW] * (MAX_ROWS + 1)}), 413, "inputs",
                      f"at most {MAX_ROWS}"),
    "body too large": (dict(content=b'{"inputs": [' + b" " * MAX_BODY + b"]}"), 413, "body",
                       f"limit of {MAX_BODY} bytes"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_request_gets_4xx_naming_the_field(server, case):
    kwargs, status, field, needle = BAD[case]
    r = server.predict("tiny", **kwargs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["field"] == field and err["status"] == status
    assert needle in err["message"], err["message"]


def test_unknown_model_path_and_method(server):
    r = server.predict("nope", {"inputs": [ROW]})
    assert r.status_code == 404 and r.json()["error"]["field"] == "model"
    assert "'tiny', 'other'" in r.json()["error"]["message"]
    r = server.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["field"] == "path"
    r = server.get("/v1/models/tiny:predict")
    assert r.status_code == 405 and r.json()["error"]["field"] == "method"


def test_bad_requests_never_hurt_their_neighbours(server, exported_model):
    xs = [features(2, seed=10 + i) for i in range(6)]
    expected = [Predictor(exported_model).predict(x) for x in xs]
    good = [lambda x=x: server.predict("tiny", {"inputs": x.tolist()}) for x in xs]
    bad = [lambda: server.predict("tiny", content=b'{"inputs": [[NaN, 1, 2, 3, 4, 5, 6, 7]]}'),
           lambda: server.predict("tiny", {"inputs": [[1.0] * 3]}),
           lambda: server.predict("tiny", content=b"{oops")]
    results = concurrently(good[:3] + bad + good[3:])
    answers = results[:3] + results[6:]
    assert [r.status_code for r in answers] == [200] * 6
    assert [r.json()["predictions"] for r in answers] == expected
    assert [r.status_code for r in results[3:6]] == [400, 400, 400]
    assert server.proc.poll() is None


def test_metrics_count_requests_by_status(server):
    before_ok = server.metric("mtkit_serve_requests_total", model="tiny", status="200")
    before_bad = server.metric("mtkit_serve_requests_total", model="tiny", status="400")
    server.predict("tiny", {"inputs": [ROW]})
    server.predict("tiny", {"inputs": [ROW[:2]]})
    assert server.metric("mtkit_serve_requests_total", model="tiny", status="200") == before_ok + 1
    assert server.metric("mtkit_serve_requests_total", model="tiny", status="400") == before_bad + 1
    assert server.metric("mtkit_serve_request_seconds_count", model="tiny") >= before_ok + 1
    assert server.metric("mtkit_serve_queue_depth", model="tiny") == 0
    text = server.get("/metrics").text
    for name in ("mtkit_serve_batch_rows", "mtkit_serve_batch_requests",
                 "mtkit_serve_inference_seconds"):
        assert f"# TYPE {name} histogram" in text
    json.loads(server.get("/v1/models").text)  # still answering
