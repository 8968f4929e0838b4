"""The Spark backend of data quality: the same suite through Great Expectations' Spark
datasource, the same numbers as the pandas backend (the record comes from the core,
:mod:`aims_mlops.collectors._data_quality`; this module never imports the pandas backend).

GE 1.x validates a Spark DataFrame with ``context.data_sources.add_spark(...)`` →
``add_dataframe_asset`` → ``add_batch_definition_whole_dataframe``; its metrics are Spark
aggregations, so the data stays in the cluster and only counts (and, with ``include_values``,
GE's bounded samples) come back. The datasource lives in the same ephemeral context as the
pandas one, built once, with ``persist=False``: GE does not cache the caller's DataFrame. The
session is the active one (GE's ``SparkSession.builder.getOrCreate()``).

The record's dataset digest is the row-set digest (``aims-rowset-v1``, computed in the cluster,
independent of row order and partitioning); its row count comes from the same Spark job.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aims_mlops.collectors._data_quality import (
    QualityNumbers,
    _gx_runtime,
    build_expectations,
    summarize_validation,
    validate_on,
)
from aims_mlops.collectors._row_digest import spark_row_set_digest_and_count


@dataclass
class _SparkRuntime:
    datasource: Any
    batch_definition: Any
    lock: threading.Lock
    empty: Any = None  # no placeholder batch: resetting the cache is enough on Spark


_runtime: _SparkRuntime | None = None
_runtime_lock = threading.Lock()


def _spark_runtime() -> _SparkRuntime:
    """The Spark datasource and whole-dataframe batch definition of our GE context (built once)."""
    global _runtime
    base = _gx_runtime()
    with _runtime_lock:
        if _runtime is None:
            datasource = base.context.data_sources.add_spark("aims_spark", persist=False)
            batch_definition = datasource.add_dataframe_asset(
                "spark_dataframe"
            ).add_batch_definition_whole_dataframe("whole")
            _runtime = _SparkRuntime(datasource, batch_definition, threading.Lock())
        return _runtime


def validate_frame(df: Any, expectations: Sequence[object]) -> Any:
    """Run the expectations on a Spark DataFrame: GE's ``ExpectationSuiteValidationResult``."""
    return validate_on(_spark_runtime(), df, expectations)


def measure_quality(
    df: Any, expectations: Sequence[object], *, include_values: bool = False
) -> QualityNumbers:
    """Validate a Spark DataFrame and digest it: the row-set digest runs as a second Spark job
    while GE validates (Spark schedules both)."""
    built = build_expectations(expectations)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aims-digest") as pool:
        digest_future = pool.submit(spark_row_set_digest_and_count, df)
        result = validate_frame(df, built)
        digest, rows = digest_future.result()
    summary = summarize_validation(result, include_values=include_values, order=built)
    return QualityNumbers(summary=summary, digest=digest, rows=rows, columns=len(df.columns))


__all__ = ["measure_quality", "validate_frame"]
