"""``systems[].fairness_groups``: fairness judged over the intersections of the sensitive features
(the default) or per feature, the worst feature against each bound (``each``).

The per-feature numbers are summed from the intersectional group table (no second pass over the
data) and must equal fairlearn's for that feature alone; the engine holds a record to the groups
the approved configuration requires.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from aims_mlops import DataError
from aims_mlops.collectors._fairness import (
    ERROR_FAIRNESS_GROUPS,
    FairnessOptions,
    feature_tables,
    group_table,
    measure_fairness,
)
from aims_mlops.config import parse_config
from aims_mlops.config._diff import config_changes
from aims_mlops.judgement._configuration import GROUPS_CHECK, REASON_GROUPS_REQUIRED, rejudge

TOLERANCE = 1e-9
DISPARITIES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
)
BOUNDS = {"demographic_parity_difference": {"max": 0.1}, "equalized_odds_ratio": {"min": 0.5}}

CONFIG = """\
version: 1
organization: {{name: Groups Ltd, aims_scope: Credit models, policy_owner: Alice}}
people:
  - {{name: Alice, roles: [top_management]}}
systems:
  - id: credit
    owner: Alice
    intended_use: Score loan applicants for a human underwriter.
    sensitive_features: [sex, race]
{groups}    fairness:
      demographic_parity_difference: {{max: 0.1}}
      equalized_odds_ratio: {{min: 0.5}}
