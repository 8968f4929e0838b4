"""The pandas backend of data quality: Great Expectations' pandas datasource validates the
frame while a second thread computes its full-content digest. The summary and the record come
from the core (:mod:`aims_mlops.collectors._data_quality`); this module never imports the Spark
backend, nor the Spark backend this one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._data_quality import (
    EMPTY_SUITE_SUMMARY,
    ERROR_NOT_A_FRAME,
    QualityNumbers,
    _gx_runtime,
    build_expectations,
    summarize_validation,
    validate_on,
)
from aims_mlops.collectors._digest import frame_sha256

if TYPE_CHECKING:
    import pandas as pd


def _require_frame(df: Any) -> None:
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(df).__name__))


def validate_frame(df: pd.DataFrame, expectations: Sequence[object]) -> Any:
    """Run the expectations on the pandas frame ``df``: GE's ``ExpectationSuiteValidationResult``
    (SUMMARY)."""
    _require_frame(df)
    return validate_on(_gx_runtime(), df, expectations)


def measure_quality(
    df: pd.DataFrame, expectations: Sequence[object], *, include_values: bool = False
) -> QualityNumbers:
    """Validate ``df`` and digest it (in a second thread while GE validates: both mostly run in
    native code); an empty suite is not run at all."""
    _require_frame(df)
    if len(expectations) == 0:
        digest = frame_sha256(df)
        summary: Mapping[str, Any] = EMPTY_SUITE_SUMMARY
    else:
        built = build_expectations(expectations)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aims-digest") as pool:
            digest_future = pool.submit(frame_sha256, df)
            result = validate_frame(df, built)
            digest = digest_future.result()
        summary = summarize_validation(result, include_values=include_values, order=built)
    return QualityNumbers(
        summary=summary, digest=digest, rows=int(df.shape[0]), columns=int(df.shape[1])
    )


__all__ = ["measure_quality", "validate_frame"]
