"""The collectors on a local Spark session give the evidence the pandas path gives (slow).

One ``local[2]`` session for the module (the ``spark`` fixture of ``tests/spark_fixtures.py``),
frames of a few thousand
rows of the real Adult data, each compared with the equal pandas frame.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aims_mlops._errors import DataError
from aims_mlops.collectors._fairness import (
    ERROR_MISSING_GROUP_VALUES,
    ERROR_MISSING_LABELS,
    ERROR_NOT_BINARY,
    FairnessOptions,
    fairness_record,
)
from aims_mlops.collectors._spark import ERROR_UNKNOWN_COLUMN, is_spark_frame
from aims_mlops.collectors.backends import data_quality_record, frame_fairness_record
from aims_mlops.datasets import ERROR_ORDERED_SPARK, dataset_digest, load_adult
from tests.integration.test_lineage import (  # noqa: F401 - autolog is a fixture
    autolog,
    by_kind,
    evidence_on_run,
)
from tests.spark_fixtures import QUIET_PYSPARK

pytestmark = [pytest.mark.slow, *QUIET_PYSPARK]

ROWS = 3_000
TOLERANCE = 1e-9
SENSITIVE = ["sex", "race"]
COLUMNS = ["age", "workclass", "education_num", "sex", "race", "hours_per_week", "label"]
EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "workclass"}},
    {"type": "expect_column_values_to_be_between",
     "kwargs": {"column": "age", "min_value": 18, "max_value": 80}},
    {"type": "expect_column_values_to_be_in_set",
     "kwargs": {"column": "sex", "value_set": ["Female", "Male"]}},
    {"type": "expect_column_mean_to_be_between",
     "kwargs": {"column": "hours_per_week", "min_value": 30, "max_value": 50}},
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1000}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "age"}},
]  # fmt: skip


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    """A few thousand Adult rows and a rule-based prediction (0/1)."""
    frame = load_adult("train").loc[: ROWS - 1, COLUMNS].reset_index(drop=True)
    frame["prediction"] = ((frame["education_num"] >= 13) | (frame["age"] > 55)).astype("int64")
    return frame


@pytest.fixture(scope="module")
def adult_spark(spark: Any, adult: pd.DataFrame) -> Any:
    return spark.createDataFrame(adult)


# -- the digest --------------------------------------------------------------------------------
def test_spark_frames_are_recognised_without_pyspark_types(adult_spark: Any) -> None:
    assert is_spark_frame(adult_spark)
    assert not is_spark_frame(adult_spark.toPandas())
    assert not is_spark_frame(None)


def test_digest_ignores_order_and_partitioning(adult_spark: Any) -> None:
    digest = dataset_digest(adult_spark)
    assert len(digest) == 64
    shuffled = adult_spark.orderBy("hours_per_week", "age").repartition(3)
    assert dataset_digest(shuffled) == digest
    assert dataset_digest(adult_spark.coalesce(1)) == digest


def test_digest_changes_with_one_value_a_duplicate_or_a_name(
    spark: Any, adult: pd.DataFrame
) -> None:
    digest = dataset_digest(spark.createDataFrame(adult))
    changed = adult.copy()
    changed.loc[1234, "hours_per_week"] += 1
    assert dataset_digest(spark.createDataFrame(changed)) != digest
    doubled = pd.concat([adult, adult.iloc[[7]]], ignore_index=True)
    assert dataset_digest(spark.createDataFrame(doubled)) != digest
    renamed = adult.rename(columns={"age": "age_years"})
    assert dataset_digest(spark.createDataFrame(renamed)) != digest


def test_digest_equals_the_pandas_row_set_digest(adult: pd.DataFrame, adult_spark: Any) -> None:
    digest = dataset_digest(adult_spark)
    assert dataset_digest(adult, order_independent=True) == digest
    reordered = adult.sample(frac=1.0, random_state=7)
    assert dataset_digest(reordered, order_independent=True) == digest
    # the default pandas digest is lineage's, row-ordered one: a different construction
    assert dataset_digest(adult) != digest
    assert dataset_digest(reordered) != dataset_digest(adult)


def test_digest_of_every_scalar_type_matches_across_engines(spark: Any) -> None:
    import datetime as dt

    frame = pd.DataFrame(
        {
            "i": [1, -2, 3, 2**62],
            "f": [0.1, -0.0, float("inf"), float("nan")],
            "s": ["a", "é😀", "", None],
            "b": [True, False, True, True],
            "t": pd.to_datetime(
                ["2024-01-01 10:00:00.123456", "1969-12-31 23:59:59.5", "2030-06-01", None],
                format="ISO8601",
            ),
            "d": [dt.date(2024, 2, 29), dt.date(1900, 1, 1), None, dt.date(2000, 1, 1)],
        }
    )
    assert dataset_digest(spark.createDataFrame(frame)) == dataset_digest(
        frame, order_independent=True
    )


def test_an_ordered_spark_digest_is_refused(adult_spark: Any) -> None:
    with pytest.raises(DataError) as caught:
        dataset_digest(adult_spark, order_independent=False)
    assert str(caught.value) == ERROR_ORDERED_SPARK


# -- data quality ------------------------------------------------------------------------------
def _checks_without_exceptions(record: Any) -> list[dict[str, Any]]:
    return list(record.details["checks"])


def test_check_data_on_spark_gives_the_pandas_evidence(
    adult: pd.DataFrame, adult_spark: Any
) -> None:
    on_pandas = data_quality_record(adult, EXPECTATIONS, name="adult", system="s")
    on_spark = data_quality_record(adult_spark, EXPECTATIONS, name="adult", system="s")
    assert on_spark.outcome == on_pandas.outcome == "fail"
    assert on_spark.metrics == on_pandas.metrics
    assert _checks_without_exceptions(on_spark) == _checks_without_exceptions(on_pandas)
    assert on_spark.subject.dataset_digests == (dataset_digest(adult_spark),)
    assert on_spark.details["dataset_digest"] == dataset_digest(adult, order_independent=True)
    on_spark.verify()


def test_spark_check_data_keeps_values_out_unless_asked(adult_spark: Any) -> None:
    plain = data_quality_record(adult_spark, EXPECTATIONS, name="adult", system="s")
    assert not any("values" in check for check in plain.details["checks"])
    revealing = data_quality_record(
        adult_spark, EXPECTATIONS, name="adult", system="s", include_values=True
    )
    assert any("values" in check for check in revealing.details["checks"])


# -- fairness ----------------------------------------------------------------------------------
@pytest.mark.parametrize("sensitive", [["sex"], ["race"], ["sex", "race"]])
def test_fairness_on_spark_equals_pandas_and_fairlearn(
    adult: pd.DataFrame, adult_spark: Any, sensitive: list[str]
) -> None:
    from fairlearn import metrics as flm

    limits = {"demographic_parity_difference": {"max": 0.1}}
    on_spark = frame_fairness_record(
        adult_spark, y_true="label", y_pred="prediction", sensitive_features=sensitive,
        system="s", options=FairnessOptions(thresholds=limits),
    )  # fmt: skip
    on_pandas = frame_fairness_record(
        adult, y_true="label", y_pred="prediction", sensitive_features=sensitive,
        system="s", options=FairnessOptions(thresholds=limits),
    )  # fmt: skip
    arrays = fairness_record(
        adult["label"], adult["prediction"], adult[sensitive], system="s", thresholds=limits
    )
    assert on_spark.record.outcome == on_pandas.record.outcome == arrays.record.outcome
    assert on_spark.record.details["checks"] == on_pandas.record.details["checks"]
    assert on_spark.record.details["group_table"] == on_pandas.record.details["group_table"]
    assert set(on_spark.record.metrics) == set(on_pandas.record.metrics)
    for name, value in on_pandas.record.metrics.items():
        assert on_spark.record.metrics[name] == pytest.approx(value, abs=TOLERANCE), name
    pd.testing.assert_frame_equal(
        on_spark.table.reset_index(drop=True), on_pandas.table.reset_index(drop=True)
    )

    collected = adult_spark.toPandas()  # fairlearn on the rows Spark holds
    features = collected[sensitive]
    for name in ("demographic_parity_difference", "equalized_odds_difference",
                 "demographic_parity_ratio", "equal_opportunity_difference"):  # fmt: skip
        expected = float(
            getattr(flm, name)(
                collected["label"], collected["prediction"], sensitive_features=features
            )
        )
        assert on_spark.record.metrics[name] == pytest.approx(expected, abs=TOLERANCE), name


def test_spark_fairness_refuses_what_pandas_refuses(spark: Any, adult: pd.DataFrame) -> None:
    def spark_error(frame: pd.DataFrame, **columns: Any) -> str:
        with pytest.raises(DataError) as caught:
            frame_fairness_record(
                spark.createDataFrame(frame), system="s", options=FairnessOptions(),
                **{"y_true": "label", "y_pred": "prediction", "sensitive_features": ["sex"],
                   **columns},
            )  # fmt: skip
        return str(caught.value)

    scores = adult.assign(prediction=np.linspace(0, 1, len(adult)))
    assert spark_error(scores).startswith(ERROR_NOT_BINARY.split("{")[0])
    missing = adult.astype({"sex": object}).copy()
    missing.loc[[3, 4], "sex"] = None
    assert spark_error(missing) == ERROR_MISSING_GROUP_VALUES.format(name="sex", count=2)
    unlabeled = adult.astype({"label": "float64"}).copy()
    unlabeled.loc[5, "label"] = np.nan
    assert spark_error(unlabeled) == ERROR_MISSING_LABELS.format(which="y_true", count=1)
    columns = ", ".join(adult.columns)
    assert spark_error(adult, y_pred="nope") == ERROR_UNKNOWN_COLUMN.format(
        column="nope", columns=columns
    )


def test_public_assess_fairness_takes_both_forms(
    isolated_mlflow: str, adult: pd.DataFrame, adult_spark: Any
) -> None:
    import aims_mlops

    with pytest.warns(aims_mlops.AimsWarning, match="no aims.yaml"):
        aims_mlops.init(system="adult-income", tracking_uri=isolated_mlflow, autolog=False)
    on_spark = aims_mlops.assess_fairness(
        adult_spark, y_true="label", y_pred="prediction", sensitive_features=["sex"]
    )
    positional = aims_mlops.assess_fairness(adult["label"], adult["prediction"], adult["sex"])
    assert on_spark.kind == positional.kind == "fairness"
    assert on_spark.metrics == pytest.approx(positional.metrics, abs=TOLERANCE)
    assert all(math.isfinite(v) for v in on_spark.metrics.values())


# -- monitoring --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batches(adult: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A reference, a batch like it, and a drifted batch (older applicants), with a float
    column holding missing values."""
    rng = np.random.default_rng(16)
    current = load_adult("test").loc[: ROWS - 1, COLUMNS].reset_index(drop=True)
    frames = {"reference": adult[COLUMNS].copy(), "current": current}
    frames["drifted"] = current.assign(age=current["age"] + 9)
    for frame in frames.values():
        frame["score"] = rng.normal(size=len(frame)).round(3)
        frame.loc[frame.index[::50], "score"] = np.nan
    return frames


