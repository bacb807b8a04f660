"""Safe loading: YAML only through safe_load, Keras models only in safe mode (a Lambda with
Python code is refused by ``mtkit export`` and never runs), numpy without pickles, and
plugins only from installed distributions, filtered by MTKIT_DISABLE_PLUGINS (block list)
and MTKIT_LOAD_PLUGINS (allow list) as in pytest and llm."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import ROOT, assert_clean_error, run_cli
from tests.hardening.corpus import BASE, changed, fake_run, write


def _sources(include_tests: bool) -> list[Path]:
    roots = [ROOT / "mtkit", *(ROOT / "plugins").glob("*/src")]
    if include_tests:
        roots += [*(ROOT / "plugins").glob("*/tests")]
    return [p for r in roots for p in r.rglob("*.py") if "build" not in p.relative_to(ROOT).parts]


def _calls(name: str, text: str) -> list[str]:
    """The argument text of every ``name(`` call (up to the matching parenthesis)."""
    found = []
    for m in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        found.append(text[m.end():i - 1])
    return found


def test_no_unsafe_loader_in_the_code():
    unsafe = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\(|yaml\.(Unsafe|Full)?Loader\b"
                        r"|safe_mode\s*=\s*False|enable_unsafe_deserialization|allow_pickle\s*=\s*True"
                        r"|pickle\.loads?\(")
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in _sources(include_tests=True)
                 for m in unsafe.finditer(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders
    loads = {p: p.read_text(encoding="utf-8") for p in _sources(include_tests=False)}
    keras_loads = [(p, a) for p, t in loads.items() for a in _calls("load_model", t)]
    assert keras_loads, "no Keras model loading found: the check looks in the wrong place"
    assert all("safe_mode=True" in a for _, a in keras_loads), keras_loads
    np_loads = [(p, a) for p, t in loads.items() for a in _calls("np.load", t)]
    assert np_loads and all("allow_pickle=False" in a for _, a in np_loads), np_loads
    assert any("yaml.safe_load(" in t for t in loads.values())


def test_export_refuses_a_keras_model_holding_python_code(tmp_path):
    from mtkit.tf_import import import_tensorflow

    import_tensorflow()
    import keras

    marker = tmp_path / "code-ran"
    # a lambda is stored as bytecode: loading it unsafely would run it (and touch the marker)
    code = keras.layers.Lambda(
        lambda t, path=str(marker): (__import__("pathlib").Path(path).touch(), t * 2.0)[1],
        name="python_code")
    inputs = keras.Input((3,), name="features")
    kind = keras.layers.Dense(3, activation="softmax", name="kind")(code(inputs))
    model = keras.Model(inputs, {"kind": kind})
    run = fake_run(tmp_path)
    model.save(run / "model.keras")
    assert marker.exists()
    marker.unlink()
    proc = run_cli("export", str(run), "--onnx")
    assert_clean_error(proc, f"{run / 'model.keras'}' holds Python code", "Lambda", "safe mode")
    assert not marker.exists(), "the model's Python code ran"
    assert not (run / "model.onnx").exists()


def _plugins(env: dict[str, str]) -> dict[str, str]:
    proc = run_cli("plugins", "--json", env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return {f"{e['kind']}:{e['provider']}:{e['name']}": e["status"] for e in json.loads(proc.stdout)}


def test_broken_packages_are_listed_not_fatal(troubled_plugins_env):
    listed = _plugins(troubled_plugins_env)
    status = {k.split(":")[1]: v for k, v in listed.items() if k.startswith("package:")}
    assert status["mtkit-broken-plugin"].startswith("broken: import failed: ModuleNotFoundError")
    assert "unknown hook 'register_hedas'" in status["mtkit-unknownhook-plugin"]
    assert "which is not a subclass of mtkit.Loss" in status["mtkit-wrongtype-plugin"]
    assert listed["head:mtkit-collide-plugin:classification"] == "ok"


def test_block_list_and_allow_list(tmp_path, troubled_plugins_env):
    env = troubled_plugins_env
    blocked = _plugins({**env, "MTKIT_DISABLE_PLUGINS": "mtkit-collide-plugin, broken"})
    providers = {k.split(":")[1] for k in blocked}
    assert "mtkit-collide-plugin" not in providers and "mtkit-broken-plugin" not in providers
    assert {"mtkit-unknownhook-plugin", "mtkit-wrongtype-plugin"} <= providers
    allowed = _plugins({**env, "MTKIT_LOAD_PLUGINS": "collide"})
    assert {k.split(":")[1] for k in allowed} == {"mtkit", "mtkit-collide-plugin"}

    # through `mtkit train`: with the colliding package blocked the config plans, and the run
    # stops at the data (a missing file) instead of at the name collision
    cfg = write(tmp_path, changed("data", {"dataset": "npz", "path": str(tmp_path / "no.npz")}))
    proc = run_cli("train", cfg, "--out", str(tmp_path / "run"), env=env)
    assert_clean_error(proc, "offered by two packages")
    for var, value in (("MTKIT_DISABLE_PLUGINS", "mtkit-collide-plugin"),
                       ("MTKIT_LOAD_PLUGINS", "mtkit-broken-plugin")):
        proc = run_cli("train", cfg, "--out", str(tmp_path / "run"), env={**env, var: value})
        assert_clean_error(proc, "no.npz' does not exist")


def test_plugins_come_only_from_installed_distributions(tmp_path, example_plugin_env):
    loose = tmp_path / "loose"
    (loose / "mtkit_loose_plugin").mkdir(parents=True)
    (loose / "mtkit_loose_plugin" / "__init__.py").write_text(
        "import mtkit\n\n\nclass Loose(mtkit.Trunk):\n    name = 'loose'\n\n\n"
        "@mtkit.hookimpl\ndef register_trunks(register):\n    register(Loose)\n")
    env = {"PYTHONPATH": f"{example_plugin_env['PYTHONPATH']}:{loose}"}
    names = {k.split(":", 2)[2] for k in _plugins(env)}
    assert "tiny" in names  # the installed fixture distribution (entry point) is loaded
    assert "loose" not in names  # an importable module without a distribution is not
    cfg = write(tmp_path, changed("trunk", {"type": "loose"}, BASE))
    assert_clean_error(run_cli("train", cfg, env=env), "unknown trunk 'loose'")
