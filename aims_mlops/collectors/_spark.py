"""What the collectors share about Spark: recognising a Spark DataFrame without importing pyspark.

pyspark is an optional extra (``pip install "aims-mlops[spark]"``, with pyspark's ``connect``
requirements: without grpc, pyspark's import inside ``python -c`` takes itself for a doctest run
and exits the process, and Great Expectations imports pyspark whenever it is installed).
Nothing here imports pyspark: a Spark DataFrame is recognised by its class's module, and a
process that never loaded pyspark holds none. The Spark code paths (``_spark_*.py``) import
it on first use.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

#: pip's name for the extra that installs pyspark.
SPARK_EXTRA = "aims-mlops[spark]"

ERROR_MIXED_ENGINES = (
    "the {what} is a Spark DataFrame but the {other} is a {got}: pass both as Spark DataFrames "
    "(spark.createDataFrame(pandas_df)) or both as pandas DataFrames"
)
ERROR_UNKNOWN_COLUMN = (
    "column {column!r} not found in the Spark DataFrame; its columns are: {columns}"
)


def is_spark_frame(value: Any) -> bool:
    """True for a ``pyspark.sql`` DataFrame (classic or Spark Connect), without importing pyspark.

    pandas-on-Spark frames (``pyspark.pandas``) are not Spark DataFrames here: pass
    ``frame.to_spark()``.
    """
    cls = type(value)
    return cls.__name__ == "DataFrame" and cls.__module__.startswith("pyspark.sql.")


def import_gx_quietly() -> None:
    """Import great_expectations with pyspark's import-time warning silenced.

    GE imports pyspark when it is installed, and pyspark 4.3 then warns (a ``FutureWarning`` on
    stderr, in every process that checks a pandas frame) that it "does not yet fully support
    pandas >= 3.0.0". Only that message is silenced, only during the import.
    """
    if "great_expectations" in sys.modules:
        return
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        import great_expectations  # noqa: F401 - imported for its side effect, once


def spark_columns(df: Any, names: list[str]) -> None:
    """Raise :class:`DataError` naming the first of ``names`` that ``df`` lacks."""
    from aims_mlops._errors import DataError

    have = list(df.columns)
    for name in names:
        if name not in have:
            raise DataError(
                ERROR_UNKNOWN_COLUMN.format(column=name, columns=", ".join(have) or "(none)")
            )


__all__ = ["SPARK_EXTRA", "import_gx_quietly", "is_spark_frame", "spark_columns"]