def _same_monitoring_evidence(on_spark: Any, on_pandas: Any) -> None:
    assert on_spark.outcome == on_pandas.outcome
    assert set(on_spark.metrics) == set(on_pandas.metrics)
    for name, value in on_pandas.metrics.items():
        assert on_spark.metrics[name] == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE), name
    assert on_spark.details["checks"] == on_pandas.details["checks"]
    by_feature = {f["feature"]: f for f in on_pandas.details["features"]}
    for feature in on_spark.details["features"]:
        expected = by_feature[feature["feature"]]
        for key in ("kind", "drifted", "psi", "test", "statistic", "p_value", "reference"):
            if key == "reference" and feature["kind"] == "categorical":
                continue  # category order of ties may differ; counts and shares agree
            assert feature[key] == expected[key], (feature["feature"], key)


@pytest.mark.parametrize("batch", ["current", "drifted"])
def test_monitoring_on_spark_gives_the_pandas_evidence(
    spark: Any, batches: dict[str, pd.DataFrame], batch: str
) -> None:
    from aims_mlops.collectors.backends import monitoring_record

    reference, current = batches["reference"], batches[batch]
    on_pandas = monitoring_record(current, reference, system="s")
    on_spark = monitoring_record(
        spark.createDataFrame(current), spark.createDataFrame(reference), system="s"
    )
    _same_monitoring_evidence(on_spark, on_pandas)
    assert (on_spark.outcome == "fail") == (batch == "drifted")
    assert on_spark.details["reference_sha256"] == dataset_digest(reference, order_independent=True)


