"""``--init-from RUN``: start a new run from a trained run's weights, matched by name.

Weights are matched by layer path (``trunk/conv1_1``, ``digit1_dense0``) and position in
the layer; a weight whose shape differs is skipped. A config with one more task thus
starts its trunk and the old heads from the trained run and trains only the new head
from scratch (freeze the trunk with ``trunk.trainable: false`` to keep it as it was).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtkit import rundir
from mtkit.errors import MtkitError


@dataclass
class WarmStartReport:
    source: str
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "name: shape (here) vs shape (there)"
    new: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "loaded": self.loaded, "skipped": self.skipped,
                "new": self.new}

    def summary(self) -> str:
        return (f"--init-from {self.source}: {len(self.loaded)} weights loaded, "
                f"{len(self.skipped)} skipped (shape differs), {len(self.new)} new")


def _layers(model: Any, prefix: str = "") -> dict[str, Any]:
    """Every weight-carrying layer by path; nested models (the trunk) contribute theirs."""
    import keras

    out: dict[str, Any] = {}
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            out.update(_layers(layer, f"{path}/"))
        elif layer.weights:
            out[path] = layer
    return out


def warm_start(model: Any, source_run: Path) -> WarmStartReport:
    """Copy matching weights of ``source_run``'s model.keras into ``model``."""
    from mtkit.export.source import load_keras

    path = Path(source_run) / rundir.MODEL
    if not path.is_file():
        raise MtkitError(f"--init-from '{source_run}': no trained model there ({rundir.MODEL} "
                         "is missing); pass the --out folder of a finished `mtkit train` run.")
    old = _layers(load_keras(path))
    report = WarmStartReport(source=str(source_run))
    for name, layer in _layers(model).items():
        src = old.get(name)
        for i, w in enumerate(layer.weights):
            label = f"{name}/{i}:{w.name}"
            if src is None or i >= len(src.weights):
                report.new.append(label)
            elif tuple(src.weights[i].shape) != tuple(w.shape):
                report.skipped.append(f"{label}: {tuple(w.shape)} here, "
                                      f"{tuple(src.weights[i].shape)} in the source run")
            else:
                w.assign(src.weights[i].numpy())
                report.loaded.append(label)
    trunk = [x for x in report.loaded + report.skipped + report.new if x.startswith("trunk/")]
    if trunk and not any(x.startswith("trunk/") for x in report.loaded) or not report.loaded:
        raise MtkitError(
            f"--init-from '{source_run}': none of the trunk's weights fits this model (no layer "
            f"of the same name and shape: {len(report.skipped)} shapes differ, {len(report.new)} "
            "weights have no counterpart), so the trunks differ. Use a run trained with the "
            "same trunk, or train without --init-from.")
    return report
