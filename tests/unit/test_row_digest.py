"""The row-set digest on pandas, the public dataset_digest, and Spark detection (no Spark)."""

from __future__ import annotations

import pandas as pd
import pytest

from aims_mlops._errors import AimsError, DataError
from aims_mlops.capture._api import ERROR_FAIRNESS_FORM
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.collectors._row_digest import ERROR_NOT_A_FRAME, _java_hex
from aims_mlops.collectors._spark import is_spark_frame
from aims_mlops.datasets import dataset_digest


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": [1, 2, 3, 2], "b": ["x", None, "é", "x"], "c": [0.5, float("nan"), -0.0, 1e300]}
    )


def test_the_default_pandas_digest_is_lineages(frame: pd.DataFrame) -> None:
    assert dataset_digest(frame) == frame_sha256(frame)


def test_the_row_set_digest_ignores_order_but_not_content(frame: pd.DataFrame) -> None:
    digest = dataset_digest(frame, order_independent=True)
    assert dataset_digest(frame.iloc[::-1], order_independent=True) == digest
    assert dataset_digest(frame.iloc[[0, 1, 2]], order_independent=True) != digest  # a duplicate
    changed = frame.copy()
    changed.loc[2, "c"] = 0.0  # -0.0 and 0.0 are different values
    assert dataset_digest(changed, order_independent=True) != digest
    assert dataset_digest(frame.rename(columns={"a": "z"}), order_independent=True) != digest
    assert dataset_digest(frame.astype({"a": "float64"}), order_independent=True) != digest


def test_floats_are_written_as_java_prints_them() -> None:
    assert _java_hex(1.0) == "0x1.0p0"
    assert _java_hex(-2.5) == "-0x1.4p1"
    assert _java_hex(0.1) == "0x1.999999999999ap-4"
    assert _java_hex(5e-324) == "0x0.0000000000001p-1022"
    assert _java_hex(float("-inf")) == "-Infinity"


def test_what_is_not_a_frame_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        dataset_digest([1, 2, 3])
    assert str(caught.value) == ERROR_NOT_A_FRAME.format(got="list")


def test_spark_frames_are_told_apart_by_module_only(frame: pd.DataFrame) -> None:
    fake = type("DataFrame", (), {"__module__": "pyspark.sql.classic.dataframe"})()
    on_spark_pandas = type("DataFrame", (), {"__module__": "pyspark.pandas.frame"})()
    assert is_spark_frame(fake)
    assert not is_spark_frame(on_spark_pandas)
    assert not is_spark_frame(frame)


def test_assess_fairness_refuses_a_mixed_call(frame: pd.DataFrame) -> None:
    import aims_mlops

    with pytest.raises(AimsError) as caught:
        aims_mlops.assess_fairness(frame, y_true="a", y_pred=[1, 0, 1, 0], system="s")
    assert str(caught.value) == ERROR_FAIRNESS_FORM
    with pytest.raises(AimsError) as caught:
        aims_mlops.assess_fairness([1, 0], [1, 0], ["x", "y"], y_true=[1, 0], system="s")
    assert str(caught.value) == ERROR_FAIRNESS_FORM
