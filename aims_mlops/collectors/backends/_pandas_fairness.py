"""The pandas backend of fairness: the per-group confusion table of a pandas frame's named
columns (the vectorized :func:`aims_mlops.collectors._fairness.group_table`). The core
(:func:`aims_mlops.collectors._fairness.fairness_record_from_table`) builds the record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._fairness import group_table, select_sensitive

if TYPE_CHECKING:
    import pandas as pd

ERROR_LABEL_COLUMN = "{which} column {column!r} not found; the columns are: {columns}"
ERROR_NOT_A_FRAME = (
    "the DataFrame form of fairness needs a pandas or Spark DataFrame holding the columns; "
    "got {got}"
)


def measure_table(
    df: Any, *, y_true: str, y_pred: str, sensitive: Sequence[str], pos_label: Any = 1
) -> pd.DataFrame:
    """:func:`group_table` of a pandas DataFrame's columns (a missing column is named)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(df).__name__))
    for which, column in (("y_true", y_true), ("y_pred", y_pred)):
        if column not in df.columns:
            listed = ", ".join(str(c) for c in df.columns) or "(none)"
            raise DataError(ERROR_LABEL_COLUMN.format(which=which, column=column, columns=listed))
    return group_table(
        df[y_true], df[y_pred], select_sensitive(df, list(sensitive)), pos_label=pos_label
    )


__all__ = ["ERROR_LABEL_COLUMN", "ERROR_NOT_A_FRAME", "measure_table"]
