"""Benchmark: ``fairness_record`` against fairlearn's ``MetricFrame`` and disparity functions.

Resamples the bundled Adult data (fixed seed) to ``--rows`` rows, predicts with a logistic
regression trained on a few numeric columns, and times one run of each side over two sensitive
features (sex, race; intersectional groups). Prints both times, their ratio and the largest
absolute difference between the numbers.

    python benchmarks/bench_fairness.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
SENSITIVE = ["sex", "race"]
DISPARITIES = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]
TABLE_METRICS = ["selection_rate", "accuracy", "true_positive_rate", "false_positive_rate"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    from fairlearn import metrics as flm
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score

    from aims_mlops.collectors._fairness import fairness_record
    from aims_mlops.datasets import load_adult

    adult = load_adult("train")
    model = LogisticRegression(max_iter=1000).fit(adult[NUMERIC], adult["label"])
    rng = np.random.default_rng(args.seed)
    data = adult.iloc[rng.integers(0, len(adult), size=args.rows)].reset_index(drop=True)
    y_true = data["label"].to_numpy()
    y_pred = model.predict(data[NUMERIC])
    sensitive = data[SENSITIVE]
    print(f"rows: {args.rows:,}  sensitive features: {', '.join(SENSITIVE)}")

    start = time.perf_counter()
    result = fairness_record(
        y_true, y_pred, sensitive, system="bench", thresholds={DISPARITIES[0]: {"max": 0.1}}
    )
    ours_seconds = time.perf_counter() - start
    print(f"fairness_record: {ours_seconds:.3f} s, {result.record.details['groups']} groups")

    start = time.perf_counter()
    frame = flm.MetricFrame(
        metrics={
            "selection_rate": flm.selection_rate,
            "accuracy": accuracy_score,
            "true_positive_rate": flm.true_positive_rate,
            "false_positive_rate": flm.false_positive_rate,
        },
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
    )
    reference = {
        name: float(getattr(flm, name)(y_true, y_pred, sensitive_features=sensitive))
        for name in DISPARITIES
    }
    fairlearn_seconds = time.perf_counter() - start
    print(f"fairlearn:       {fairlearn_seconds:.3f} s")

    by_group = frame.by_group.dropna(how="all")
    ours = result.table.loc[by_group.index, TABLE_METRICS]
    table_diff = float(np.abs(ours.to_numpy() - by_group[TABLE_METRICS].to_numpy()).max())
    metrics = result.record.metrics
    rows = [
        (name, metrics.get(name, float("nan")), value, abs(metrics.get(name, np.nan) - value))
        for name, value in reference.items()
    ]
    summary = pd.DataFrame(rows, columns=["metric", "aims_mlops", "fairlearn", "abs diff"])
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.10g}"))
    print()
    print(f"{'':24}{'seconds':>10}")
    print(f"{'aims_mlops':24}{ours_seconds:>10.3f}")
    print(f"{'fairlearn':24}{fairlearn_seconds:>10.3f}")
    print(f"{'speed-up':24}{fairlearn_seconds / ours_seconds:>9.0f}x")
    print(f"max abs diff, disparities: {summary['abs diff'].max():.3g}")
    print(f"max abs diff, group table: {table_diff:.3g}")


if __name__ == "__main__":
    main()
