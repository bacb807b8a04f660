"""Penguins (a real table shipped in the palmerpenguins package): mtkit vs scikit-learn per task.

mtkit trains ONE multitask model from the raw CSV (configs/penguins.yaml: inferred schema,
in-model standardisation, imputation and one-hot, standardised body-mass target). Each
baseline is a separate scikit-learn model per task on the *same* splits (mtkit's own data
preparation makes them): median-impute + standardise numbers, one-hot the island (missing
as its own value), then logistic regression / ridge and histogram gradient boosting. Test
metrics: accuracy (species, sex) and MAE in grams (body mass), per seed, and the mean.
Goal (issue 13): mtkit within 1 point of accuracy (or 5% relative MAE) of the best baseline.

Usage: .venv/bin/python benchmarks/tabular.py [--seeds 3] [--epochs 150]
→ benchmarks/results/tabular.json (about 6 minutes on 2 busy CPU cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CONFIG = ROOT / "configs" / "penguins.yaml"


def _frame(inputs: dict) -> object:
    import pandas as pd

    cols = {}
    for k, v in inputs.items():
        v = np.asarray(v).reshape(len(v))
        cols[k] = v.astype(object) if v.dtype == object else v.astype(np.float64)
    return pd.DataFrame(cols)


def baselines(splits, plan) -> dict[str, dict[str, float]]:
    """Per task: test metric of each scikit-learn model, fitted on the train split."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    xtr, xte = _frame(splits.train.inputs), _frame(splits.test.inputs)
    cats = [c for c in xtr.columns if not pd.api.types.is_numeric_dtype(xtr[c])]
    nums = [c for c in xtr.columns if c not in cats]

    def prep():
        return ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
            ("cat", OneHotEncoder(handle_unknown="ignore"), cats)])

    out: dict[str, dict[str, float]] = {}
    for task, tp in plan.tasks.items():
        ytr, yte = splits.train.labels[task].astype(np.float64), splits.test.labels[task].astype(
            np.float64)
        ok_tr = np.isfinite(ytr) & (ytr >= 0) if tp.head.output_type != "regression" else np.isfinite(ytr)
        ok_te = np.isfinite(yte) & (yte >= 0) if tp.head.output_type != "regression" else np.isfinite(yte)
        if tp.head.output_type == "regression":
            models = {"ridge": Ridge(alpha=1.0), "gbm": HistGradientBoostingRegressor(random_state=0)}
        else:
            models = {"logistic": LogisticRegression(max_iter=2000),
                      "gbm": HistGradientBoostingClassifier(random_state=0)}
        out[task] = {}
        for name, model in models.items():
            pipe = make_pipeline(prep(), model).fit(xtr[ok_tr], ytr[ok_tr])
            pred = pipe.predict(xte[ok_te])
            if tp.head.output_type == "regression":
                out[task][name] = float(np.mean(np.abs(pred - yte[ok_te])))
            else:
                out[task][name] = float(np.mean(pred == yte[ok_te]))
    return out


METRIC = {"species": "accuracy", "sex": "accuracy", "body_mass_g": "mae"}


def run(args: argparse.Namespace) -> dict:
    import mtkit
    from mtkit.api import plan as make_plan
    from mtkit.dataprep import prepare

    per_seed = []
    for seed in range(args.seeds):
        overrides = [f"train.seed={seed}", f"train.epochs={args.epochs}", "train.checkpoint=false"]
        plan = make_plan(CONFIG, overrides)
        splits, _ = prepare(plan)
        base = baselines(splits, plan)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = mtkit.train(CONFIG, out=Path(tmp) / "run", overrides=overrides, quiet=True)
            seconds = time.perf_counter() - t0
        ours = {t: float(result.metrics["tasks"][t][m]) for t, m in METRIC.items()}
        per_seed.append({"seed": seed, "mtkit": ours, "baselines": base,
                         "mtkit_seconds": round(seconds, 1), "epochs_run": result.metrics["epochs_run"],
                         "test_rows": len(splits.test)})
        print(json.dumps(per_seed[-1]), flush=True)
    summary = {}
    for task, metric in METRIC.items():
        mean_ours = statistics.mean(r["mtkit"][task] for r in per_seed)
        names = per_seed[0]["baselines"][task]
        means = {n: statistics.mean(r["baselines"][task][n] for r in per_seed) for n in names}
        if metric == "mae":
            best = min(means, key=means.get)
            gap = mean_ours / means[best] - 1.0
            met = gap <= 0.05
            gap_text = f"{gap:+.1%} relative MAE"
        else:
            best = max(means, key=means.get)
            gap = (mean_ours - means[best]) * 100
            met = gap >= -1.0
            gap_text = f"{gap:+.2f} points"
        summary[task] = {"metric": metric, "mtkit": mean_ours, "baselines": means, "best": best,
                         "gap": gap_text, "goal_met": met}
    return {"what": "palmerpenguins, 3 tasks; mtkit one multitask model vs one scikit-learn model "
                    "per task on identical splits (25% test, 15% of the rest validation)",
            "seeds": args.seeds, "epochs": args.epochs, "summary": summary, "per_seed": per_seed,
            "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
            "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=150)
    args = ap.parse_args()
    out = run(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tabular.json").write_text(json.dumps(out, indent=2) + "\n")
    for task, s in out["summary"].items():
        base = ", ".join(f"{k} {v:.4g}" for k, v in s["baselines"].items())
        print(f"{task:12s} {s['metric']}: mtkit {s['mtkit']:.4g} | {base} | vs best {s['gap']} "
              f"{'OK' if s['goal_met'] else 'MISSED'}")


if __name__ == "__main__":
    main()