def test_monitoring_from_weighted_counts_matches_too(
    spark: Any, batches: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above MAX_REBUILT_ROWS the statistics come from the value counts, not rebuilt samples."""
    from aims_mlops.collectors.backends import _spark_monitoring, monitoring_record

    monkeypatch.setattr(_spark_monitoring, "MAX_REBUILT_ROWS", 0)
    reference, current = batches["reference"], batches["drifted"]
    on_pandas = monitoring_record(current, reference, system="s")
    on_spark = monitoring_record(
        spark.createDataFrame(current), spark.createDataFrame(reference), system="s"
    )
    _same_monitoring_evidence(on_spark, on_pandas)


def test_monitoring_with_approximate_quantiles_keeps_the_verdicts(
    spark: Any, batches: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columns with many distinct values take the quantile-grid path: close, same verdicts."""
    from aims_mlops.collectors.backends import _spark_monitoring, monitoring_record

    monkeypatch.setattr(_spark_monitoring, "MAX_EXACT_DISTINCT", 0)
    reference, current = batches["reference"], batches["drifted"]
    on_pandas = monitoring_record(current, reference, system="s")
    on_spark = monitoring_record(
        spark.createDataFrame(current), spark.createDataFrame(reference), system="s"
    )
    assert on_spark.outcome == on_pandas.outcome == "fail"
    expected = {f["feature"]: f for f in on_pandas.details["features"]}
    for feature in on_spark.details["features"]:
        pandas_feature = expected[feature["feature"]]
        assert feature["drifted"] == pandas_feature["drifted"], feature["feature"]
        if feature["kind"] == "numeric":
            assert feature["quantiles"].startswith("approximate")
            assert feature["psi"] == pytest.approx(pandas_feature["psi"], abs=0.02)
            assert feature["statistic"] == pytest.approx(pandas_feature["statistic"], abs=0.02)


def test_public_monitor_on_spark(
    isolated_mlflow: str, spark: Any, batches: dict[str, pd.DataFrame]
) -> None:
    import aims_mlops

    with pytest.warns(aims_mlops.AimsWarning, match="no aims.yaml"):
        aims_mlops.init(system="adult-income", tracking_uri=isolated_mlflow, autolog=False)
    record = aims_mlops.monitor(
        spark.createDataFrame(batches["drifted"]), batches["reference"], model_version="3"
    )
    assert record.kind == "monitoring"
    assert record.outcome == "fail"
    assert record.metrics["current_rows"] == ROWS
    assert any(check["feature"] == "age" for check in record.details["checks"])


# -- lineage -----------------------------------------------------------------------------------
@pytest.mark.usefixtures("autolog")
def test_lineage_records_spark_datasets_with_their_row_set_digest(
    adult_spark: Any, tmp_path: Any
) -> None:
    """``mlflow.data.from_spark`` datasets get the full-content digest (MLflow's own digest of
    a Spark dataset hashes its query plan, not its rows) and, for Delta, the table version."""
    import mlflow

    mlflow.set_experiment("income-spark")
    plain = mlflow.data.from_spark(adult_spark, path=str(tmp_path / "adult.parquet"), name="adult")
    # a Delta table's layout (a _delta_log folder): MLflow then records a Delta source, whose
    # version is the one given (delta-spark would be needed to read the latest one)
    table = tmp_path / "adult_delta"
    (table / "_delta_log").mkdir(parents=True)
    delta = mlflow.data.from_spark(adult_spark, path=str(table), version=3, name="adult_delta")
    with mlflow.start_run() as run:
        mlflow.log_input(plain, context="training")
        mlflow.log_input(delta, context="evaluation")
    record = by_kind(evidence_on_run(run.info.run_id))["lineage.datasets"]
    entries = {entry["name"]: entry for entry in record.details["datasets"]}
    assert entries["adult"]["sha256"] == dataset_digest(adult_spark)
    assert entries["adult_delta"]["sha256"] == dataset_digest(adult_spark)
    assert entries["adult"]["delta_version"] is None
    assert entries["adult_delta"]["source_type"] == "delta_table"
    assert entries["adult_delta"]["delta_version"] == 3
    assert dataset_digest(adult_spark) in record.subject.dataset_digests
    assert record.metrics["datasets_full_content_hashed"] == 2


def test_identifier_like_columns_are_refused_or_skipped_on_spark(
    spark: Any, batches: dict[str, pd.DataFrame]
) -> None:
    """The personal-data rules hold on Spark: no identifier's values reach the driver."""
    from aims_mlops.collectors._identifiers import ERROR_LOOKS_LIKE_IDENTIFIER
    from aims_mlops.collectors.backends import monitoring_record

    reference = batches["reference"].assign(email=[f"p{i}@example.org" for i in range(ROWS)])
    current = batches["current"].assign(email=[f"q{i}@example.org" for i in range(ROWS)])
    on_spark = spark.createDataFrame(reference)
    with pytest.raises(DataError) as caught:
        frame_fairness_record(
            on_spark, y_true="label", y_pred="label", sensitive_features=["email"],
            system="s", options=FairnessOptions(),
        )  # fmt: skip
    assert str(caught.value).startswith(ERROR_LOOKS_LIKE_IDENTIFIER.split("{")[0])
    record = monitoring_record(spark.createDataFrame(current), on_spark, system="s")
    assert list(record.details["identifier_columns_skipped"]) == ["email"]
    assert "email" not in {f["feature"] for f in record.details["features"]}
    with pytest.raises(DataError):
        monitoring_record(spark.createDataFrame(current), on_spark, system="s", columns=["email"])
