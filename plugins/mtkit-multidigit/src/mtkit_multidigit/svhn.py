"""Dataset plugin ``svhn``: Street View House Numbers, format 1, preprocessed as in the paper.

Goodfellow et al. (2013): take the box around all digit boxes, expand it by 30% in x and
y, crop, resize to 64×64, subtract the image's mean; train on random 54×54 crops and
evaluate on the centre crop. Train images are therefore stored at 64×64 (as uint8, which
keeps SVHN's 200k-image ``extra`` set in memory) and cropped per batch by ``augment``;
validation (carved from ``train/`` by image) and test are stored centre-cropped, float32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mtkit.data import Arrays, Splits
from mtkit.errors import DataError
from mtkit.hookspecs import hookimpl
from mtkit.plugin_types import Dataset, TaskInfo
from mtkit_multidigit import sequences
from mtkit_multidigit.augment import center_crop_np
from mtkit_multidigit.digitstruct import Annotation, read_digitstruct

ANNOTATIONS = "digitStruct.mat"


class SvhnParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(description="Folder holding the SVHN format 1 folders train/, test/, extra/.")
    train_folder: str = "train"
    test_folder: str = "test"
    extra_folder: str | None = Field(None, description="Also train on this folder (e.g. extra).")
    val_fraction: float = Field(0.05, gt=0.0, lt=1.0, description="Train images for validation.")
    limit: int | None = Field(None, ge=1, description="Read at most this many images per folder.")
    image_size: int = Field(64, ge=8, description="Side of the resized crop.")
    crop_size: int = Field(54, ge=8, description="Side of the random / centre crop fed to the model.")
    expand: float = Field(0.3, ge=0.0, le=2.0, description="Growth of the digits' box per axis.")
    grayscale: bool = False
    input_name: str = "image"

    @model_validator(mode="after")
    def _crop_fits(self) -> SvhnParams:
        if self.crop_size > self.image_size:
            raise ValueError(f"crop_size ({self.crop_size}) must not exceed image_size "
                             f"({self.image_size})")
        return self


def crop_box(ann: Annotation, expand: float) -> tuple[int, int, int, int]:
    """(left, upper, right, lower) of the box around all digits, grown by ``expand``."""
    lefts = [b[0] for b in ann.boxes]
    tops = [b[1] for b in ann.boxes]
    rights = [b[0] + b[2] for b in ann.boxes]
    bottoms = [b[1] + b[3] for b in ann.boxes]
    x0, y0, x1, y1 = min(lefts), min(tops), max(rights), max(bottoms)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = (x1 - x0) * (1 + expand) / 2, (y1 - y0) * (1 + expand) / 2
    return (round(cx - half_w), round(cy - half_h), round(cx + half_w), round(cy + half_h))


def load_image(folder: Path, ann: Annotation, params: SvhnParams, mat: Path) -> np.ndarray:
    """The expanded digits box of one image, resized: uint8 (size, size[, 3])."""
    from PIL import Image, UnidentifiedImageError

    path = folder / ann.name
    if not path.is_file():
        raise DataError(f"SVHN image '{path}' (listed in '{mat}') does not exist; the folder is "
                        "incomplete: unpack the archive again, or fix data.path.")
    try:
        with Image.open(path) as im:
            im = im.convert("L" if params.grayscale else "RGB")
            left, upper, right, lower = crop_box(ann, params.expand)
            if right <= left or lower <= upper:
                raise DataError(f"SVHN image '{path}': the digit boxes in '{mat}' are empty "
                                f"({ann.boxes}).")
            crop = im.crop((left, upper, right, lower))
            crop = crop.resize((params.image_size, params.image_size), Image.Resampling.BILINEAR)
            return np.asarray(crop, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"SVHN image '{path}' cannot be read ({exc}); it is damaged or not an "
                        "image.") from None


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 images → float32 in [0, 1] minus each image's own mean (the paper's preprocessing)."""
    x = images.astype(np.float32) / 255.0
    axes = tuple(range(1, x.ndim))
    return x - x.mean(axis=axes, keepdims=True)


