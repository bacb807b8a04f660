"""``mtkit serve``: exported models behind HTTP, with dynamic batching on onnxruntime.

Small modules, one job each: ``settings`` (the limits), ``validate`` (a request body →
checked arrays, or a 4xx naming the field), ``batcher`` (concurrent requests → one
onnxruntime call → split back), ``metrics`` (Prometheus), ``app`` (the Starlette routes)
and ``server`` (uvicorn, readiness and graceful SIGTERM). Like ``mtkit.runtime`` it never
imports TensorFlow, and nothing here is imported by ``mtkit --help``.
"""