"""


def _config(groups: str | None):
    line = f"    fairness_groups: {groups}\n" if groups else ""
    return parse_config(CONFIG.format(groups=line), source="aims.yaml")


@pytest.fixture(scope="module")
def data() -> dict[str, object]:
    """Decisions that favour one sex, with a small race group, and positive weights."""
    rng = np.random.default_rng(7)
    n = 4000
    sensitive = pd.DataFrame(
        {
            "sex": rng.choice(["Female", "Male"], n, p=[0.35, 0.65]),
            "race": rng.choice(["White", "Black", "Other"], n, p=[0.8, 0.15, 0.05]),
        }
    )
    y_true = rng.integers(0, 2, n)
    y_pred = (rng.random(n) < 0.35 + 0.12 * (sensitive["sex"] == "Male")).astype(int)
    return {
        "y_true": y_true,
        "y_pred": y_pred,
        "sensitive": sensitive,
        "weights": rng.uniform(0.2, 3.0, n),
    }


def _record(data, groups: str, weighted: bool = False):
    return measure_fairness(
        data["y_true"], data["y_pred"], data["sensitive"],
        options=FairnessOptions(thresholds=BOUNDS, fairness_groups=groups), system="credit",
        sample_weight=data["weights"] if weighted else None,
    ).record  # fmt: skip


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_each_feature_equals_fairlearn_for_that_feature_alone(data, weighted: bool) -> None:
    import fairlearn.metrics as flm

    record = _record(data, "each", weighted)
    weights = data["weights"] if weighted else None
    for feature in ("sex", "race"):
        measured = record.details["by_feature"][feature]
        for name in DISPARITIES:
            expected = getattr(flm, name)(
                data["y_true"], data["y_pred"], sensitive_features=data["sensitive"][feature],
                sample_weight=weights,
            )  # fmt: skip
            assert measured[name] == pytest.approx(expected, abs=TOLERANCE), (feature, name)


def test_feature_tables_are_the_sums_of_the_intersections(data) -> None:
    table = group_table(data["y_true"], data["y_pred"], data["sensitive"])
    direct = group_table(data["y_true"], data["y_pred"], data["sensitive"]["race"])
    summed = feature_tables(table)["race"]
    assert list(summed.index) == list(direct.index) and summed.index.name == "race"
    np.testing.assert_allclose(summed.to_numpy(float), direct.to_numpy(float), atol=TOLERANCE)


def test_each_judges_the_worst_feature_and_keeps_the_intersections(data) -> None:
    each, inter = _record(data, "each"), _record(data, "intersection")
    by_feature = each.details["by_feature"]
    dpd = "demographic_parity_difference"
    worst = max(by_feature, key=lambda f: by_feature[f][dpd])
    assert each.metrics[dpd] == by_feature[worst][dpd]
    assert each.details["worst_feature"][dpd] == worst
    ratio = "equalized_odds_ratio"
    assert each.metrics[ratio] == min(v[ratio] for v in by_feature.values())
    # the intersectional values are kept for information: exactly the intersection record's
    assert dict(each.details["intersectional"]) == dict(inter.metrics)
    assert each.details["fairness_groups"] == "each"
    # intersections bound each feature's difference from above
    assert inter.metrics[dpd] >= each.metrics[dpd]
    check = next(c for c in each.details["checks"] if c["metric"] == dpd)
    assert f"(worst attribute: {worst}; per attribute: sex " in check["reason"]


def test_intersection_records_carry_none_of_the_per_feature_keys(data) -> None:
    record = _record(data, "intersection")
    assert not {"fairness_groups", "by_feature", "intersectional"} & set(record.details)


def test_each_fails_on_the_feature_that_breaks_the_bound() -> None:
    # sex: F selected 1/4, M 3/4 (DPD 0.5); race alone: both groups select 1/2 (DPD 0)
    sensitive = pd.DataFrame({"sex": list("FFFFMMMM"), "race": list("abbaabba")})
    y_true = [1, 0, 1, 0, 1, 0, 1, 0]
    y_pred = [1, 0, 0, 0, 1, 1, 1, 0]
    record = measure_fairness(
        y_true, y_pred, sensitive, system="credit",
        options=FairnessOptions(
            thresholds={"demographic_parity_difference": {"max": 0.1}}, fairness_groups="each"
        ),
    ).record  # fmt: skip
    assert record.outcome == "fail"
    assert record.details["by_feature"]["race"]["demographic_parity_difference"] == 0
    assert record.details["reasons"] == (
        "demographic_parity_difference = 0.5 is above the maximum 0.1 "
        "(worst attribute: sex; per attribute: sex 0.5, race 0)",
    )


def test_unknown_fairness_groups_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        FairnessOptions(fairness_groups="per_attribute")
    assert str(caught.value) == ERROR_FAIRNESS_GROUPS.format(
        allowed="intersection, each", got="per_attribute"
    )


# -- the configuration ----------------------------------------------------------------------------
def test_default_is_intersection_and_the_switch_reads_as_a_loosening() -> None:
    before, after = _config(None), _config("each")
    assert before.systems[0].fairness_groups == "intersection"
    assert config_changes(before, after) == [
        "systems[credit].fairness_groups: intersection -> each (LOOSENS the fairness objective: "
        "judged per sensitive attribute, no longer over their intersections)"
    ]
    assert config_changes(after, before) == [
        "systems[credit].fairness_groups: each -> intersection"
    ]


# -- the engine: held to the groups the approved configuration requires ---------------------------
def test_a_per_attribute_record_does_not_satisfy_an_intersectional_objective(data) -> None:
    """The approved objective bounds the disparities between the combinations of sex and race;
    a record that measured each attribute alone never looked at those combinations (a model can
    treat Black women worse while both marginals look even), so it cannot show the objective
    met, however good its numbers: it fails, and the reason says what to measure instead."""
    record = _record(data, "each")
    assert record.outcome == "pass"
    [judged] = rejudge([record], _config(None))
    assert judged.outcome == "fail"
    refused = judged.details["checks"][0]
    assert refused["check"] == GROUPS_CHECK and refused["passed"] is False
    assert refused["reason"] == REASON_GROUPS_REQUIRED.format(features="sex x race")
    assert judged.details["captured_outcome"] == "pass"


def test_an_intersectional_record_counts_under_each(data) -> None:
    """Each attribute's group is a union of intersections, so its rate is a weighted mean of
    theirs: the spread between attribute groups never exceeds the spread between intersections.
    A record judged on the intersections is therefore at least as strict as the per-attribute
    objective: it counts for what it measured (pass stays pass; a fail stays a fail, since the
    record cannot show the per-attribute values: measuring again per attribute is the remedy)."""
    each_config = _config("each")
    passing = measure_fairness(
        [1, 0] * 4, [1, 0] * 4, pd.DataFrame({"sex": list("FFFFMMMM"), "race": list("aabbaabb")}),
        options=FairnessOptions(thresholds=BOUNDS), system="credit",
    ).record  # fmt: skip
    assert passing.outcome == "pass"
    assert rejudge([passing], each_config) == [passing]
    failing = _record(data, "intersection")
    assert failing.outcome == "fail"
    [judged] = rejudge([failing], each_config)
    assert judged.outcome == "fail"


def test_a_per_attribute_record_under_each_is_judged_on_its_worst_attribute(data) -> None:
    """Under the approved ``each`` the record's metrics are its worst attribute's values; a
    tighter approved bound than the one captured with fails it, naming that attribute."""
    record = _record(data, "each")
    text = CONFIG.format(groups="    fairness_groups: each\n").replace("max: 0.1", "max: 0.01")
    strict = parse_config(text, source="aims.yaml")
    [judged] = rejudge([record], strict)
    assert judged.outcome == "fail"
    worst = record.details["worst_feature"]["demographic_parity_difference"]
    failed = [c for c in judged.details["checks"] if not c["passed"]]
    assert [c["metric"] for c in failed] == ["demographic_parity_difference"]
    assert f"(worst attribute: {worst}; per attribute: " in failed[0]["reason"]
    assert math.isclose(failed[0]["value"], record.metrics["demographic_parity_difference"])


def test_the_frame_form_measures_each_feature_as_the_arrays_form(data) -> None:
    from aims_mlops.collectors.backends import frame_fairness_record

    frame = data["sensitive"].assign(label=data["y_true"], prediction=data["y_pred"])
    options = FairnessOptions(thresholds=BOUNDS, fairness_groups="each")
    framed = frame_fairness_record(
        frame, y_true="label", y_pred="prediction", sensitive_features=["sex", "race"],
        options=options, system="credit",
    ).record  # fmt: skip
    arrays = _record(data, "each")
    assert (framed.outcome, framed.metrics, framed.details) == (
        arrays.outcome, arrays.metrics, arrays.details,
    )  # fmt: skip


@pytest.mark.parametrize("groups", ["intersection", "each"])
def test_the_objectives_document_says_how_fairness_is_measured(groups: str) -> None:
    from aims_mlops.documents._fill import FAIRNESS_GROUPS_TEXT, Facts

    lines = Facts(config=_config(groups)).objectives()
    said = FAIRNESS_GROUPS_TEXT[groups].format(system="credit", features="sex, race")
    assert lines[-1] == said
    assert "| credit | demographic_parity_difference | <= 0.1 | not measured yet |  |" in lines
