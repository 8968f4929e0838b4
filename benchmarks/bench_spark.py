"""Benchmark: assess_fairness and check_data on a local Spark session against the pandas path.

Synthetic data generated in Spark (``spark.range(n)`` with columns derived from hashes of the
id: age, hours, sex, race, label, prediction), not cached: every Spark job reads it from its
definition, as a job would read a table. For each size the Spark path times

- fairness: the group table as one ``groupBy`` (sex x race) and the record;
- check_data: five expectations through GE's Spark datasource plus the row-set digest
  (a second Spark job), as ``check_data`` runs them;
- the row-set digest alone;

and the pandas path the same calls on a pandas frame of the same size and dtypes (at the
smallest size the very rows Spark holds, via ``toPandas()``, and the numbers are compared).

    python benchmarks/bench_spark.py --sizes 1000000,3000000,10000000 \
        --pandas-sizes 1000000,10000000
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from _timing import load_line, median

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

SENSITIVE = ["sex", "race"]
EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "age"}},
    {"type": "expect_column_values_to_be_between",
     "kwargs": {"column": "age", "min_value": 18, "max_value": 90}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "sex", "value_set": ["F", "M"]}},
    {"type": "expect_column_mean_to_be_between",
     "kwargs": {"column": "hours", "min_value": 20, "max_value": 60}},
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
]  # fmt: skip
RACES = ["a", "b", "c", "d", "e"]


def spark_frame(spark: Any, rows: int) -> Any:
    from pyspark.sql import functions as F

    def draw(seed: int, modulus: int) -> Any:
        return F.pmod(F.hash(F.col("id"), F.lit(seed)), F.lit(modulus))

    races = F.array(*[F.lit(r) for r in RACES])
    return spark.range(rows).select(
        (F.lit(18) + draw(1, 70)).cast("long").alias("age"),
        (F.lit(20) + draw(2, 45)).cast("long").alias("hours"),
        F.when(draw(3, 2) == 0, "F").otherwise("M").alias("sex"),
        F.element_at(races, (draw(4, 5) + 1).cast("int")).alias("race"),
        (draw(5, 4) == 0).cast("long").alias("label"),
        ((draw(5, 4) == 0) != (draw(6, 7) == 0)).cast("long").alias("prediction"),
    )


def pandas_frame(rows: int, seed: int = 0) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    label = (rng.integers(0, 4, rows) == 0).astype("int64")
    flip = rng.integers(0, 7, rows) == 0
    return pd.DataFrame(
        {
            "age": 18 + rng.integers(0, 70, rows),
            "hours": 20 + rng.integers(0, 45, rows),
            "sex": np.where(rng.integers(0, 2, rows) == 0, "F", "M"),
            "race": np.array(RACES)[rng.integers(0, 5, rows)],
            "label": label,
            "prediction": np.where(flip, 1 - label, label).astype("int64"),
        }
    )


#: Runs per measurement (``--repeat``); each figure is their median, printed with its min-max.
REPEAT = [3]


class Timing(float):
    """A median of seconds that remembers the range of its runs."""

    span: str = "?"


def timed(function: Any, *args: Any, **kwargs: Any) -> tuple[Timing, Any]:
    """The median seconds of ``REPEAT`` runs (with their min-max) and the last result."""
    times = []
    result = None
    for _ in range(REPEAT[0]):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    seconds = Timing(median(times))
    seconds.span = f"{min(times):.2f}-{max(times):.2f}"
    return seconds, result


def shown(seconds: float) -> str:
    """``1.23 s (1.10-1.40)``: a median from :func:`timed` with its range."""
    return f"{seconds:6.2f} s ({getattr(seconds, 'span', '?')})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--pandas-sizes", default="1000000,10000000")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    REPEAT[0] = args.repeat
    print(load_line())
    sizes = [int(s) for s in args.sizes.split(",")]
    pandas_sizes = [int(s) for s in args.pandas_sizes.split(",")]

    from pyspark.sql import SparkSession

    from aims_mlops.collectors._fairness import fairness_record
    from aims_mlops.collectors.backends import data_quality_record, frame_fairness_record
    from aims_mlops.datasets import dataset_digest

    start = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]").appName("aims-bench")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    print(f"session start: {time.perf_counter() - start:.1f} s (once per process)")

    def fairness_spark(frame: Any) -> Any:
        return frame_fairness_record(
            frame, y_true="label", y_pred="prediction", sensitive_features=SENSITIVE,
            system="bench", thresholds={},
        ).record  # fmt: skip

    def fairness_pandas(frame: Any) -> Any:
        return fairness_record(
            frame["label"], frame["prediction"], frame[SENSITIVE], system="bench", thresholds={}
        ).record

    def quality(frame: Any) -> Any:
        return data_quality_record(frame, EXPECTATIONS, name="bench", system="bench")

    # warm-up: GE's context, the JVM's code paths
    small = spark_frame(spark, 10_000)
    fairness_spark(small), quality(small), quality(small.toPandas())

    results: dict[tuple[str, str, int], Timing] = {}
    for rows in sizes:
        frame = spark_frame(spark, rows)
        results["spark", "fairness", rows], spark_fair = timed(fairness_spark, frame)
        results["spark", "check_data", rows], spark_quality = timed(quality, frame)
        results["spark", "digest", rows], _ = timed(dataset_digest, frame)
        print(
            f"spark  {rows:>11,} rows: fairness {shown(results['spark', 'fairness', rows])}  "
            f"check_data {shown(results['spark', 'check_data', rows])}  "
            f"row-set digest {shown(results['spark', 'digest', rows])}"
        )
        if rows == min(sizes):  # the same rows on pandas: the numbers must agree
            same = frame.toPandas()
            pandas_fair = fairness_pandas(same)
            worst = max(
                abs(spark_fair.metrics[k] - pandas_fair.metrics[k]) for k in pandas_fair.metrics
            )
            print(f"         same rows on pandas: largest metric difference {worst:.1e}")
            assert spark_quality.metrics == quality(same).metrics
            timing, digest = timed(dataset_digest, same, order_independent=True)
            assert digest == dataset_digest(frame)
            print(f"         pandas row-set digest of those rows: {timing:.2f} s (equal)")
    for rows in pandas_sizes:
        frame = pandas_frame(rows)
        results["pandas", "fairness", rows], _ = timed(fairness_pandas, frame)
        results["pandas", "check_data", rows], _ = timed(quality, frame)
        results["pandas", "digest", rows], _ = timed(dataset_digest, frame)
        print(
            f"pandas {rows:>11,} rows: fairness {shown(results['pandas', 'fairness', rows])}  "
            f"check_data {shown(results['pandas', 'check_data', rows])}  "
            f"ordered digest {shown(results['pandas', 'digest', rows])}"
        )
        del frame

    print(load_line())
    print("\nratios of medians (Spark local[2] time / pandas time, same size):")
    for rows in sorted(set(sizes) & set(pandas_sizes)):
        parts = [
            f"{what} {results['spark', what, rows] / results['pandas', what, rows]:5.1f}x"
            for what in ("fairness", "check_data")
        ]
        print(f"  {rows:>11,} rows: " + "  ".join(parts))
    low, high = min(sizes), max(sizes)
    print(f"Spark growth from {low:,} to {high:,} rows ({high / low:.0f}x the rows):")
    for what in ("fairness", "check_data", "digest"):
        ratio = results["spark", what, high] / results["spark", what, low]
        print(f"  {what}: {ratio:.1f}x the time")
    spark.stop()


if __name__ == "__main__":
    main()
