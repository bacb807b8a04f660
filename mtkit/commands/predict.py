"""``mtkit predict MODEL.onnx INPUT...``: decoded predictions as JSON lines, without TensorFlow."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from mtkit.commands._common import check_path_text, run_guarded


def check_output(out: Path, model: Path, inputs: list[Path]) -> None:
    """``--out`` may replace only an earlier predictions file: never the model, an input,
    a folder, or a file of another kind."""
    from mtkit.errors import MtkitError

    if out.is_dir():
        raise MtkitError(f"--out '{out}' is a folder; give a file name such as "
                         f"{out / 'predictions.jsonl'}.")
    if not out.exists():
        return
    used = [model, *inputs]
    used += [q for p in inputs if p.is_dir() for q in p.iterdir()]
    for p in used:
        try:
            same = p.exists() and out.samefile(p)
        except OSError:
            same = False
        if same:
            what = "the model" if p == model else "one of the inputs"
            raise MtkitError(f"--out '{out}' is {what} ('{p}'); predictions would replace it. "
                             "Choose another --out. Nothing was changed.")
    with out.open("rb") as f:
        head = f.read(10)
    if head and head != b'{"source":':
        raise MtkitError(f"--out '{out}' exists and is not an mtkit predictions file (JSON lines "
                         "starting with {\"source\": ...}); predict replaces only its own "
                         "output. Move it away or choose another --out. Nothing was changed.")


def _predict_parquet(predictor, path: Path, out: Path | None, chunk_rows: int) -> None:
    """A table model over a Parquet file of any size: read ``chunk_rows`` rows, predict,
    write their lines, repeat. ``--out`` is written to a temporary file renamed at the end,
    so a failure part way leaves any earlier predictions file as it was."""
    import os
    import tempfile

    from mtkit.tabular.readers import parquet_chunks

    tmp = None
    if out is not None:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp",
                                    dir=out.parent if str(out.parent) else ".")
        tmp = Path(name)
        stream = os.fdopen(fd, "w", encoding="utf-8")
    else:
        stream = sys.stdout
    rows = 0
    try:
        for table in parquet_chunks(str(path), chunk_rows):
            preds = predictor.predict(table)
            stream.write("".join(json.dumps({"source": f"{path}[{table.row_offset + i}]", **r})
                                 + "\n" for i, r in enumerate(preds)))
            rows += len(preds)
        if tmp is not None:
            stream.close()
            os.replace(tmp, out)
            tmp = None
            typer.echo(f"wrote {rows} predictions to {out}", err=True)
    finally:
        if tmp is not None:
            stream.close()
            tmp.unlink(missing_ok=True)


def predict(
    model: Annotated[Path, typer.Argument(help="An .onnx file written by `mtkit export`.")],
    inputs: Annotated[list[Path], typer.Argument(
        help="One .npz (arrays named like the inputs), one .csv (feature columns), or image "
             "files / a folder of images; a table model: one .csv, .parquet or .jsonl of raw "
             "rows.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write JSON lines here (default: standard output).")] = None,
    provider: Annotated[str, typer.Option(help="auto, cpu, cuda or tensorrt.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Rows per onnxruntime call.")] = 256,
    scale: Annotated[float, typer.Option(help="Images: pixel value multiplier.")] = 1 / 255,
    chunk_rows: Annotated[int, typer.Option(
        min=1, help="A table model on a Parquet file: rows read, predicted and written at a "
                    "time (memory stays bounded whatever the file's size).")] = 65536,
) -> None:
    """Predict with an exported model; one JSON object per example, decoded per task."""

    def go() -> None:
        from mtkit import rundir
        from mtkit.runtime import Predictor
        from mtkit.runtime.loaders import load_inputs

        check_path_text(model, "model")
        for p in inputs:
            check_path_text(p, "input")
        check_path_text(out, "--out")
        if out is not None:
            check_output(out, model, inputs)
        predictor = Predictor(model, provider=provider, batch_size=batch_size)
        if predictor.meta.tabular is not None and len(inputs) == 1 and \
                inputs[0].suffix.lower() in (".parquet", ".pq"):
            _predict_parquet(predictor, inputs[0], out, chunk_rows)  # bounded memory
            return
        arrays, sources = load_inputs(inputs, predictor.inputs, predictor.tasks, scale,
                                      tabular=predictor.meta.tabular is not None)
        rows = predictor.predict(arrays)
        lines = "".join(json.dumps({"source": s, **r}) + "\n" for s, r in zip(sources, rows,
                                                                               strict=True))
        if out is None:
            sys.stdout.write(lines)
        else:
            rundir.write_text(out, lines)
            typer.echo(f"wrote {len(rows)} predictions to {out}", err=True)

    run_guarded(go)
