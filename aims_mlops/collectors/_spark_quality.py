"""Data-quality evidence on a Spark DataFrame: the same suite through Great Expectations' Spark
datasource, the same evidence shape as on pandas.

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
from dataclasses import dataclass, replace
from typing import Any

from aims_mlops.collectors._data_quality import (
    _gx_runtime,
    build_expectations,
    record_from_summary,
    summarize_validation,
    validate_on,
)
from aims_mlops.collectors._row_digest import spark_row_set_digest_and_count
from aims_mlops.evidence._record import EvidenceRecord, Subject


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


def validate_spark_frame(df: Any, expectations: Sequence[object]) -> Any:
    """Run the expectations on a Spark DataFrame: GE's ``ExpectationSuiteValidationResult``."""
    return validate_on(_spark_runtime(), df, expectations)


def spark_data_quality_record(
    df: Any,
    expectations: Sequence[object],
    *,
    name: str,
    system: str | None,
    include_values: bool = False,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``data_quality`` record of a Spark DataFrame (the pandas record's shape and rules).

    The row-set digest runs as a second Spark job while GE validates (Spark schedules both).
    """
    built = build_expectations(expectations)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aims-digest") as pool:
        digest_future = pool.submit(spark_row_set_digest_and_count, df)
        result = validate_spark_frame(df, built)
        digest, rows = digest_future.result()
    summary = summarize_validation(result, include_values=include_values, order=built)
    return record_from_summary(
        summary,
        name=name,
        system=system,
        subject=replace(subject or Subject(), dataset_digests=(digest,)),
        config_digest=config_digest,
        dataset_digest=digest,
        row_count=rows,
        column_count=len(df.columns),
    )


__all__ = ["spark_data_quality_record", "validate_spark_frame"]
