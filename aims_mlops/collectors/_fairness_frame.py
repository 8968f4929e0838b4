"""The DataFrame form of fairness: label, prediction and sensitive features named as columns of
one frame, pandas or Spark (``assess_fairness(df, y_true="label", y_pred="pred",
sensitive_features=["sex"])``). A pandas frame takes the vectorized pandas path, a Spark
DataFrame one distributed aggregation; both build the record from the same group table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._fairness import (
    ERROR_NO_SENSITIVE,
    FairnessResult,
    fairness_record,
    fairness_record_from_table,
    select_sensitive,
)
from aims_mlops.collectors._identifiers import DEFAULT_MAX_CATEGORIES, DEFAULT_MIN_GROUP_SIZE
from aims_mlops.collectors._spark import is_spark_frame
from aims_mlops.evidence import Subject

ERROR_LABEL_COLUMN = "{which} column {column!r} not found; the columns are: {columns}"
ERROR_NOT_A_FRAME = (
    "the DataFrame form of fairness needs a pandas or Spark DataFrame holding the columns; "
    "got {got}"
)


def frame_fairness_record(
    frame: Any,
    *,
    y_true: str,
    y_pred: str,
    sensitive_features: Sequence[str] | str,
    system: str | None,
    thresholds: Mapping[str, Mapping[str, float]],
    subject: Subject | None = None,
    config_digest: str | None = None,
    pos_label: Any = 1,
    allow_identifiers: bool = False,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> FairnessResult:
    """The ``fairness`` record of the named columns of a pandas or Spark DataFrame (identifier-
    like sensitive features refused as :func:`fairness_record` refuses them)."""
    features = sensitive_features
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise DataError(ERROR_NO_SENSITIVE)
    if is_spark_frame(frame):
        from aims_mlops.collectors._spark_fairness import spark_group_table

        table = spark_group_table(
            frame, y_true=y_true, y_pred=y_pred, sensitive=names, pos_label=pos_label
        )
        return fairness_record_from_table(
            table, system=system, thresholds=thresholds, subject=subject,
            config_digest=config_digest, pos_label=pos_label,
            allow_identifiers=allow_identifiers, max_categories=max_categories,
            min_group_size=min_group_size,
        )  # fmt: skip
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(frame).__name__))
    for which, column in (("y_true", y_true), ("y_pred", y_pred)):
        if column not in frame.columns:
            listed = ", ".join(str(c) for c in frame.columns) or "(none)"
            raise DataError(ERROR_LABEL_COLUMN.format(which=which, column=column, columns=listed))
    return fairness_record(
        frame[y_true], frame[y_pred], select_sensitive(frame, names), system=system,
        thresholds=thresholds, subject=subject, config_digest=config_digest, pos_label=pos_label,
        allow_identifiers=allow_identifiers, max_categories=max_categories,
        min_group_size=min_group_size,
    )  # fmt: skip


__all__ = ["frame_fairness_record"]
