"""Benchmark: ``fairness_record`` against its limit and against fairlearn.

Resamples the bundled Adult data (fixed seed) to ``--rows`` rows, predicts with a logistic
regression trained on a few numeric columns, over two sensitive features (sex, race;
intersectional groups).

- The limit: what no implementation avoids, factorizing the groups (pandas, each column) plus
  one ``numpy.bincount`` of the confusion counts.
- ``fairness_record``'s first call in a fresh process (the catalog is read then: once per
  process) and its later calls, each alternating with a run of the limit, in ``--processes``
  fresh processes; medians (min-max) and ratios to the limit (targets: first <= 2.5x, later
  <= 1.5x).
- fairlearn's ``MetricFrame`` and disparity functions (``--fairlearn-runs``, 0 to skip: about
  25 s each), alternating with ours, and the largest difference between the numbers.

    python benchmarks/bench_fairness.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from _timing import alternate, load_line, median, ratio, report, spread

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


FIRST_TARGET = 2.5
LATER_TARGET = 1.5


def _data(rows: int, seed: int) -> tuple[Any, Any, Any, Any]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from aims_mlops.datasets import load_adult

    adult = load_adult("train")
    model = LogisticRegression(max_iter=1000).fit(adult[NUMERIC], adult["label"])
    rng = np.random.default_rng(seed)
    data = adult.iloc[rng.integers(0, len(adult), size=rows)].reset_index(drop=True)
    return data["label"].to_numpy(), model.predict(data[NUMERIC]), data[SENSITIVE], data


def _limit(y_true: Any, y_pred: Any, sensitive: Any) -> None:
    """Factorize the groups, then one bincount of the confusion counts."""
    import numpy as np
    import pandas as pd

    codes = np.zeros(len(y_true), dtype=np.int64)
    for column in sensitive.columns:
        column_codes, uniques = pd.factorize(sensitive[column])
        codes = codes * len(uniques) + column_codes
    np.bincount(codes * 4 + 2 * y_true + y_pred)


def child(rows: int, seed: int, later: int) -> None:
    """One fresh process: limit, first call, then (limit, later call) ``later`` times (JSON)."""
    import gc

    from aims_mlops.collectors._fairness import fairness_record

    y_true, y_pred, sensitive, _ = _data(rows, seed)
    out: dict[str, list[float]] = {"limits": [], "calls": [], "limits_cpu": [], "calls_cpu": []}
    for _ in range(later + 1):
        def ours() -> None:
            fairness_record(y_true, y_pred, sensitive, system="bench", thresholds={})

        for name, run in (("limits", lambda: _limit(y_true, y_pred, sensitive)), ("calls", ours)):
            gc.collect()
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            out[name].append(time.perf_counter() - start)
            out[f"{name}_cpu"].append(time.process_time() - start_cpu)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--later", type=int, default=3, help="later calls per process")
    parser.add_argument("--fairlearn-runs", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.seed, args.later)
        return

    print(f"rows: {args.rows:,}  sensitive features: {', '.join(SENSITIVE)}")
    print(load_line())
    results = []
    for _ in range(args.processes):
        completed = subprocess.run(
            [sys.executable, __file__, "--child", f"--rows={args.rows}", f"--seed={args.seed}",
             f"--later={args.later}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    print(load_line())
    for clock, suffix in (("wall", ""), ("CPU (process time: steadier on a busy machine)", "_cpu")):
        limits = [t for r in results for t in r[f"limits{suffix}"]]
        firsts = [r[f"calls{suffix}"][0] for r in results]
        first_limits = [r[f"limits{suffix}"][0] for r in results]
        laters = [t for r in results for t in r[f"calls{suffix}"][1:]]
        later_limits = [t for r in results for t in r[f"limits{suffix}"][1:]]
        print(f"-- {clock}")
        print(f"{'limit (factorize + bincount)':32}{spread(limits)}")
        for label, calls, paired, target in (
            ("fairness_record, first call", firsts, first_limits, FIRST_TARGET),
            ("fairness_record, later calls", laters, later_limits, LATER_TARGET),
        ):
            verdict = "met" if median(calls) / median(paired) <= target else "NOT met"
            print(
                f"{label:32}{spread(calls)}   {ratio(calls, paired)} of the limit "
                f"(target {target}x: {verdict})"
            )
    if args.fairlearn_runs:
        compare_with_fairlearn(args.rows, args.seed, args.fairlearn_runs)


def compare_with_fairlearn(rows: int, seed: int, runs: int) -> None:
    import numpy as np
    import pandas as pd
    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score

    from aims_mlops.collectors._fairness import fairness_record

    y_true, y_pred, sensitive, _ = _data(rows, seed)
    fairness_record(y_true, y_pred, sensitive, system="bench", thresholds={})  # first call
    state: dict[str, Any] = {}

    def ours() -> None:
        state["ours"] = fairness_record(y_true, y_pred, sensitive, system="bench", thresholds={})

    def theirs() -> None:
        state["frame"] = flm.MetricFrame(
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
        state["reference"] = {
            name: float(getattr(flm, name)(y_true, y_pred, sensitive_features=sensitive))
            for name in DISPARITIES
        }

    times = alternate({"aims_mlops": ours, "fairlearn": theirs}, repeat=runs)
    result, frame, reference = state["ours"], state["frame"], state["reference"]
    by_group = frame.by_group.dropna(how="all")
    table = result.table.loc[by_group.index, TABLE_METRICS]
    table_diff = float(np.abs(table.to_numpy() - by_group[TABLE_METRICS].to_numpy()).max())
    metrics = result.record.metrics
    rows_ = [
        (name, metrics.get(name, float("nan")), value, abs(metrics.get(name, np.nan) - value))
        for name, value in reference.items()
    ]
    summary = pd.DataFrame(rows_, columns=["metric", "aims_mlops", "fairlearn", "abs diff"])
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.10g}"))
    print()
    report(times, baseline="aims_mlops")
    print(f"max abs diff, disparities: {summary['abs diff'].max():.3g}")
    print(f"max abs diff, group table: {table_diff:.3g}")


if __name__ == "__main__":
    main()
