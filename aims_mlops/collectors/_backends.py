"""Where a frame meets its backend: pandas by default, Spark for a ``pyspark.sql.DataFrame``.

Each collector with a Spark path has a pure core that builds the record from numbers (in its
pandas module), a pandas backend and a Spark backend (``_spark_*.py``, which imports the core and
never the other way round). This module is the one place that looks at the frame's type and
picks the backend; capture calls these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aims_mlops.collectors import _data_quality, _monitoring
from aims_mlops.collectors._spark import is_spark_frame
from aims_mlops.collectors._spark_monitoring import spark_measure_frames
from aims_mlops.collectors._spark_quality import spark_data_quality_record, validate_spark_frame
from aims_mlops.evidence import EvidenceRecord


def data_quality_record(df: Any, expectations: Sequence[object], **options: Any) -> EvidenceRecord:
    """The ``data_quality`` record of a pandas or Spark frame (same shape and rules; the options
    of :func:`aims_mlops.collectors._data_quality.data_quality_record`)."""
    build = spark_data_quality_record if is_spark_frame(df) else _data_quality.data_quality_record
    return build(df, expectations, **options)


def run_expectations(
    df: Any, expectations: Sequence[object], *, include_values: bool = False
) -> dict[str, Any]:
    """:func:`aims_mlops.collectors._data_quality.run_expectations` on a pandas or Spark frame."""
    validate = validate_spark_frame if is_spark_frame(df) else _data_quality.validate_frame
    return _data_quality.run_expectations(
        df, expectations, include_values=include_values, validate=validate
    )


def monitoring_record(
    current_df: Any, reference_df: Any, **options: Any
) -> EvidenceRecord:
    """:func:`aims_mlops.collectors._monitoring.monitoring_record` measured by the Spark backend
    when either frame is a Spark DataFrame (the other is turned into one), else by pandas."""
    spark = is_spark_frame(current_df) or is_spark_frame(reference_df)
    measure = spark_measure_frames if spark else _monitoring.measure_frames
    return _monitoring.monitoring_record(current_df, reference_df, measure=measure, **options)


__all__ = ["data_quality_record", "monitoring_record", "run_expectations"]

