"""``mtkit serve`` as a command: no TensorFlow anywhere in the server, nothing heavy at CLI
import time, and mistakes on the command line are one clear paragraph with exit 2."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.conftest import assert_clean_error, run_cli
from tests.runtime.test_tf_free import BLOCK

SERVER_IMPORTS = BLOCK + """
import json
from mtkit.serve.server import load_models, model_names
from mtkit.serve.app import create_app
import uvicorn, starlette, prometheus_client
app = create_app(load_models(model_names([sys.argv[1]]), "auto", None))
banned = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx")
                or m.startswith(("mtkit.training", "mtkit.export", "mtkit.assembly")))
print(json.dumps(banned))
"""

CLI_IMPORTS = """
import json, sys
import mtkit.cli
heavy = ("starlette", "uvicorn", "prometheus_client", "onnxruntime", "numpy", "tensorflow")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120)


def test_server_imports_no_tensorflow(exported_model):
    proc = _python(SERVER_IMPORTS, str(exported_model))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_cli_import_stays_light():
    proc = _python(CLI_IMPORTS)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_missing_model_file(tmp_path):
    assert_clean_error(run_cli("serve", str(tmp_path / "nope.onnx"), "--port", "0"),
                       "nope.onnx", "does not exist")


def test_bad_options_and_duplicate_names(exported_model):
    assert_clean_error(run_cli("serve", str(exported_model), "--max-batch-size", "0"),
                       "--max-batch-size must be at least 1")
    assert_clean_error(run_cli("serve", f"a={exported_model}", f"a={exported_model}"),
                       "two models are named 'a'")


def test_port_in_use(exported_model):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert_clean_error(run_cli("serve", str(exported_model), "--port", str(port)),
                           f"cannot listen on 127.0.0.1:{port}")
