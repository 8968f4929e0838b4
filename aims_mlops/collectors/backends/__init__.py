"""Backends of the collectors that read a frame (pandera's ``backends/`` idea): pandas by
default, Spark for a ``pyspark.sql.DataFrame``.

Each such collector has a pure core that builds the record from numbers
(:mod:`aims_mlops.collectors._data_quality`: :func:`quality_record` from
:class:`QualityNumbers`; :mod:`aims_mlops.collectors._monitoring`: ``monitoring_record`` from a
``Measurement``; :mod:`aims_mlops.collectors._fairness`: ``fairness_record_from_table`` from the
per-group confusion table). A backend computes the numbers (``_pandas_quality`` /
``_spark_quality``, ``_pandas_monitoring`` / ``_spark_monitoring``, ``_pandas_fairness`` /
``_spark_fairness``), imports the core and never another backend.
This module is the one place that looks at the frame's type and picks the backend; capture
calls these.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from aims_mlops._errors import DataError
from aims_mlops.collectors import _data_quality, _monitoring
from aims_mlops.collectors._fairness import (
    ERROR_NO_SENSITIVE,
    FairnessOptions,
    FairnessResult,
    fairness_record_from_table,
)
from aims_mlops.collectors._spark import is_spark_frame
from aims_mlops.collectors.backends import (
    _pandas_fairness,
    _pandas_monitoring,
    _pandas_quality,
    _spark_fairness,
    _spark_monitoring,
    _spark_quality,
)
from aims_mlops.evidence import EvidenceRecord, Subject

#: Each backend of a kind offers the same functions (``tests/unit/test_backends.py``).
QUALITY_INTERFACE = ("measure_quality", "validate_frame")
MONITORING_INTERFACE = ("measure_frames",)
FAIRNESS_INTERFACE = ("measure_table",)


def _quality_backend(df: Any) -> ModuleType:
    return _spark_quality if is_spark_frame(df) else _pandas_quality


def _fairness_backend(frame: Any) -> ModuleType:
    return _spark_fairness if is_spark_frame(frame) else _pandas_fairness


def _monitoring_backend(current_df: Any, reference_df: Any) -> ModuleType:
    spark = is_spark_frame(current_df) or is_spark_frame(reference_df)
    return _spark_monitoring if spark else _pandas_monitoring


def data_quality_record(
    df: Any,
    expectations: Sequence[object],
    *,
    name: str,
    system: str | None,
    include_values: bool = False,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """Validate a pandas or Spark frame and return its ``data_quality`` evidence (controls
    A.7.4, A.6.2.4; same shape and rules on both)."""
    numbers = _quality_backend(df).measure_quality(
        df, expectations, include_values=include_values
    )
    return _data_quality.quality_record(
        numbers, name=name, system=system, subject=subject, config_digest=config_digest
    )


def run_expectations(
    df: Any, expectations: Sequence[object], *, include_values: bool = False
) -> dict[str, Any]:
    """Validate a pandas or Spark frame and return ``{"success", "statistics", "results"}``:
    JSON-ready, bounded, one entry per expectation in the given order, without row values
    unless asked."""
    built = _data_quality.build_expectations(expectations)
    result = _quality_backend(df).validate_frame(df, built)
    return _data_quality.summarize_validation(result, include_values=include_values, order=built)


def monitoring_record(current_df: Any, reference_df: Any, **options: Any) -> EvidenceRecord:
    """:func:`aims_mlops.collectors._monitoring.monitoring_record` measured by the Spark backend
    when either frame is a Spark DataFrame (the other is turned into one), else by pandas."""
    measure = _monitoring_backend(current_df, reference_df).measure_frames
    return _monitoring.monitoring_record(current_df, reference_df, measure=measure, **options)


def frame_fairness_record(
    frame: Any,
    *,
    y_true: str,
    y_pred: str,
    sensitive_features: Sequence[str] | str,
    options: FairnessOptions,
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> FairnessResult:
    """The ``fairness`` record of the named columns of a pandas or Spark DataFrame (the DataFrame
    form: ``assess_fairness(df, y_true="label", y_pred="pred", sensitive_features=["sex"])``);
    the backend computes the group table, the core builds the record and refuses
    identifier-like sensitive features as :func:`fairness_record` refuses them."""
    features = sensitive_features
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise DataError(ERROR_NO_SENSITIVE)
    table = _fairness_backend(frame).measure_table(
        frame, y_true=y_true, y_pred=y_pred, sensitive=names, pos_label=options.pos_label
    )
    return fairness_record_from_table(
        table, options=options, system=system, subject=subject, config_digest=config_digest
    )


feature_drift = _pandas_monitoring.feature_drift

__all__ = [
    "data_quality_record",
    "feature_drift",
    "frame_fairness_record",
    "monitoring_record",
    "run_expectations",
]
