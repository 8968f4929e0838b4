"""Holes an attacker/auditor replay found on main (issue 24 finding 8, issue 23 finding 1), on
hand-built records judged by the engine as the CLI judges them (re-judged against the approved
configuration's thresholds first). Each docstring gives the auditor's reasoning."""

from __future__ import annotations

from typing import Any

from aims_mlops.evidence import EvidenceRecord
from aims_mlops.evidence._kinds import UNDEFINED_CHECK
from aims_mlops.judgement._configuration import (
    FEATURES_CHECK,
    REASON_FEATURES_MISSING,
    rejudge,
)
from tests.unit.test_verdicts import example, run_of, system_of

NEVER_SELECTED = (
    "undefined, the largest group rate being 0: demographic_parity_ratio, "
    "equalized_odds_ratio; 10 group(s) receive no positive prediction, so their differences say "
    "nothing about fairness: sex=Female, race=White, …"
)


def _passed(metric: str, value: float) -> dict[str, Any]:
    return {
        "check": metric,
        "metric": metric,
        "value": value,
        "passed": True,
        "reason": f"{metric} = {value} <= 0.1",
    }


def never_positive() -> EvidenceRecord:
    """The record ``assess_fairness(y, np.zeros_like(y), X)`` writes: every difference 0, the
    ratios undefined, and the failing check that says so."""
    failing = {"check": UNDEFINED_CHECK, "metric": None, "passed": False, "reason": NEVER_SELECTED}
    checks = [
        failing,
        _passed("demographic_parity_difference", 0.0),
        _passed("equalized_odds_difference", 0.0),
    ]
    return run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.0, "equalized_odds_difference": 0.0},
        details={"checks": checks, "reasons": [NEVER_SELECTED]},
    )


def test_rejudging_keeps_a_failing_check_that_no_threshold_judges() -> None:
    """Re-judging a record against the approved thresholds answers one question: do its
    metrics meet the bar? It cannot answer whether the metrics mean anything. A model that never
    predicts the positive class has every difference 0; the collector failed the record for it.
    If re-judgement keeps only the threshold checks, the 0s pass and the record the collector
    failed becomes a pass nobody captured: an auditor would call that a verdict changed without
    a trace."""
    record = never_positive()
    [judged] = rejudge([record], example())
    assert judged.outcome == "fail"
    kept = [c for c in judged.details["checks"] if c.get("check") == UNDEFINED_CHECK]
    assert kept and kept[0]["passed"] is False and "no positive prediction" in kept[0]["reason"]
    # a sound record is untouched: nothing else is carried over
    sound = run_of(
        "fairness",
        metrics={"demographic_parity_difference": 0.01, "equalized_odds_difference": 0.02},
        details={
            "sensitive_features": ["sex", "race"],  # what a real record names
            "checks": [
                _passed("demographic_parity_difference", 0.01),
                _passed("equalized_odds_difference", 0.02),
            ]
        },
    )
    assert rejudge([sound], example()) == [sound]


def test_a_model_that_selects_nobody_satisfies_no_fairness_entry_and_lowers_no_risk() -> None:
    """A.5.4 / A.6.2.4 ask whether the impacts on groups were assessed and found acceptable. A
    difference of 0 between groups that all receive nothing proves nothing about fairness, so
    the entries cannot be satisfied by it, and the risk R1 (measured by the demographic parity
    difference) cannot fall to likelihood 1 on it: the indicator is treated as not measured, the
    declared likelihood 4 stands (inherent 16, not 4), and the reason says why."""
    records = rejudge([run_of("performance"), run_of("data_quality"), never_positive()], example())
    system = system_of(records)
    status = {c.id: c for c in system.controls}
    assert status["A.6.2.4"].status == "failing", status["A.6.2.4"].reasons
    assert status["A.5.4"].status != "satisfied" or status["A.5.4"].result_fails
    r1 = next(r for r in system.risks if r.id == "R1")
    assert r1.inherent_likelihood == 4 and r1.inherent == 16
    assert r1.above_appetite and r1.residual == 16
    said = " ".join(r1.reasons)
    assert "proves nothing" in said and "treated as not measured" in said
    assert "no positive prediction" in said


def test_a_warned_degenerate_measurement_lowers_no_risk_either() -> None:
    """With ``on_undefined: warn`` the record passes, but its numbers are no better: the risk
    indicator still must not read a likelihood of 1 from a model that selects nobody."""
    warned = run_of(
        "fairness",
        metrics={"demographic_parity_difference": 0.0, "equalized_odds_difference": 0.0},
        details={
            "checks": [_passed("demographic_parity_difference", 0.0)],
            "degenerate": [NEVER_SELECTED],
        },
    )
    r1 = next(r for r in system_of([warned]).risks if r.id == "R1")
    assert r1.inherent_likelihood == 4
    assert "treated as not measured" in " ".join(r1.reasons)


def test_8_3_says_which_of_declared_and_measured_is_above_the_appetite() -> None:
    """R1 declares a residual of 2 x 3 = 6, which is *within* the appetite 6; it is above only
    because the measured demographic parity difference (0.15, likelihood 4) raises it to
    4 x 3 = 12. A reason saying "its declared residual is above the appetite too" states
    something false; an auditor reading it would chase the wrong number."""
    unfair = run_of(
        "fairness",
        metrics={"demographic_parity_difference": 0.15},
        details={"checks": [{"passed": True, "reason": "within a loosened bound"}]},
    )
    system = system_of([run_of("performance"), run_of("data_quality"), unfair])
    [r1_line] = [r for r in next(c for c in system.controls if c.id == "8.3").reasons if "R1" in r]
    assert "declared residual is above the appetite too" not in r1_line
    assert "measured indicator raises its residual likelihood to 4" in r1_line
    assert "declared residual 2 × 3 = 6 is within the appetite" in r1_line

    # and when the declaration itself is above the appetite, the reason says that
    declared = "residual: {likelihood: 2, impact: 3}\n    # the measured"
    above = example(replace=(declared, declared.replace("likelihood: 2", "likelihood: 3")))
    records = [run_of("performance"), run_of("data_quality"), unfair]
    r1 = next(r for r in system_of(records, cfg=above).risks if r.id == "R1")
    assert any("declared residual 3 × 3 = 9 is above the appetite 6 too" in r for r in r1.reasons)


def test_a_fairness_record_over_fewer_features_than_declared_does_not_count() -> None:
    """The system's fairness objective is over sex and race (``sensitive_features``). A record
    measured over sex alone can pass every threshold and still say nothing about race: an
    auditor reading A.6.2.4 would find part of the objective unmeasured. Re-judging fails it,
    naming what was left out."""
    over_sex = run_of(
        "fairness",
        metrics={"demographic_parity_difference": 0.01, "equalized_odds_difference": 0.02},
        details={
            "sensitive_features": ["sex"],
            "checks": [
                _passed("demographic_parity_difference", 0.01),
                _passed("equalized_odds_difference", 0.02),
            ],
        },
    )
    [judged] = rejudge([over_sex], example())
    assert judged.outcome == "fail"
    [refused] = [c for c in judged.details["checks"] if c.get("check") == FEATURES_CHECK]
    assert refused["passed"] is False
    assert refused["reason"] == REASON_FEATURES_MISSING.format(
        measured="sex", declared="sex, race", missing="race"
    )
