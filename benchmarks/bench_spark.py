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

from _timing import alternate, load_line, median, ratio, spread

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


#: The measured operations, in the order they are timed and printed.
OPERATIONS = ("fairness", "check_data", "digest")


def measure(sides: dict[str, dict[str, Any]], *, repeat: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per run of each operation on each side (``{side: {operation: callable}}``), the
    sides taking turns run by run (Spark, pandas, Spark, pandas...): a burst of load on the
    shared machine hits both alike. Returns ``{operation: {side: [seconds, ...]}}``."""
    return {
        operation: alternate(
            {side: calls[operation] for side, calls in sides.items()}, repeat=repeat
        )
        for operation in OPERATIONS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--pandas-sizes", default="1000000,10000000")
    parser.add_argument("--driver-memory", default="3g")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
    growth: dict[str, dict[tuple[str, int], float]] = {}

    # the sizes both sides run: alternating runs, medians (min-max) and the ratio of medians
    for rows in sorted(set(sizes) | set(pandas_sizes)):
        sides: dict[str, dict[str, Any]] = {}
        if rows in sizes:
            on_spark = spark_frame(spark, rows)
            sides["spark"] = {
                "fairness": lambda f=on_spark: fairness_spark(f),
                "check_data": lambda f=on_spark: quality(f),
                "digest": lambda f=on_spark: dataset_digest(f),
            }
        if rows in pandas_sizes:
            on_pandas = pandas_frame(rows)
            sides["pandas"] = {
                "fairness": lambda f=on_pandas: fairness_pandas(f),
                "check_data": lambda f=on_pandas: quality(f),
                "digest": lambda f=on_pandas: dataset_digest(f),
            }
        print(f"-- {rows:,} rows ({' and '.join(sides)}, {args.repeat} alternating runs)")
        for operation, times in measure(sides, repeat=args.repeat).items():
            line = "   ".join(
                f"{side} {spread(values, digits=2)}" for side, values in times.items()
            )
            if len(times) == 2:
                line += f"   spark/pandas {ratio(times['spark'], times['pandas'])}"
            print(f"  {operation:<10} {line}")
            growth.setdefault(operation, {}).update(
                {(side, rows): median(values) for side, values in times.items()}
            )
        sides.clear()

    # the same rows on both sides give the same numbers
    frame = spark_frame(spark, min(sizes))
    same = frame.toPandas()
    spark_fair, pandas_fair = fairness_spark(frame), fairness_pandas(same)
    worst = max(abs(spark_fair.metrics[k] - pandas_fair.metrics[k]) for k in pandas_fair.metrics)
    assert quality(frame).metrics == quality(same).metrics
    assert dataset_digest(same, order_independent=True) == dataset_digest(frame)
    print(
        f"same {min(sizes):,} rows on both sides: largest fairness metric difference "
        f"{worst:.1e}, equal check_data metrics, equal row-set digests"
    )

    print(load_line())
    low, high = min(sizes), max(sizes)
    print(f"Spark growth from {low:,} to {high:,} rows ({high / low:.0f}x the rows), medians:")
    for operation in OPERATIONS:
        factor = growth[operation]["spark", high] / growth[operation]["spark", low]
        print(f"  {operation}: {factor:.1f}x the time")
    spark.stop()


if __name__ == "__main__":
    main()
