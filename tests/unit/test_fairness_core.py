"""Fairness collector core: hand-computed values on tiny inputs (numpy and pandas, no fairlearn)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from aims_mlops import DataError
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors._fairness import (
    DEGENERATE_ONE_GROUP,
    ERROR_EMPTY,
    ERROR_LENGTH_MISMATCH,
    ERROR_MISSING_GROUP_VALUES,
    ERROR_MISSING_LABELS,
    ERROR_MISSING_SENSITIVE,
    ERROR_NO_SENSITIVE,
    ERROR_NOT_BINARY,
    MAX_GROUPS_IN_RECORD,
    FairnessOptions,
    FairnessResult,
    disparities,
    fairness_record,
    group_table,
    measure_fairness,
    select_sensitive,
)
from aims_mlops.evidence import EvidenceRecord, Subject
from aims_mlops.evidence._record import MAX_DETAILS_CHARS, canonical_json

# Group M: y_true 1 1 1 0 0, y_pred 1 1 0 1 0 -> TP 2, FN 1, FP 1, TN 1
# Group F: y_true 1 0 0 0,   y_pred 1 0 0 0   -> TP 1, FN 0, FP 0, TN 3
Y_TRUE = [1, 1, 1, 0, 0, 1, 0, 0, 0]
Y_PRED = [1, 1, 0, 1, 0, 1, 0, 0, 0]
SEX = ["M", "M", "M", "M", "M", "F", "F", "F", "F"]


def _approx(value: float) -> object:
    return pytest.approx(value, abs=1e-12)


# -- group_table --------------------------------------------------------------------------------
def test_group_table_hand_computed() -> None:
    table = group_table(Y_TRUE, Y_PRED, pd.Series(SEX, name="sex"))
    assert list(table.index) == ["F", "M"]
    assert table.index.name == "sex"
    m, f = table.loc["M"], table.loc["F"]
    assert (m["count"], f["count"]) == (5, 4)
    assert (m["share"], f["share"]) == (_approx(5 / 9), _approx(4 / 9))
    assert (m["positives"], m["negatives"], f["positives"], f["negatives"]) == (3, 2, 1, 3)
    assert m["base_rate"] == _approx(3 / 5)
    assert f["base_rate"] == _approx(1 / 4)
    assert m["selection_rate"] == _approx(3 / 5)
    assert f["selection_rate"] == _approx(1 / 4)
    assert m["accuracy"] == _approx(3 / 5)
    assert f["accuracy"] == _approx(1.0)
    assert m["true_positive_rate"] == _approx(2 / 3)
    assert m["false_negative_rate"] == _approx(1 / 3)
    assert m["false_positive_rate"] == _approx(1 / 2)
    assert m["true_negative_rate"] == _approx(1 / 2)
    assert f["true_positive_rate"] == _approx(1.0)
    assert f["false_positive_rate"] == _approx(0.0)
    assert [m[c] for c in ("true_positives", "false_positives", "false_negatives")] == [2, 1, 1]
    assert m["true_negatives"] == 1


def test_groups_without_positives_or_negatives_get_rate_zero_like_fairlearn() -> None:
    # group b: no actual positives; group c: no actual negatives
    y_true = [1, 1, 0, 0, 0, 0, 1, 1]
    y_pred = [1, 0, 1, 0, 1, 0, 0, 0]
    groups = ["a", "a", "a", "a", "b", "b", "c", "c"]
    table = group_table(y_true, y_pred, groups)
    assert table.loc["b", "true_positive_rate"] == 0.0
    assert table.loc["b", "false_negative_rate"] == 0.0
    assert table.loc["b", "false_positive_rate"] == _approx(0.5)
    assert table.loc["c", "false_positive_rate"] == 0.0
    assert table.loc["c", "true_negative_rate"] == 0.0
    assert table.loc["c", "false_negative_rate"] == _approx(1.0)


def test_intersectional_groups_are_the_observed_combinations_in_sorted_order() -> None:
    frame = pd.DataFrame({"sex": SEX, "race": ["w", "b", "w", "w", "b", "w", "w", "w", "b"]})
    table = group_table(Y_TRUE, Y_PRED, frame)
    assert table.index.names == ["sex", "race"]
    assert list(table.index) == [("F", "b"), ("F", "w"), ("M", "b"), ("M", "w")]
    # (M, b): rows 1 and 4 -> y_true 1, 0; y_pred 1, 0
    mb = table.loc[("M", "b")]
    assert (mb["count"], mb["selection_rate"], mb["accuracy"]) == (2, 0.5, 1.0)
    # (F, w): rows 5, 6, 7 -> y_true 1, 0, 0; y_pred 1, 0, 0
    fw = table.loc[("F", "w")]
    assert (fw["count"], fw["selection_rate"], fw["true_positive_rate"]) == (3, _approx(1 / 3), 1.0)
    assert table["count"].sum() == len(Y_TRUE)


def test_combinations_never_observed_are_absent() -> None:
    frame = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": [1, 2, 1, 1]})
    table = group_table([0, 1, 0, 1], [0, 1, 1, 1], frame)
    assert list(table.index) == [("x", 1), ("x", 2), ("y", 1)]


@pytest.mark.parametrize(
    "features",
    [
        pd.DataFrame({"s": SEX, "k": [1, 2, 1, 2, 1, 2, 1, 2, 1]}),
        {"s": SEX, "k": [1, 2, 1, 2, 1, 2, 1, 2, 1]},
        np.array([SEX, [1, 2, 1, 2, 1, 2, 1, 2, 1]], dtype=object).T,
    ],
    ids=["frame", "dict", "2d-array"],
)
def test_input_forms_give_the_same_groups(features: object) -> None:
    table = group_table(np.array(Y_TRUE), pd.Series(Y_PRED), features)
    assert len(table) == 4
    assert table.loc[("M", 1), "count"] == 3  # rows 0, 2, 4
    assert table.loc[("M", 1), "selection_rate"] == _approx(1 / 3)  # y_pred 1, 0, 0
    names = ["sensitive_feature_0", "sensitive_feature_1"]
    assert list(table.index.names) == (names if isinstance(features, np.ndarray) else ["s", "k"])


def test_unnamed_series_and_list_are_named_like_fairlearn() -> None:
    assert group_table(Y_TRUE, Y_PRED, pd.Series(SEX)).index.name == "sensitive_feature_0"
    assert group_table(Y_TRUE, Y_PRED, SEX).index.name == "sensitive_feature_0"


def test_inputs_are_aligned_by_position_not_index() -> None:
    y_true = pd.Series(Y_TRUE, index=range(100, 109))
    sex = pd.Series(SEX, name="sex")
    assert group_table(y_true, Y_PRED, sex).loc["F", "count"] == 4


def test_pos_label_on_string_labels() -> None:
    names = {1: ">50K", 0: "<=50K"}
    y_true = [names[v] for v in Y_TRUE]
    y_pred = [names[v] for v in Y_PRED]
    table = group_table(y_true, y_pred, SEX, pos_label=">50K")
    expected = group_table(Y_TRUE, Y_PRED, SEX)
    pd.testing.assert_frame_equal(table, expected)
    # the other label as positive flips the selection rate
    flipped = group_table(y_true, y_pred, SEX, pos_label="<=50K")
    assert flipped.loc["M", "selection_rate"] == _approx(2 / 5)


# -- disparities ------------------------------------------------------------------------------
def test_disparities_hand_computed() -> None:
    values = disparities(group_table(Y_TRUE, Y_PRED, SEX))
    assert values == {
        "demographic_parity_difference": _approx(3 / 5 - 1 / 4),
        "demographic_parity_ratio": _approx((1 / 4) / (3 / 5)),
        # tpr difference 1/3, fpr difference 1/2 -> worst case 1/2
        "equalized_odds_difference": _approx(1 / 2),
        # tpr ratio 2/3, fpr ratio 0 -> worst case 0
        "equalized_odds_ratio": _approx(0.0),
        "equal_opportunity_difference": _approx(1 / 3),
        "equal_opportunity_ratio": _approx(2 / 3),
        "accuracy_difference": _approx(2 / 5),
        "accuracy": _approx(7 / 9),
        "selection_rate": _approx(4 / 9),
    }


def test_ratio_is_nan_when_every_group_rate_is_zero() -> None:
    values = disparities(group_table(Y_TRUE, [0] * 9, SEX))
    assert math.isnan(values["demographic_parity_ratio"])
    assert values["demographic_parity_difference"] == 0.0
    assert math.isnan(values["equalized_odds_ratio"])  # tpr ratio is 0/0


def test_equalized_odds_ratio_takes_tpr_ratio_when_only_fpr_ratio_is_undefined() -> None:
    # no false positives anywhere (fpr ratio 0/0); tpr M = 2/3, F = 1
    y_pred = [1, 1, 0, 0, 0, 1, 0, 0, 0]
    values = disparities(group_table(Y_TRUE, y_pred, SEX))
    assert values["equalized_odds_ratio"] == _approx(2 / 3)


# -- errors -----------------------------------------------------------------------------------
def test_select_sensitive_returns_the_columns() -> None:
    data = pd.DataFrame({"age": [1, 2], "sex": ["M", "F"], "race": ["w", "b"]})
    selected = select_sensitive(data, ["sex", "race"])
    assert list(selected.columns) == ["sex", "race"]
    assert list(select_sensitive(data, "sex").columns) == ["sex"]


def test_select_sensitive_missing_column_lists_the_columns() -> None:
    data = pd.DataFrame({"age": [1, 2], "sex": ["M", "F"]})
    with pytest.raises(DataError) as info:
        select_sensitive(data, ["sex", "gender"])
    assert str(info.value) == ERROR_MISSING_SENSITIVE.format(column="gender", columns="age, sex")
    assert str(info.value) == (
        "sensitive feature column 'gender' not found; the columns are: age, sex"
    )


def test_select_sensitive_needs_a_name() -> None:
    with pytest.raises(DataError) as info:
        select_sensitive(pd.DataFrame({"a": [1]}), [])
    assert str(info.value) == ERROR_NO_SENSITIVE


def test_length_mismatch() -> None:
    with pytest.raises(DataError) as info:
        group_table([0, 1, 1], [0, 1, 1], pd.Series(["a", "b"], name="g"))
    assert str(info.value) == ERROR_LENGTH_MISMATCH.format(n_true=3, n_pred=3, name="g", n_sf=2)
    with pytest.raises(DataError) as info:
        group_table([0, 1, 1], [0, 1], ["a", "b", "c"])
    assert "y_pred has 2" in str(info.value)


def test_empty_input() -> None:
    with pytest.raises(DataError) as info:
        group_table([], [], pd.Series([], name="g", dtype=object))
    assert str(info.value) == ERROR_EMPTY


def test_not_binary() -> None:
    """Multiclass labels: a clear error that says what to do instead."""
    from aims_mlops.collectors._fairness import ERROR_MULTICLASS

    with pytest.raises(DataError) as info:
        group_table([0, 1, 2], [0, 1, 1], ["a", "b", "c"])
    assert str(info.value) == ERROR_MULTICLASS.format(count=3, values="0, 1, 2")


def test_pos_label_absent_from_two_labels() -> None:
    with pytest.raises(DataError) as info:
        group_table(["yes", "no"], ["no", "no"], ["a", "b"])
    assert str(info.value) == ERROR_NOT_BINARY.format(pos_label=1, values="'no', 'yes'")


def test_missing_labels() -> None:
    with pytest.raises(DataError) as info:
        group_table([0, 1, np.nan], [0, 1, 1], ["a", "b", "c"])
    assert str(info.value) == ERROR_MISSING_LABELS.format(which="y_true", count=1)


def test_missing_sensitive_values_are_refused_like_fairlearn() -> None:
    with pytest.raises(DataError) as info:
        group_table([0, 1, 1], [0, 1, 1], pd.Series(["a", None, np.nan], name="sex"))
    assert str(info.value) == ERROR_MISSING_GROUP_VALUES.format(name="sex", count=2)
    # an explicit placeholder makes them a group of their own
    table = group_table([0, 1, 1], [0, 1, 1], pd.Series(["a", "<missing>", "<missing>"]))
    assert table.loc["<missing>", "count"] == 2


# -- the record -------------------------------------------------------------------------------
def test_record_without_thresholds_is_info_and_verifies() -> None:
    subject = Subject(run_id="r1", dataset_digests=("abc",))
    result = fairness_record(
        Y_TRUE, Y_PRED, pd.Series(SEX, name="sex"), system="credit", thresholds={},
        subject=subject, config_digest="cfg", min_group_size=1,
    )  # fmt: skip
    assert isinstance(result, FairnessResult)
    record = result.record
    record.verify()
    assert EvidenceRecord.from_json(record.to_json()) == record
    assert record.kind == "fairness"
    assert record.controls == load_catalog().controls_for_kind("fairness")
    assert record.outcome == "info"
    assert (record.system, record.subject, record.config_digest) == ("credit", subject, "cfg")
    assert record.metrics["demographic_parity_difference"] == _approx(0.35)
    assert record.metrics["accuracy"] == _approx(7 / 9)
    details = record.details
    assert list(details["sensitive_features"]) == ["sex"]
    assert details["groups"] == 2
    assert details["min_group_size"] == 4
    assert details["checks"] == ()
    assert list(details["group_table_columns"]) == [
        "sex", "count", "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy",
    ]  # fmt: skip
    # largest group first
    assert [list(row) for row in details["group_table"]] == [
        ["M", 5, 0.6, 0.666667, 0.5, 0.6],
        ["F", 4, 0.25, 1.0, 0.0, 1.0],
    ]
    assert any("fewer than 30 rows" in w and "sex=F (4 rows)" in w for w in details["warnings"])
    assert result.table.loc["M", "count"] == 5


def test_thresholds_pass_and_fail_with_reasons() -> None:
    passing = fairness_record(
        Y_TRUE, Y_PRED, SEX, system="s",
        thresholds={"demographic_parity_difference": {"max": 0.4}, "accuracy": {"min": 0.7}},
    ).record  # fmt: skip
    assert passing.outcome == "pass"
    assert passing.details["reasons"] == ()

    failing = fairness_record(
        Y_TRUE, Y_PRED, SEX, system="s",
        thresholds={"demographic_parity_difference": {"max": 0.1}, "accuracy": {"min": 0.7}},
    ).record  # fmt: skip
    assert failing.outcome == "fail"
    assert list(failing.details["reasons"]) == [
        "demographic_parity_difference = 0.35 is above the maximum 0.1"
    ]
    checks = {c["metric"]: c for c in failing.details["checks"]}
    assert checks["demographic_parity_difference"]["passed"] is False
    assert checks["accuracy"]["passed"] is True


def test_undefined_ratio_is_left_out_and_its_threshold_fails() -> None:
    record = fairness_record(
        Y_TRUE, [0] * 9, SEX, system="s", thresholds={"demographic_parity_ratio": {"min": 0.8}}
    ).record
    assert "demographic_parity_ratio" not in record.metrics
    assert record.metrics["demographic_parity_difference"] == 0.0
    assert record.outcome == "fail"
    assert list(record.details["reasons"])[1:] == ["demographic_parity_ratio was not measured"]
    assert record.details["reasons"][0].startswith("undefined, the largest group rate being 0")
    assert any(
        "demographic_parity_ratio" in w and "not recorded" in w for w in record.details["warnings"]
    )


def test_a_model_that_never_selects_anyone_fails_with_a_reason() -> None:
    """Issue 24 finding 8: a model that never predicts the positive class has every difference
    0, and would pass every difference threshold: the measurement proves nothing, so the record
    fails saying why (or, configured to warn, passes with the warning)."""
    limits = {"demographic_parity_difference": {"max": 0.1}}
    record = fairness_record(Y_TRUE, [0] * 9, SEX, system="s", thresholds=limits).record
    assert record.metrics["demographic_parity_difference"] == 0.0
    assert record.outcome == "fail"
    assert "receive no positive prediction" in record.details["reasons"][0]
    warned = fairness_record(
        Y_TRUE, [0] * 9, SEX, system="s", thresholds=limits, on_undefined="warn"
    ).record
    assert warned.outcome == "pass"
    assert any("receive no positive prediction" in w for w in warned.details["warnings"])


def test_a_constant_sensitive_feature_fails_with_the_reason_verbatim() -> None:
    """A sensitive feature with one group compares nothing: every difference is 0."""
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    limits = {"demographic_parity_difference": {"max": 0.1}}
    record = fairness_record(y_true, y_pred, ["F"] * 400, system="s", thresholds=limits).record
    assert record.metrics["demographic_parity_difference"] == 0.0
    assert record.outcome == "fail"
    assert record.details["reasons"][0] == DEGENERATE_ONE_GROUP.format(
        name="sensitive_feature_0"
    )


@pytest.mark.parametrize("groups", ["intersection", "each"])
def test_a_constant_feature_beside_another_fails_naming_it(groups: str) -> None:
    """Beside a feature whose groups are compared, the constant one is never compared: the
    record fails naming it (or, configured to warn, passes with the reason as a warning), even
    when a group holding its only value is small and its labels hashed."""
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    features = pd.DataFrame({"sex": ["F"] * 400, "race": ["a", "b"] * 199 + ["c", "c"]})
    reason = DEGENERATE_ONE_GROUP.format(name="sex")
    for on_undefined, outcome in (("fail", "fail"), ("warn", "pass")):
        options = FairnessOptions(
            thresholds={"demographic_parity_difference": {"max": 1.0}},  # always met
            min_group_size=10,
            on_undefined=on_undefined,
            fairness_groups=groups,
        )
        record = measure_fairness(y_true, y_pred, features, options=options, system="s").record
        assert record.details["hashed_groups"] == 1  # (F, c): its labels hashed
        assert record.outcome == outcome
        assert record.details["degenerate"][0] == reason
        # the degenerate reasons are joined into one reason (fail) or one warning (warn)
        assert any(reason in r for r in record.details["reasons"]) is (on_undefined == "fail")
        assert any(reason in w for w in record.details["warnings"]) is (on_undefined == "warn")


def test_sample_weight_weighs_the_rates() -> None:
    """Weighted rates: a row of weight 2 counts as two rows; counts stay row counts."""
    plain = group_table([1, 0, 1, 0], [1, 1, 0, 0], ["a", "a", "b", "b"])
    doubled = group_table(
        [1, 0, 1, 0, 0], [1, 1, 0, 0, 1], ["a", "a", "b", "b", "a"], sample_weight=[1, 1, 1, 1, 0]
    )
    assert list(doubled["selection_rate"]) == list(plain["selection_rate"])
    weighted = group_table([1, 0], [1, 0], ["a", "a"], sample_weight=[3, 1])
    assert weighted["selection_rate"].iloc[0] == 0.75 and weighted["count"].iloc[0] == 2
    with pytest.raises(DataError):
        group_table([1, 0], [1, 0], ["a", "a"], sample_weight=[1, -1])


def test_details_hold_aggregates_never_rows() -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    ids = [f"person-{i:05d}" for i in range(n)]
    y_true = rng.integers(0, 2, n)
    y_pred = rng.integers(0, 2, n)
    sex = rng.choice(["F", "M"], n)
    record = fairness_record(
        y_true, y_pred, pd.Series(sex, name="sex"), system="s", thresholds={}
    ).record
    text = canonical_json(record.details)
    assert len(record.details["group_table"]) == 2
    assert len(text) < 2_000  # independent of the number of rows
    assert "person-" not in text and ids[0] not in text
    assert record.details["rows"] == n


def test_more_than_200_groups_keeps_the_largest() -> None:
    # group g has g + 1 rows: 250 groups, the 50 smallest (g < 50) must be left out
    groups = np.repeat(np.arange(250), np.arange(1, 251))
    n = len(groups)
    y_true = np.arange(n) % 2
    y_pred = (groups == 0).astype(int)  # only the 1-row group 0 is selected
    series = pd.Series(groups, name="g")
    record = fairness_record(
        y_true, y_pred, series, system="s", thresholds={}, allow_identifiers=True
    ).record
    rows = record.details["group_table"]
    assert record.details["groups"] == 250
    assert len(rows) == record.details["groups_shown"] == MAX_GROUPS_IN_RECORD
    assert sorted(row[0] for row in rows) == list(range(50, 250))
    assert any("200 largest of 250 groups" in w for w in record.details["warnings"])
    assert len(canonical_json(record.details)) <= MAX_DETAILS_CHARS
    # the metrics still cover every group, the left-out ones included
    assert record.metrics["demographic_parity_difference"] == _approx(1.0)


def test_long_group_keys_are_cut_to_fit_the_record() -> None:
    keys = [f"{i:03d}" + "x" * 400 for i in range(150)]
    groups = np.repeat(keys, 40)
    y = np.arange(len(groups)) % 2
    record = fairness_record(
        y, y, pd.Series(groups, name="g"), system="s", thresholds={}, allow_identifiers=True
    ).record
    shown = record.details["groups_shown"]
    assert 0 < shown < 150
    assert len(record.details["group_table"]) == shown
    assert len(canonical_json(record.details)) <= MAX_DETAILS_CHARS
    assert any(f"{shown} largest of 150 groups" in w for w in record.details["warnings"])
    json.loads(record.to_json())
    record.verify()


def test_module_imports_no_fairlearn_or_sklearn() -> None:
    code = (
        "import sys, aims_mlops.collectors._fairness as f;"
        "f.fairness_record([0, 1], [1, 1], ['a', 'b'], system=None, thresholds={});"
        "print(sorted(m for m in ('fairlearn', 'sklearn', 'mlflow') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
