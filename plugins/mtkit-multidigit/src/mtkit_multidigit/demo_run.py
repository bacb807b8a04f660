"""``make demo``: train the multi-digit demo, export it to ONNX, and read a few test numbers.

Three steps, each printed as it happens: (1) ``mtkit train`` on the demo config of the
``multidigit`` dataset plugin (this package) into ``runs/demo``; (2) ONNX
export with its TensorFlow↔onnxruntime parity check, when ``mtkit.export`` is installed;
(3) predictions for a handful of unseen test images, drawn as text, with the number the
model reads beside the truth. Run ``python -m mtkit_multidigit.demo_run --help`` for the options.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mtkit.errors import MtkitError

SHADES = " .:-=+*#%@"


def demo_config() -> Path:
    """The ``multidigit`` dataset's packaged demo config (``demo.yaml`` in this package)."""
    from mtkit_multidigit.multidigit import DEMO_CONFIG

    return DEMO_CONFIG


def draw(image: np.ndarray) -> list[str]:
    """A grey-level image as lines of text (one character per pixel, darker = denser)."""
    x = np.asarray(image, dtype=np.float64)
    if x.ndim == 3:
        x = x.mean(axis=-1)
    lo, hi = float(x.min()), float(x.max())
    levels = np.zeros_like(x) if hi <= lo else (x - lo) / (hi - lo)
    idx = np.clip((levels * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return ["".join(SHADES[i] for i in row) for row in idx]


def true_numbers(spec: dict[str, Any], labels: dict[str, np.ndarray]) -> list[str]:
    """The labelled numbers as strings (a trailing + for the overflow length class)."""
    out = []
    for row, n in enumerate(np.asarray(labels[spec["length"]]).reshape(-1)):
        digits = [int(labels[d][row]) for d in spec["digits"][: int(n)]]
        over = spec.get("overflow_class") is not None and int(n) == spec["overflow_class"]
        out.append("".join(map(str, digits)) + ("+" if over else ""))
    return out


def keras_numbers(model: Any, spec: dict[str, Any],
                  inputs: dict[str, np.ndarray]) -> list[tuple[str, float | None]]:
    """(number, confidence) read by the trained Keras model (when ONNX export is absent)."""
    from mtkit.training.evaluate import predict_arrays

    raw = predict_arrays(model, inputs)
    if importlib.util.find_spec("mtkit.runtime") is not None:
        from mtkit_multidigit.decode import decode_digit_sequence

        return [(r["number"], r["probability"]) for r in decode_digit_sequence(spec, raw)]
    lengths = np.argmax(raw[spec["length"]], axis=-1)
    return [("".join(str(int(np.argmax(raw[d][row]))) for d in spec["digits"][: int(n)]), None)
            for row, n in enumerate(lengths)]


def export_onnx(run: Path) -> Path | None:
    """Export ``run`` with the parity check; None when ``mtkit.export`` is not installed."""
    if importlib.util.find_spec("mtkit.export") is None:
        return None
    from mtkit.export import export_run

    result = export_run(run)
    rows = result.report.get("parity", {}).get("tasks", [])
    errs = [r["max_abs"] for r in rows if isinstance(r, dict) and "max_abs" in r]
    detail = f", max |TF - onnxruntime| = {max(errs):.1e}" if errs else ""
    print(f"  exported {result.path} (parity passed{detail}; report {result.report_path})")
    return Path(result.path)


def onnx_numbers(path: Path, inputs: dict[str, np.ndarray]) -> list[tuple[str, float | None]]:
    """(number, confidence) read by the exported model in onnxruntime (no TensorFlow)."""
    from mtkit.runtime import Predictor

    rows = Predictor(path, provider="cpu").predict(inputs)
    return [(r["sequence"]["number"], r["sequence"].get("probability")) for r in rows]


def run_demo(out: Path, overrides: list[str], show: int, quiet: bool) -> None:
    import mtkit
    from mtkit.api import plan
    from mtkit.dataprep import prepare

    config = demo_config()
    t0 = time.perf_counter()
    print(f"[1/3] training the multi-digit demo ({config.name}) into {out}", flush=True)
    result = mtkit.train(config, out=out, overrides=overrides, overwrite=True, quiet=quiet)
    seq = result.metrics.get("dataset", {})
    if seq:
        print(f"  test: sequence accuracy {seq['sequence_accuracy']:.2%}, per-digit accuracy "
              f"{seq['per_digit_accuracy']:.2%} ({seq['sequences']} unseen numbers, "
              f"{time.perf_counter() - t0:.0f} s)", flush=True)

    print("[2/3] exporting to ONNX", flush=True)
    onnx_path = export_onnx(result.run_dir)
    if onnx_path is None:
        print("  skipped: mtkit.export is not installed; predicting with the Keras model")

    print(f"[3/3] reading {show} unseen test numbers", flush=True)
    p = plan(config, overrides)
    splits, _ = prepare(p)  # same config and seed: the run's own test split
    test = splits.test.take(np.arange(min(show, len(splits.test))))
    spec = p.dataset.decode_spec()
    truth = true_numbers(spec, test.labels)
    if onnx_path is not None:
        read, engine = onnx_numbers(onnx_path, test.inputs), "onnxruntime"
    else:
        read, engine = keras_numbers(result.model, spec, test.inputs), "keras"
    (name, images), = test.inputs.items()
    right = 0
    for i, (want, (got, prob)) in enumerate(zip(truth, read, strict=True)):
        ok = want == got
        right += ok
        lines = draw(images[i])
        mid = len(lines) // 2
        conf = f" (confidence {prob:.3f})" if prob is not None else ""
        for j, line in enumerate(lines):
            note = (f"   truth {want:<6} read {got:<6} {'ok' if ok else 'WRONG'}{conf}"
                    if j == mid else "")
            print(f"  |{line}|{note}")
        print()
    print(f"{right}/{len(truth)} read correctly by {engine}; run files in {result.run_dir}, total "
          f"{time.perf_counter() - t0:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mtkit_multidigit.demo_run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="run directory "
                        "(replaced if it exists; default runs/demo)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="override a config field, e.g. --set train.epochs=2 (repeatable)")
    parser.add_argument("--show", type=int, default=6, help="test images to read (default 6)")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch training output")
    args = parser.parse_args(argv)
    try:
        run_demo(args.out, args.overrides, max(1, args.show), args.quiet)
    except MtkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
