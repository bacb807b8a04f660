"""Prometheus metrics of one server process, with the official client library.

Each app gets its own ``CollectorRegistry`` (not the global one), so several apps in one
process (tests, benchmarks) never mix their counts. ``batch_requests`` is how a scrape
sees dynamic batching at work: its mean above 1 means requests were merged.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1.0, 2.5, 5.0, 10.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The server's counters, histograms and gauges (all prefixed ``mtkit_serve_``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("mtkit_serve_requests", "Predict requests by model and HTTP status.",
                                ["model", "status"], registry=r)
        self.latency = Histogram("mtkit_serve_request_seconds", "Predict request latency, "
                                 "body read to response.", ["model"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.batch_rows = Histogram("mtkit_serve_batch_rows", "Rows per onnxruntime call.",
                                    ["model"], buckets=SIZE_BUCKETS, registry=r)
        self.batch_requests = Histogram("mtkit_serve_batch_requests", "Requests merged into "
                                        "one onnxruntime call.", ["model"], buckets=SIZE_BUCKETS,
                                        registry=r)
        self.inference = Histogram("mtkit_serve_inference_seconds", "Time of one batched "
                                   "onnxruntime call plus decoding.", ["model"],
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.queue_depth = Gauge("mtkit_serve_queue_depth", "Requests waiting for an "
                                 "onnxruntime call.", ["model"], registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
