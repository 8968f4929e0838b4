"""Drift measures of the monitoring collector, against hand-computed values and scipy."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aims_mlops import DataError
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.collectors._identifiers import hashed_label
from aims_mlops.collectors._monitoring import (
    ERROR_BAD_DATA_QUALITY,
    ERROR_MISSING_COLUMNS,
    ERROR_TYPE_MISMATCH,
    ERROR_UNKNOWN_COLUMNS,
    ERROR_UNKNOWN_THRESHOLD,
    ERROR_UNSUPPORTED_DTYPE,
    MAX_NAMED_CATEGORIES,
    population_stability_index,
)
from aims_mlops.collectors.backends import feature_drift, monitoring_record
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.evidence._record import MAX_DETAILS_CHARS

EPS = 1e-4


def psi_terms(pairs: list[tuple[float, float]]) -> float:
    """PSI written out: sum of (current - reference) * ln(current / reference)."""
    return sum((c - r) * math.log(c / r) for r, c in pairs)


# -- population stability index -----------------------------------------------------------------
def test_psi_numeric_matches_hand_computation() -> None:
    # median of 1..10 is 5.5: bins (-inf, 5.5], (5.5, inf); reference 5/5, current 8/2
    reference = list(range(1, 11))
    current = [1] * 8 + [6, 7]
    expected = psi_terms([(0.5, 0.8), (0.5, 0.2)])
    assert expected == pytest.approx(0.415888, abs=1e-6)
    assert population_stability_index(reference, current, bins=2) == pytest.approx(expected)


def test_psi_empty_bin_uses_epsilon() -> None:
    expected = psi_terms([(0.5, 1.0), (0.5, EPS)])
    assert population_stability_index(list(range(1, 11)), [1, 2, 3], bins=2) == pytest.approx(
        expected
    )


def test_psi_outer_bins_are_open_ended() -> None:
    # values far outside the reference range still fall in the outer bins: 1/1 as in the reference
    assert population_stability_index(list(range(1, 11)), [-500, 1e9], bins=2) == 0.0


def test_psi_bins_are_right_closed() -> None:
    # reference 1, 2, 2, 3: median 2, bins (-inf, 2] (3 values) and (2, inf) (1 value)
    expected = psi_terms([(0.75, 1.0), (0.25, EPS)])
    assert population_stability_index([1, 2, 2, 3], [2, 2, 2, 2], bins=2) == pytest.approx(expected)


def test_psi_merges_duplicate_quantile_edges() -> None:
    # quartiles of the reference are all 0: one edge, bins (-inf, 0] and (0, inf)
    reference = [0] * 8 + [1, 2]
    current = [0] + [1] * 9
    expected = psi_terms([(0.8, 0.1), (0.2, 0.9)])
    assert population_stability_index(reference, current, bins=4) == pytest.approx(expected)


def test_psi_categorical_with_a_new_category() -> None:
    reference = ["a"] * 6 + ["b"] * 4
    current = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    expected = psi_terms([(0.6, 0.5), (0.4, 0.3), (EPS, 0.2)])
    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_psi_categorical_counts_none_and_nan_as_one_missing_category() -> None:
    reference = pd.Series(["a", "a", None, np.nan], dtype=object)
    current = pd.Series(["a"] * 4, dtype=object)
    expected = psi_terms([(0.5, 1.0), (0.5, EPS)])
    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_psi_numeric_leaves_out_nan() -> None:
    reference = [*range(1, 11), np.nan, np.nan]
    assert population_stability_index(reference, list(range(1, 11)), bins=2) == 0.0


def test_psi_of_identical_data_is_zero() -> None:
    values = np.random.default_rng(3).normal(size=500)
    assert population_stability_index(values, values.copy()) == 0.0
    assert population_stability_index(["x", "y", "y"], ["y", "x", "y"]) == 0.0


# -- feature drift ------------------------------------------------------------------------------
def _frames(seed: int = 0, n: int = 300) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "income": rng.normal(50.0, 10.0, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    current = pd.DataFrame(
        {
            "income": rng.normal(58.0, 10.0, n),
            "colour": rng.choice(["red", "green", "blue", "violet"], n, p=[0.3, 0.3, 0.2, 0.2]),
        }
    )
    return reference, current


def test_identical_data_does_not_drift() -> None:
    reference, _ = _frames()
    drifts = feature_drift(reference.copy(), reference)
    assert [d.feature for d in drifts] == ["income", "colour"]
    for drift in drifts:
        assert drift.psi == 0.0
        assert drift.statistic == 0.0
        assert drift.p_value == 1.0
        assert drift.drifted is False


def test_ks_and_chi2_p_values_equal_scipy() -> None:
    reference, current = _frames()
    income, colour = feature_drift(current, reference)
    ks = stats.ks_2samp(reference["income"].to_numpy(), current["income"].to_numpy())
    assert (income.kind, income.test) == ("numeric", "ks")
    assert income.statistic == pytest.approx(ks.statistic)
    assert income.p_value == pytest.approx(ks.pvalue, rel=1e-9)

    ref_counts, cur_counts = Counter(reference["colour"]), Counter(current["colour"])
    categories = sorted(set(ref_counts) | set(cur_counts))
    table = [[ref_counts[c] for c in categories], [cur_counts[c] for c in categories]]
    chi2 = stats.chi2_contingency(table)
    assert (colour.kind, colour.test) == ("categorical", "chi2")
    assert colour.statistic == pytest.approx(chi2.statistic)
    assert colour.p_value == pytest.approx(chi2.pvalue, rel=1e-9)


def test_drift_verdict_and_reason() -> None:
    reference = pd.DataFrame({"x": list(range(1, 11)) * 10})
    current = pd.DataFrame({"x": ([1] * 8 + [6, 7]) * 10})
    (drift,) = feature_drift(current, reference, ks_pvalue_min=0.0)
    # reference deciles of 1..10 put each value in its own bin: 10% each; current 80% / 10% / 10%
    expected = psi_terms([(0.1, 0.8), (0.1, 0.1), (0.1, 0.1)] + [(0.1, EPS)] * 7)
    assert drift.psi == pytest.approx(expected)
    assert drift.drifted is True
    ks = stats.ks_2samp(reference["x"], current["x"])
    assert drift.reason == f"x: PSI {expected:.3g} > 0.2 (KS p = {ks.pvalue:.2g})".replace(
        "e-0", "e-"
    )
    (lenient,) = feature_drift(current, reference, psi_max=100.0, ks_pvalue_min=0.0)
    assert lenient.drifted is False
    assert lenient.reason.startswith(f"x: PSI {expected:.3g} <= 100 and KS p = ")


def test_small_p_value_alone_drifts() -> None:
    reference, current = _frames(n=2000)
    (income,) = feature_drift(current, reference, columns=["income"], psi_max=100.0)
    assert income.p_value < 0.01
    assert income.drifted is True
    assert income.reason.startswith("income: KS p = ")
    assert "< 0.01 (PSI " in income.reason


def test_categorical_new_category_drifts() -> None:
    reference = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 40})
    current = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    (drift,) = feature_drift(current, reference)
    expected = psi_terms([(0.6, 0.5), (0.4, 0.3), (EPS, 0.2)])
    assert drift.psi == pytest.approx(expected)
    chi2 = stats.chi2_contingency([[60, 40, 0], [50, 30, 20]])
    assert drift.p_value == pytest.approx(chi2.pvalue)
    assert drift.drifted is True
    assert f"{expected:.3g}" == "1.57"
    assert drift.reason == "c: PSI 1.57 > 0.2 and chi-squared p = 1.4e-5 < 0.01"
    assert f"{chi2.pvalue:.2g}" == "1.4e-05"


def test_numeric_nan_is_left_out_and_reported() -> None:
    reference = pd.DataFrame({"x": [*range(1, 11), np.nan, np.nan]})
    current = pd.DataFrame({"x": [float(v) for v in range(1, 11)]})
    (drift,) = feature_drift(current, reference)
    assert drift.psi == 0.0
    assert drift.p_value == 1.0
    assert drift.drifted is False
    assert drift.reference_missing == pytest.approx(2 / 12)
    assert drift.current_missing == 0.0
    assert drift.reason.endswith("; missing values 16.7 % -> 0.0 % of rows (left out of the test)")


def test_categorical_nan_is_a_missing_category() -> None:
    reference = pd.DataFrame({"c": ["a"] * 50 + [None] * 50})
    current = pd.DataFrame({"c": ["a"] * 100})
    (drift,) = feature_drift(current, reference)
    assert drift.psi == pytest.approx(psi_terms([(0.5, 1.0), (0.5, EPS)]))
    assert drift.reference_missing == 0.5
    assert drift.current_missing == 0.0
    assert drift.drifted is True


def test_all_missing_numeric_batch_drifts() -> None:
    reference = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    current = pd.DataFrame({"x": [np.nan, np.nan]})
    (drift,) = feature_drift(current, reference)
    assert drift.drifted is True
    assert math.isnan(drift.psi)
    assert drift.reason == "x: no non-missing values in the current batch"


def test_bool_and_category_dtypes_are_categorical() -> None:
    reference = pd.DataFrame(
        {
            "flag": [True, False] * 50,
            "grade": pd.Categorical(["A", "B"] * 50, categories=["A", "B", "C"]),
        }
    )
    drifts = feature_drift(reference.copy(), reference)
    assert [(d.kind, d.psi, d.p_value, d.drifted) for d in drifts] == [
        ("categorical", 0.0, 1.0, False),
        ("categorical", 0.0, 1.0, False),
    ]


def test_unsupported_columns_are_skipped_by_default_and_refused_by_name() -> None:
    reference = pd.DataFrame(
        {"x": [1.0, 2.0], "when": pd.to_datetime(["2026-01-01", "2026-01-02"])}
    )
    assert [d.feature for d in feature_drift(reference, reference)] == ["x"]
    with pytest.raises(DataError) as caught:
        feature_drift(reference, reference, columns=["when"])
    assert str(caught.value) == ERROR_UNSUPPORTED_DTYPE.format(
        column="when", dtype=reference["when"].dtype
    )


# -- errors -------------------------------------------------------------------------------------
def test_missing_columns_error_names_them_and_the_columns_there_are() -> None:
    reference = pd.DataFrame({"age": [1, 2], "sex": ["F", "M"], "race": ["a", "b"]})
    current = pd.DataFrame({"race": ["a"], "zip": ["1"]})
    with pytest.raises(DataError) as caught:
        feature_drift(current, reference)
    assert str(caught.value) == ERROR_MISSING_COLUMNS.format(
        missing="'age', 'sex'", columns="'race', 'zip'"
    )
    assert str(caught.value) == (
        "column(s) 'age', 'sex' of the reference data are missing from the current batch; "
        "it has: 'race', 'zip'"
    )


def test_unknown_column_error() -> None:
    reference = pd.DataFrame({"age": [1, 2]})
    with pytest.raises(DataError) as caught:
        feature_drift(reference, reference, columns=["agee"])
    assert str(caught.value) == ERROR_UNKNOWN_COLUMNS.format(missing="'agee'", columns="'age'")


def test_type_mismatch_error() -> None:
    reference = pd.DataFrame({"age": [30, 40]})
    current = pd.DataFrame({"age": ["thirty", "forty"]})
    with pytest.raises(DataError) as caught:
        feature_drift(current, reference)
    assert str(caught.value) == ERROR_TYPE_MISMATCH.format(
        column="age",
        reference_kind="numeric",
        reference_dtype=reference["age"].dtype,
        current_kind="categorical",
        current_dtype=current["age"].dtype,
    )


def test_bad_thresholds_and_data_quality_are_refused() -> None:
    reference, current = _frames()
    with pytest.raises(DataError) as caught:
        monitoring_record(current, reference, system="s", thresholds={"psi_mx": 0.1})
    assert str(caught.value) == ERROR_UNKNOWN_THRESHOLD.format(
        name="psi_mx", known="psi_max, ks_pvalue_min, chi2_pvalue_min"
    )
    with pytest.raises(DataError) as caught:
        monitoring_record(current, reference, system="s", data_quality={"success": True})
    assert str(caught.value) == ERROR_BAD_DATA_QUALITY.format(value="dict")


# -- the evidence record ------------------------------------------------------------------------
def test_record_passes_on_identical_data_and_verifies() -> None:
    reference, _ = _frames()
    current = reference.sample(frac=1.0, random_state=1)  # same rows, another order
    record = monitoring_record(
        current, reference, system="credit-scoring", model_version="3", config_digest="abc"
    )
    assert record.kind == "monitoring"
    assert record.system == "credit-scoring"
    assert record.outcome == "pass"
    assert record.controls == load_catalog().controls_for_kind("monitoring")
    assert record.config_digest == "abc"
    assert dict(record.metrics) == {
        "features_checked": 2.0,
        "features_drifted": 0.0,
        "max_psi": 0.0,
        "min_p_value": 1.0,
        "current_rows": 300.0,
        "reference_rows": 300.0,
    }
    # a clean batch records every check it ran, each passed, so the monitoring entries count it
    checks = record.details["checks"]
    assert [(c["check"], c["passed"]) for c in checks] == [("drift", True), ("drift", True)]
    assert len({c["feature"] for c in checks}) == 2
    assert record.details["model_version"] == "3"
    assert record.details["reference_sha256"] == frame_sha256(reference)
    assert record.details["current_sha256"] == frame_sha256(current)
    assert record.subject.model_version == "3"
    assert record.subject.dataset_digests == (frame_sha256(reference), frame_sha256(current))
    record.verify()
    EvidenceRecord.from_json(record.to_json()).verify()


def test_record_fails_on_drift_with_reasons() -> None:
    reference, current = _frames(n=2000)
    record = monitoring_record(current, reference, system="s", thresholds={"interval_days": 7})
    drifts = {d.feature: d for d in feature_drift(current, reference)}
    assert record.outcome == "fail"
    assert record.metrics["features_drifted"] == 2.0
    assert record.metrics["max_psi"] == pytest.approx(max(d.psi for d in drifts.values()))
    assert record.metrics["min_p_value"] == pytest.approx(min(d.p_value for d in drifts.values()))
    reasons = {c["feature"]: c["reason"] for c in record.details["checks"]}
    assert reasons == {name: d.reason for name, d in drifts.items()}
    # the worst feature (highest PSI: the new category) comes first
    assert [f["feature"] for f in record.details["features"]] == ["colour", "income"]
    record.verify()


def test_thresholds_mapping_is_applied() -> None:
    reference, current = _frames(n=2000)
    lenient = {"psi_max": 100.0, "ks_pvalue_min": 0.0, "chi2_pvalue_min": 0.0}
    record = monitoring_record(current, reference, system="s", thresholds=lenient)
    assert record.outcome == "pass"
    assert record.details["thresholds"] == {**lenient, "psi_bins": 10}


def test_failed_data_quality_fails_the_record() -> None:
    reference, _ = _frames()
    quality = {
        "success": False,
        "statistics": {
            "evaluated_expectations": 4,
            "successful_expectations": 3,
            "unsuccessful_expectations": 1,
            "success_percent": 75.0,
        },
        "results": [{"partial_unexpected_list": ["raw value"]}],
    }
    record = monitoring_record(reference.copy(), reference, system="s", data_quality=quality)
    assert record.outcome == "fail"
    assert record.metrics["features_drifted"] == 0.0
    assert record.metrics["data_quality_success_percent"] == 75.0
    assert record.details["data_quality"]["success"] is False
    assert record.details["checks"][0]["reason"] == (
        "data quality of the current batch: 1 of 4 expectations failed"
    )
    assert "raw value" not in record.to_json()
    passing = {**quality, "success": True, "statistics": {"success_percent": 100.0}}
    assert monitoring_record(reference, reference, system="s", data_quality=passing).outcome == (
        "pass"
    )


def test_record_holds_no_raw_values() -> None:
    rng = np.random.default_rng(7)
    n = 400
    names = ["common"] * (n - 1) + ["Jane Doe 7731"]
    reference = pd.DataFrame({"name": names, "salary": rng.normal(5e4, 1e4, n)})
    reference.loc[17, "salary"] = 987654.321
    current = reference.copy()
    current.loc[3, "name"] = "NEW-SECRET-VALUE"
    current.loc[5, "salary"] = 123456.789
    text = monitoring_record(current, reference, system="s").to_json()
    for raw in ("Jane Doe 7731", "NEW-SECRET-VALUE", "987654", "123456"):
        assert raw not in text
    assert "common" not in text  # the values may not be kept: frequent categories are hashed
    assert hashed_label("common") in text
    kept = monitoring_record(current, reference, system="s", include_values=True).to_json()
    assert "common" in kept and "Jane Doe 7731" not in kept  # named: frequent ones only
    details = json.loads(text)["details"]
    (name,) = [f for f in details["features"] if f["feature"] == "name"]
    assert name["current"]["unseen_categories"] == 1
    assert name["current"]["unseen_share"] == pytest.approx(1 / n, rel=1e-3)


def test_named_categories_are_bounded() -> None:
    reference = pd.DataFrame({"c": [f"cat{i:02d}" for i in range(30) for _ in range(10 + i)]})
    record = monitoring_record(reference, reference, system="s", include_values=True)
    (feature,) = record.details["features"]
    top = [entry["category"] for entry in feature["top_categories"]]
    assert len(top) == MAX_NAMED_CATEGORIES
    assert top == [f"cat{i:02d}" for i in range(29, 9, -1)]  # most frequent first
    (hashed,) = monitoring_record(reference, reference, system="s").details["features"]
    assert [e["category"] for e in hashed["top_categories"]] == [hashed_label(c) for c in top]
    assert feature["reference"]["categories"] == 30


def test_wide_frames_are_summarized_within_the_size_limit() -> None:
    rng = np.random.default_rng(11)
    n, width = 120, 300
    reference = pd.DataFrame(rng.normal(size=(n, width)), columns=[f"f{i}" for i in range(width)])
    current = reference.copy()
    current.iloc[:, ::2] += 3.0  # every second feature shifts by three standard deviations
    record = monitoring_record(current, reference, system="s")
    details = record.to_dict()["details"]
    assert len(json.dumps(details, separators=(",", ":"))) <= MAX_DETAILS_CHARS
    assert record.metrics["features_checked"] == 300.0
    assert record.metrics["features_drifted"] == 150.0
    summarized = details["features"]
    assert 0 < len(summarized) <= 100
    assert details["features_omitted"] == 300 - len(summarized)
    assert all(f["drifted"] for f in summarized)  # the worst come first
    assert len(details["checks"]) + details["checks_omitted"] == 300  # every check that ran
    assert all(not c["passed"] for c in details["checks"])  # the failed ones first
    record.verify()
