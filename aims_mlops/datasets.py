"""Data sets: the bundled real data set (UCI Adult, CC BY 4.0, see ``data/README.md``) and
:func:`dataset_digest`, the full-content digest of a pandas or Spark DataFrame."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from aims_mlops._errors import DataError
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.collectors._row_digest import (
    ERROR_NOT_A_FRAME,
    pandas_row_set_digest,
    spark_row_set_digest,
)
from aims_mlops.collectors._spark import is_spark_frame

if TYPE_CHECKING:
    import pandas as pd

ADULT_COLUMNS: tuple[str, ...] = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
ADULT_SENSITIVE: tuple[str, ...] = ("sex", "race", "age")
ADULT_ATTRIBUTION = (
    "UCI Adult (Census Income), Becker & Kohavi (1996), https://doi.org/10.24432/C5XW20, CC BY 4.0"
)


def load_adult(split: Literal["train", "test"] = "train") -> pd.DataFrame:
    """Load the Adult split as a DataFrame with named columns, ``?`` as missing, and a 0/1
    ``label`` column (1 for income ``>50K``)."""
    import pandas as pd

    filename = {"train": "adult.data.gz", "test": "adult.test.gz"}[split]
    with resources.files("aims_mlops").joinpath("data", filename).open("rb") as handle:
        frame = pd.read_csv(
            handle,
            compression="gzip",
            header=None,
            names=list(ADULT_COLUMNS),
            skipinitialspace=True,
            na_values="?",
            comment="|",
        )
    frame = frame.dropna(how="all").reset_index(drop=True)
    frame["income"] = frame["income"].str.rstrip(".")
    frame["label"] = (frame["income"] == ">50K").astype("int64")
    return frame


ERROR_ORDERED_SPARK = (
    "a Spark DataFrame has no row order: only the order-independent digest exists for it "
    "(order_independent=True or None)"
)


def dataset_digest(df: Any, *, order_independent: bool | None = None) -> str:
    """The full-content SHA-256 digest of a data set (hex), as lineage records it.

    - a **pandas** DataFrame or Series: by default the digest lineage records for a pandas frame
      (``frame_sha256``: every row in order, column names and dtypes; row order counts);
      ``order_independent=True`` gives the row-set digest below instead.
    - a **Spark** DataFrame: the row-set digest ``aims-rowset-v1``, computed in the cluster in
      one aggregation, independent of row order and partitioning (a Spark DataFrame has no
      row order, so ``order_independent=False`` is refused).

    The row-set digest (construction and collision properties: ``collectors/_row_digest.py``)
    is SHA-256 over the column names and types, the row count and the sum modulo 2^256 of the
    rows' SHA-256 hashes. A pandas frame and a Spark DataFrame holding the same rows with the
    same column names and types (integer, float, boolean, string, date, timestamp) give the
    same row-set digest.
    """
    if is_spark_frame(df):
        if order_independent is False:
            raise DataError(ERROR_ORDERED_SPARK)
        return spark_row_set_digest(df)
    import pandas as pd

    if not isinstance(df, pd.DataFrame | pd.Series):
        raise DataError(ERROR_NOT_A_FRAME.format(got=type(df).__name__))
    if order_independent:
        return pandas_row_set_digest(df)
    return frame_sha256(df)
