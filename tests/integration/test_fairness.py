"""Fairness collector against fairlearn itself, on the real Adult data (slow)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aims_mlops.collectors._fairness import fairness_record, group_table
from aims_mlops.datasets import load_adult

pytestmark = pytest.mark.slow

NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
TOLERANCE = 1e-9
DISPARITY_FUNCTIONS = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
]
CASES = {"sex": ["sex"], "race": ["race"], "sex+race": ["sex", "race"]}


@pytest.fixture(scope="module")
def adult() -> dict[str, Any]:
    """Adult test split with predictions of a logistic regression trained on the train split."""
    from sklearn.linear_model import LogisticRegression

    train, test = load_adult("train"), load_adult("test")
    model = LogisticRegression(max_iter=1000).fit(train[NUMERIC], train["label"])
    return {"data": test, "y_true": test["label"], "y_pred": model.predict(test[NUMERIC])}


def _sensitive(data: pd.DataFrame, names: list[str]) -> pd.Series | pd.DataFrame:
    return data[names[0]] if len(names) == 1 else data[names]


@pytest.mark.parametrize("case", CASES)
def test_disparities_match_fairlearn(adult: dict[str, Any], case: str) -> None:
    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score

    sensitive = _sensitive(adult["data"], CASES[case])
    y_true, y_pred = adult["y_true"], adult["y_pred"]
    record = fairness_record(y_true, y_pred, sensitive, system="adult", thresholds={}).record

    for name in DISPARITY_FUNCTIONS:
        expected = float(getattr(flm, name)(y_true, y_pred, sensitive_features=sensitive))
        assert np.isfinite(expected)
        assert record.metrics[name] == pytest.approx(expected, abs=TOLERANCE), name

    accuracy = flm.MetricFrame(
        metrics=accuracy_score, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive
    )
    assert record.metrics["accuracy_difference"] == pytest.approx(
        float(accuracy.difference()), abs=TOLERANCE
    )
    assert record.metrics["accuracy"] == pytest.approx(float(accuracy.overall), abs=TOLERANCE)
    assert record.metrics["selection_rate"] == pytest.approx(
        float(flm.selection_rate(y_true, y_pred)), abs=TOLERANCE
    )
    assert record.outcome == "info"
    record.verify()


@pytest.mark.parametrize("case", CASES)
def test_group_table_matches_metric_frame(adult: dict[str, Any], case: str) -> None:
    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score

    sensitive = _sensitive(adult["data"], CASES[case])
    y_true, y_pred = adult["y_true"], adult["y_pred"]
    columns = {
        "count": flm.count,
        "selection_rate": flm.selection_rate,
        "accuracy": accuracy_score,
        "true_positive_rate": flm.true_positive_rate,
        "false_positive_rate": flm.false_positive_rate,
        "false_negative_rate": flm.false_negative_rate,
        "true_negative_rate": flm.true_negative_rate,
    }
    frame = flm.MetricFrame(
        metrics=columns, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive
    )
    # fairlearn lists every combination of observed values; empty ones are all-NaN rows
    expected = frame.by_group.dropna(how="all")
    table = group_table(y_true, y_pred, sensitive)

    assert list(table.index) == list(expected.index)
    assert list(table.index.names) == list(expected.index.names)
    ours = table[list(columns)].to_numpy(dtype=float)
    theirs = expected[list(columns)].to_numpy(dtype=float)
    assert np.abs(ours - theirs).max() <= TOLERANCE
    if case == "sex+race":
        assert len(table) == 10


def test_string_labels_with_pos_label_match_fairlearn(adult: dict[str, Any]) -> None:
    from fairlearn import metrics as flm

    data = adult["data"]
    y_pred_text = np.where(adult["y_pred"] == 1, ">50K", "<=50K")
    record = fairness_record(
        data["income"], y_pred_text, data[["sex", "race"]], system="adult", thresholds={},
        pos_label=">50K",
    ).record  # fmt: skip
    expected = flm.equalized_odds_difference(
        adult["y_true"], adult["y_pred"], sensitive_features=data[["sex", "race"]]
    )
    assert record.metrics["equalized_odds_difference"] == pytest.approx(expected, abs=TOLERANCE)


def test_unfair_predictor_fails_with_a_reason(adult: dict[str, Any]) -> None:
    from fairlearn import metrics as flm

    data = adult["data"]
    y_pred = (data["sex"] == "Male").astype("int64")  # selects every man and no woman
    thresholds = {"demographic_parity_difference": {"max": 0.1}}
    record = fairness_record(
        adult["y_true"], y_pred, data["sex"], system="adult", thresholds=thresholds
    ).record
    expected = flm.demographic_parity_difference(
        adult["y_true"], y_pred, sensitive_features=data["sex"]
    )
    assert expected == 1.0
    assert record.outcome == "fail"
    assert record.metrics["demographic_parity_difference"] == expected
    # no woman is selected: the record says so, then the threshold it breaks
    assert "receive no positive prediction" in record.details["reasons"][0]
    assert list(record.details["reasons"])[1:] == [
        "demographic_parity_difference = 1 is above the maximum 0.1"
    ]
    fair = fairness_record(
        adult["y_true"], adult["y_pred"], data["sex"], system="adult",
        thresholds={"demographic_parity_difference": {"max": 0.5}},
    ).record  # fmt: skip
    assert fair.outcome == "pass"


DEGENERATE = {
    # group b has no actual positives, group c no actual negatives
    "no positives / no negatives": ([1, 1, 0, 0, 0, 0, 1, 1], [1, 0, 1, 0, 1, 0, 0, 0]),
    # nothing selected: every ratio is 0/0
    "nothing selected": ([1, 1, 0, 0, 0, 0, 1, 1], [0] * 8),
    # no false positives anywhere: fpr ratio 0/0, tpr ratio finite
    "no false positives": ([1, 1, 0, 0, 0, 0, 1, 1], [1, 0, 0, 0, 0, 0, 1, 1]),
    # everything selected
    "everything selected": ([1, 1, 0, 0, 0, 0, 1, 1], [1] * 8),
}


@pytest.mark.parametrize("case", DEGENERATE)
def test_degenerate_cases_match_fairlearn(case: str) -> None:
    from fairlearn import metrics as flm

    from aims_mlops.collectors._fairness import disparities

    y_true, y_pred = (np.array(v) for v in DEGENERATE[case])
    groups = pd.Series(["a", "a", "a", "a", "b", "b", "c", "c"], name="g")
    ours = disparities(group_table(y_true, y_pred, groups))
    for name in DISPARITY_FUNCTIONS:
        expected = float(getattr(flm, name)(y_true, y_pred, sensitive_features=groups))
        if np.isnan(expected):
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(expected, abs=TOLERANCE), name


def test_a_million_rows_in_under_a_second(adult: dict[str, Any]) -> None:
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(adult["data"]), size=1_000_000)
    data = adult["data"].iloc[picks].reset_index(drop=True)
    y_true = data["label"].to_numpy()
    y_pred = np.asarray(adult["y_pred"])[picks]
    start = time.perf_counter()
    result = fairness_record(
        y_true, y_pred, data[["sex", "race"]], system="adult",
        thresholds={"equalized_odds_difference": {"max": 0.2}},
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert result.record.details["rows"] == 1_000_000
    assert elapsed < 1.0, f"fairness_record took {elapsed:.2f} s on 1,000,000 rows"


def test_sample_weight_equals_fairlearns_weighted_numbers() -> None:
    """Issue 24 finding 8: fairlearn's weighted numbers differ from the unweighted ones on all
    six disparity metrics; ours equal fairlearn's with the same weights."""
    from fairlearn import metrics as flm

    from aims_mlops.collectors._fairness import disparities

    rng = np.random.default_rng(7)
    n = 4000
    sex = rng.choice(["F", "M"], size=n)
    y_true = rng.integers(0, 2, size=n)
    y_pred = np.where(sex == "M", rng.random(n) < 0.6, rng.random(n) < 0.35).astype(int)
    weights = rng.uniform(0.1, 5.0, size=n)
    ours = disparities(group_table(y_true, y_pred, sex, sample_weight=weights))
    theirs = {
        "demographic_parity_difference": flm.demographic_parity_difference,
        "demographic_parity_ratio": flm.demographic_parity_ratio,
        "equalized_odds_difference": flm.equalized_odds_difference,
        "equalized_odds_ratio": flm.equalized_odds_ratio,
        "equal_opportunity_difference": flm.equal_opportunity_difference,
        "equal_opportunity_ratio": flm.equal_opportunity_ratio,
    }
    unweighted = disparities(group_table(y_true, y_pred, sex))
    for name, metric in theirs.items():
        expected = metric(y_true, y_pred, sensitive_features=sex, sample_weight=weights)
        assert ours[name] == pytest.approx(expected, abs=1e-12), name
        assert unweighted[name] != pytest.approx(expected, abs=1e-6), name
