"""What the collectors share about Spark: recognising a Spark DataFrame without importing pyspark.

pyspark is an optional extra (``pip install "aims-mlops[spark]"``, with pyspark's ``connect``
requirements: without grpc, pyspark's import inside ``python -c`` takes itself for a doctest run
and exits the process, and Great Expectations imports pyspark whenever it is installed).
Nothing here imports pyspark: a Spark DataFrame is recognised by its class's module, and a
process that never loaded pyspark holds none. The Spark code paths (``_spark_*.py``) import
it on first use.
"""

from __future__ import annotations

from typing import Any

from aims_mlops._errors import DataError

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


def spark_columns(df: Any, names: list[str]) -> None:
    """Raise :class:`DataError` naming the first of ``names`` that ``df`` lacks."""
    have = list(df.columns)
    for name in names:
        if name not in have:
            raise DataError(
                ERROR_UNKNOWN_COLUMN.format(column=name, columns=", ".join(have) or "(none)")
            )


__all__ = ["SPARK_EXTRA", "is_spark_frame", "spark_columns"]