class Svhn(Dataset):
    """SVHN format 1 (digitStruct.mat + PNGs): 30%-expanded digit box, 64x64, random 54x54 crops."""

    name = "svhn"
    Params = SvhnParams

    def _folder(self, folder: str) -> tuple[np.ndarray, list[tuple[int, ...]]]:
        p = self.params
        root = Path(p.path)
        if not root.is_dir():
            raise DataError(f"SVHN folder '{root}' (data.path) does not exist; point data.path at "
                            "the folder holding train/ and test/ of SVHN format 1.")
        mat = root / folder / ANNOTATIONS
        anns = read_digitstruct(mat, p.limit)
        if not anns:
            raise DataError(f"SVHN annotation file '{mat}' lists no images.")
        shape = (p.image_size, p.image_size) + (() if p.grayscale else (3,))
        images = np.empty((len(anns), *shape), dtype=np.uint8)  # filled in place: extra/ is big
        for i, ann in enumerate(anns):
            images[i] = load_image(root / folder, ann, p, mat)
        return images, [a.digits for a in anns]

    def load(self, tasks: list[TaskInfo], seed: int) -> Splits:
        p = self.params
        self.heads = sequences.check_tasks(tasks, None, self.name)
        self.length_classes = sequences.length_classes(tasks)
        train_x, train_digits = self._folder(p.train_folder)
        order = np.random.default_rng([seed, 0]).permutation(len(train_x))
        n_val = max(1, round(len(train_x) * p.val_fraction))
        if n_val >= len(train_x):
            raise DataError(f"SVHN folder '{Path(p.path) / p.train_folder}' has {len(train_x)} "
                            f"images, too few to set {n_val} aside for validation; lower "
                            "data.val_fraction or use more images.")
        val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
        val_x, val_digits = train_x[val_idx], [train_digits[i] for i in val_idx]
        train_x, train_digits = train_x[train_idx], [train_digits[i] for i in train_idx]
        if p.extra_folder:
            extra_x, extra_digits = self._folder(p.extra_folder)
            train_x = np.concatenate([train_x, extra_x])
            train_digits = train_digits + extra_digits
        test_x, test_digits = self._folder(p.test_folder)

        def arrays(x: np.ndarray, digits: list[tuple[int, ...]], crop: bool) -> Arrays:
            x = normalise(center_crop_np(x, p.crop_size)) if crop else x
            numbers = [list(d) for d in digits]
            return Arrays(inputs={p.input_name: x},
                          labels=sequences.sequence_labels(numbers, self.heads, self.length_classes))

        return Splits(train=arrays(train_x, train_digits, crop=False),
                      val=arrays(val_x, val_digits, crop=True),
                      test=arrays(test_x, test_digits, crop=True))

    def augment(self, inputs: dict[str, Any], seed: Any) -> dict[str, Any]:
        """Random ``crop_size`` crop of each 64×64 uint8 train image, then mean subtraction."""
        import tensorflow as tf

        from mtkit_multidigit.augment import random_crop

        out = {}
        for k, v in inputs.items():
            x = tf.cast(v, tf.float32) / 255.0
            x = random_crop(x, seed, self.params.crop_size)
            axes = list(range(1, len(x.shape)))
            out[k] = x - tf.reduce_mean(x, axis=axes, keepdims=True)
        return out

    def evaluate(self, labels: dict[str, np.ndarray],
                 predictions: dict[str, np.ndarray]) -> dict[str, float]:
        return sequences.sequence_metrics(labels, predictions)

    def decode_spec(self) -> dict[str, Any]:
        heads = getattr(self, "heads", sequences.MAX_DIGIT_HEADS)
        return sequences.sequence_decode_spec(heads, getattr(self, "length_classes", heads + 2))


@hookimpl
def register_datasets(register):
    register(Svhn)
