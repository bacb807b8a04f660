"""Generate ``configs/data/recommender.csv``: a small recommender-style table for configs/recommender.yaml.

Each row is one (user, item, context) impression: the ids of the user (150 users) and of the
item (80 items), 12 numeric features and three targets. Every user and item also has a hidden
bias that no numeric feature shows, so only a model that learns from the ids (an embedding per
categorical id column) can use it:

* ``click``  (0/1) whether the item was clicked;
* ``dwell``  (float) log watch time, strongly related to click (same user-item affinity);
* ``rating`` (float, 1-5) an explicit rating, only given on about a quarter of the rows
  (an empty cell = missing label), related to the others through item quality.

Deterministic (fixed seed) and download-free; re-run it to regenerate the committed file:
``python configs/data/make_recommender_csv.py``.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

ROWS = 1500
USERS, ITEMS = 150, 80
USER = ["user_age", "user_activity", "user_tenure", "user_taste"]
ITEM = ["item_price", "item_popularity", "item_quality", "item_novelty"]
CONTEXT = ["ctx_hour_sin", "ctx_hour_cos", "ctx_mobile", "ctx_position"]
TARGETS = ["click", "dwell", "rating"]
RATED_FRACTION = 0.25
OUT = Path(__file__).with_name("recommender.csv")


def generate(rows: int = ROWS, seed: int = 0) -> str:
    """The CSV text (header + rows); same text for the same arguments."""
    rng = np.random.default_rng(seed)
    user = rng.normal(size=(rows, 4))
    item = rng.normal(size=(rows, 4))
    hour = rng.uniform(0, 2 * np.pi, size=rows)
    mobile = (rng.random(rows) < 0.6).astype(float)
    position = rng.integers(1, 11, size=rows).astype(float)
    context = np.stack([np.sin(hour), np.cos(hour), mobile, position / 10.0], axis=1)
    affinity = np.tanh(user[:, 3] * item[:, 3] + 0.5 * user[:, 1] - 0.3 * item[:, 0])
    quality = item[:, 2]
    click_logit = 1.5 * affinity + 0.5 * item[:, 1] - 1.2 * context[:, 3] + 0.3 * mobile
    click = (rng.random(rows) < 1 / (1 + np.exp(-click_logit))).astype(int)
    dwell = 1.0 + 0.8 * affinity + 0.4 * quality + 0.5 * click + 0.2 * rng.normal(size=rows)
    rating = np.clip(3.0 + 0.9 * quality + 0.6 * affinity - 0.3 * user[:, 0]
                     + 0.3 * rng.normal(size=rows), 1.0, 5.0)
    rated = rng.random(rows) < RATED_FRACTION
    ids = np.random.default_rng(seed + 100)  # separate stream: the features above are unchanged
    user_id = ids.integers(USERS, size=rows)
    item_id = ids.integers(ITEMS, size=rows)
    user_bias = ids.normal(0.0, 0.8, size=USERS)[user_id]
    item_bias = ids.normal(0.0, 0.8, size=ITEMS)[item_id]
    lift = 1 / (1 + np.exp(-(click_logit + user_bias + item_bias)))
    click = np.where(rng.random(rows) < 0.5, click,
                     (ids.random(rows) < lift).astype(int))
    dwell = dwell + 0.3 * user_bias + 0.3 * item_bias
    rating = np.clip(rating + 0.4 * item_bias, 1.0, 5.0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["user_id", "item_id"] + USER + ITEM + CONTEXT + TARGETS)
    features = np.concatenate([user, item, context], axis=1)
    for r in range(rows):
        writer.writerow([f"u{user_id[r]:03d}", f"i{item_id[r]:03d}"]
                        + [f"{v:.3f}" for v in features[r]]
                        + [str(click[r]), f"{dwell[r]:.3f}", f"{rating[r]:.2f}" if rated[r] else ""])
    return buf.getvalue()


def main(out: Path = OUT) -> Path:
    """Write the CSV atomically (temp file, then rename)."""
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(generate(), encoding="utf-8")
    tmp.replace(out)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
