"""One request body → checked model arrays, or a 4xx error that names the field.

Everything about the request is settled here, per request and before batching, so a bad
request is answered alone and never reaches (or breaks) the onnxruntime call it would
have shared with its neighbours. Turning rows into arrays is ``Predictor.prepare``'s job
(the same entry point ``Predictor.run`` and ``mtkit predict`` use), so the server accepts
exactly the forms the runtime does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from mtkit.errors import MtkitError

BODY_FIELDS = ("inputs",)
_INPUT_NAME = re.compile(r"input '([^']+)'")


class RequestError(Exception):
    """A request the client can fix: HTTP ``status``, the offending ``field``, a message."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message

    def as_json(self) -> dict[str, Any]:
        return {"error": {"status": self.status, "field": self.field, "message": self.message}}


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object with only known fields."""
    try:
        doc = json.loads(body)
    except RecursionError:
        raise RequestError(400, "body", "the request body nests JSON arrays or objects too "
                           "deeply to be read; rows are lists of numbers, nested only as "
                           "deep as the model's input shape.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno}: {exc.msg})" \
            if isinstance(exc, json.JSONDecodeError) else " (not UTF-8)"
        raise RequestError(400, "body", f"the request body is not valid JSON{where}; send "
                           '{"inputs": [[...], ...]} with Content-Type: application/json.') from None
    if not isinstance(doc, dict):
        raise RequestError(400, "body", f"the request body is a JSON {type(doc).__name__}, not an "
                           'object; send {"inputs": [[...], ...]}.')
    unknown = [k for k in doc if k not in BODY_FIELDS]
    if unknown:
        raise RequestError(400, unknown[0], f"unknown field {unknown[0]!r} in the request body; "
                           f"it takes {', '.join(map(repr, BODY_FIELDS))}.")
    if "inputs" not in doc:
        raise RequestError(400, "inputs", "the request body has no 'inputs': send rows as "
                           '{"inputs": [[...], ...]} (one-input model) or {"inputs": {"NAME": '
                           "[[...], ...]}}.")
    return doc


def count_rows(inputs: Any) -> int | None:
    """Rows in a request, when they can be counted without parsing them (else None)."""
    if isinstance(inputs, list):
        return len(inputs)
    if isinstance(inputs, dict):
        lengths = {len(v) for v in inputs.values() if isinstance(v, list)}
        return max(lengths) if lengths else None
    return None


def _ragged(name: str, rows: Any, want: tuple[int, ...]) -> str | None:
    """Which row of ``rows`` does not have the model's shape (for a readable 400)."""
    if not isinstance(rows, list):
        return None
    for i, row in enumerate(rows):
        try:
            shape = np.shape(row)
        except ValueError:  # the row itself is ragged
            return f"inputs.{name}[{i}] is ragged (its values do not form a {want} array)"
        if shape != want:
            return f"inputs.{name}[{i}] has shape {shape}, but the model wants {want} per row"
    return None


def check_request(doc: dict[str, Any], predictor: Any, model: str, max_rows: int
                  ) -> tuple[dict[str, np.ndarray], int]:
    """``{"inputs": ...}`` → (arrays ready for the model, number of rows)."""
    inputs = doc["inputs"]
    if not isinstance(inputs, list | dict):
        raise RequestError(400, "inputs", f"'inputs' is a JSON {type(inputs).__name__}; send a "
                           'list of rows, or {"NAME": rows} for each model input.')
    rows = count_rows(inputs)
    if rows is not None and rows > max_rows:
        raise RequestError(413, "inputs", f"'inputs' has {rows} rows; this server takes at most "
                           f"{max_rows} per request (--max-rows): split the request.")
    if rows == 0:  # nothing to predict (numpy cannot tell an empty list's row shape)
        return {}, 0
    try:
        arrays = predictor.prepare(inputs, source=f"model '{model}'")
    except MtkitError as exc:
        found = _INPUT_NAME.search(str(exc))
        field = f"inputs.{found.group(1)}" if found else "inputs"
        raise RequestError(400, field, str(exc)) from None
    except (ValueError, TypeError) as exc:  # numpy cannot make one array of the rows
        specs = predictor.inputs
        named = inputs if isinstance(inputs, dict) else {next(iter(specs)): inputs}
        for name, value in named.items():
            if name in specs and (why := _ragged(name, value, tuple(specs[name]["shape"]))):
                raise RequestError(400, f"inputs.{name}", f"{why}.") from None
        raise RequestError(400, "inputs", f"'inputs' cannot be read as arrays ({exc}).") from None
    n = len(next(iter(arrays.values())))
    if n > max_rows:
        raise RequestError(413, "inputs", f"'inputs' has {n} rows; this server takes at most "
                           f"{max_rows} per request (--max-rows): split the request.")
    return arrays, n
