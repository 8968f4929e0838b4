"""The bundled real data set: UCI Adult (Census Income), CC BY 4.0 (see ``data/README.md``)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Literal

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
