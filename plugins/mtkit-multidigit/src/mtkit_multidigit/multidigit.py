"""Dataset plugin ``multidigit``: numbers of 1–5 handwritten digits written side by side.

Each digit is one of scikit-learn's bundled ``load_digits`` images (1,797 8×8 scans, no
download). The source images are first split into train / validation / test pools
(stratified by digit, deterministic by seed), and every sequence of a split is drawn only
from its own pool, so no handwritten digit image appears in two splits and the test
accuracy measures reading *unseen* handwriting. Sequences are centred on a canvas of
``8 + 2·padding`` × ``8·max_digits + 2·padding`` pixels, values in [0, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mtkit.data import Arrays, Splits
from mtkit.errors import ConfigError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, TaskInfo
from mtkit_multidigit import sequences

DIGIT_SIZE = 8
DEMO_CONFIG = Path(__file__).with_name("demo.yaml")


class MultidigitParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    train_size: int = Field(20000, ge=1, description="Sequences in the training split.")
    val_size: int = Field(2000, ge=1, description="Sequences in the validation split.")
    test_size: int = Field(4000, ge=1, description="Sequences in the test split.")
    min_digits: int = Field(1, ge=0, description="Shortest sequence (0 allows blank images).")
    max_digits: int = Field(5, description="Longest sequence; at most the number of digit heads.")
    val_fraction: float = Field(0.1, gt=0.0, lt=1.0, description="Source images for validation.")
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0, description="Source images for test.")
    padding: int = Field(2, ge=0, le=32, description="Blank pixels around the sequence.")
    shift: float = Field(0.0, ge=0.0, le=16.0, description="Train augmentation: max shift (px).")
    scale: float = Field(0.0, ge=0.0, lt=1.0, description="Train augmentation: zoom 1 ± scale.")
    noise: float = Field(0.0, ge=0.0, description="Train augmentation: Gaussian noise std.")
    input_name: str = Field("image", description="Name of the model input.")

    @field_validator("max_digits")
    @classmethod
    def _max_digits(cls, v: int) -> int:
        if not 1 <= v <= sequences.MAX_DIGIT_HEADS:
            raise ValueError(f"max_digits must be between 1 and {sequences.MAX_DIGIT_HEADS}, the "
                             "most digit heads (digit1..digit5) the model has")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MultidigitParams:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) is larger than max_digits "
                             f"({self.max_digits})")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10% of the "
                             "source images for training")
        return self


def load_sources() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits: (1797, 8, 8) float32 in [0, 1] and their labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images / 16.0).astype(np.float32), bunch.target.astype(np.int64)


def split_sources(targets: np.ndarray, val_fraction: float, test_fraction: float,
                  seed: int) -> dict[str, np.ndarray]:
    """Disjoint source-image indices per split, stratified by digit, deterministic by seed."""
    rng = np.random.default_rng([seed, 0])
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for digit in np.unique(targets):
        idx = rng.permutation(np.flatnonzero(targets == digit))
        n_test = max(1, round(len(idx) * test_fraction))
        n_val = max(1, round(len(idx) * val_fraction))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def compose(images: np.ndarray, pool: np.ndarray, count: int, min_digits: int, max_digits: int,
            padding: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` sequences drawn from ``pool``: (canvases, lengths, source ids (-1 = none))."""
    lengths = rng.integers(min_digits, max_digits + 1, size=count)
    sources = np.where(np.arange(max_digits) < lengths[:, None],
                       pool[rng.integers(0, len(pool), size=(count, max_digits))], -1)
    height = DIGIT_SIZE + 2 * padding
    width = DIGIT_SIZE * max_digits + 2 * padding
    canvas = np.zeros((count, height, width), dtype=np.float32)
    for n in range(1, max_digits + 1):
        rows = np.flatnonzero(lengths == n)
        left = padding + (DIGIT_SIZE * (max_digits - n)) // 2  # centred
        for pos in range(n):
            x0 = left + DIGIT_SIZE * pos
            canvas[rows, padding:padding + DIGIT_SIZE, x0:x0 + DIGIT_SIZE] = images[sources[rows, pos]]
    return canvas, lengths, sources


class Multidigit(Dataset):
    """Handwritten digit sequences (1-5 sklearn digits side by side); split by source image."""

    name = "multidigit"
    Params = MultidigitParams
    demo_config: ClassVar[str | None] = str(DEMO_CONFIG)

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        p = self.params
        heads = sequences.check_tasks(tasks, p.max_digits, self.name)
        if p.max_digits < heads:
            unused = [sequences.digit_task(i) for i in range(p.max_digits + 1, heads + 1)]
            raise ConfigError(
                f"field 'data.max_digits': with at most {p.max_digits} digits the heads "
                f"{', '.join(unused)} would never get a label; set max_digits to {heads} or remove "
                "those tasks.")
        self.heads = heads
        self.length_classes = sequences.length_classes(tasks)
        images, targets = load_sources()
        self.sources = split_sources(targets, p.val_fraction, p.test_fraction, seed)
        sizes = {"train": p.train_size, "val": p.val_size, "test": p.test_size}
        self.source_ids: dict[str, np.ndarray] = {}
        out: dict[str, Arrays] = {}
        for i, split in enumerate(("train", "val", "test")):
            rng = np.random.default_rng([seed, i + 1])
            canvas, _lengths, ids = compose(images, self.sources[split], sizes[split],
                                            p.min_digits, p.max_digits, p.padding, rng)
            numbers = [[int(targets[s]) for s in row if s >= 0] for row in ids]
            self.source_ids[split] = ids
            out[split] = Arrays(inputs={p.input_name: canvas},
                                labels=sequences.sequence_labels(numbers, heads, self.length_classes))
        return Splits(train=out["train"], val=out["val"], test=out["test"])

    def augment(self, inputs: dict[str, Any], seed: Any) -> dict[str, Any]:
        p = self.params
        if not (p.shift or p.scale or p.noise):
            return inputs
        from mtkit_multidigit.augment import shift_scale_noise

        return {k: shift_scale_noise(v, seed, p.shift, p.scale, p.noise) for k, v in inputs.items()}

    def evaluate(self, labels: dict[str, np.ndarray],
                 predictions: dict[str, np.ndarray]) -> dict[str, float]:
        return sequences.sequence_metrics(labels, predictions)

    def decode_spec(self) -> dict[str, Any]:
        heads = getattr(self, "heads", self.params.max_digits)
        return sequences.sequence_decode_spec(heads, getattr(self, "length_classes", heads + 2))


@hookimpl
def register_datasets(register):
    register(Multidigit)
