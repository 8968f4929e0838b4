"""The DataFrame form of fairness: label, prediction and sensitive features named as columns of
one frame, pandas or Spark (``assess_fairness(df, y_true="label", y_pred="pred",
sensitive_features=["sex"])``). A pandas frame takes the vectorized pandas path, a Spark
DataFrame one distributed aggregation; both build the record from the same group table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._fairness import (
    ERROR_NO_SENSITIVE,
    FairnessOptions,
    FairnessResult,
    fairness_record_from_table,
    measure_fairness,
    select_sensitive,
)
from aims_mlops.collectors._spark import is_spark_frame
from aims_mlops.collectors._spark_fairness import spark_group_table
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
    options: FairnessOptions,
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
) -> FairnessResult:
    """The ``fairness`` record of the named columns of a pandas or Spark DataFrame (identifier-
    like sensitive features refused as :func:`fairness_record` refuses them)."""
    features = sensitive_features
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise DataError(ERROR_NO_SENSITIVE)
    about = {"system": system, "subject": subject, "config_digest": config_digest}
    if is_spark_frame(frame):
        table = spark_group_table(
            frame, y_true=y_true, y_pred=y_pred, sensitive=names, pos_label=options.pos_label
        )
        return fairness_record_from_table(table, options=options, **about)
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(frame).__name__))
    for which, column in (("y_true", y_true), ("y_pred", y_pred)):
        if column not in frame.columns:
            listed = ", ".join(str(c) for c in frame.columns) or "(none)"
            raise DataError(ERROR_LABEL_COLUMN.format(which=which, column=column, columns=listed))
    return measure_fairness(
        frame[y_true], frame[y_pred], select_sensitive(frame, names), options=options, **about
    )


__all__ = ["frame_fairness_record"]
