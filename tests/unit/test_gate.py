"""The release gate over real engine results (config + records + assess; no MLflow)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from aims_mlops.catalog import load_catalog
from aims_mlops.config import parse_config
from aims_mlops.engine import CurrentModel, SystemAssessment, assess
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.judgement import (
    ERROR_BAD_MIN_SCORE,
    ERROR_NOT_ASSESSED,
    ERROR_SELF_CONTROL,
    GateError,
    GateResult,
    deployment_record,
    evaluate_gate,
    verification_controls,
)

CONFIG = """\
version: 1
organization: {name: Gate Test Ltd, aims_scope: Credit models, policy_owner: Dana Smith}
risk_criteria: {appetite: 6}
systems:
  - id: credit
    name: Credit model
    owner: Dana Smith
    intended_use: Score loan applicants for a human underwriter.
    lifecycle_stage: validation
    mlflow: {registered_model: credit-model, alias: champion}
    sensitive_features: [sex]
    fairness: {demographic_parity_difference: {max: 0.1}}
risks:
  - id: R1
    system: credit
    category: bias
    description: Unequal treatment of men and women.
    likelihood: 4
    impact: 3
    treatment: mitigate
    controls: [A.5.4]
    owner: Dana Smith
    residual: {likelihood: 2, impact: 3}
    indicator:
      kind: fairness
      metric: demographic_parity_difference
      bands: [0.02, 0.05, 0.1, 0.2]
soa:
  - control: A.10.4
    applicable: false
    justification: No AI service is provided to customers.
"""

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CURRENT = CurrentModel(name="credit-model", version="2", run_id="run-2")


def fairness(
    dpd: float, outcome: str, *, version: str = "2", at: str = "2026-10-30T12:00:00Z"
) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system="credit",
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        subject=Subject(run_id=f"run-{version}", model_name="credit-model", model_version=version),
        metrics={"demographic_parity_difference": dpd},
        details={
            "checks": [
                {
                    "metric": "demographic_parity_difference",
                    "passed": outcome == "pass",
                    "reason": f"demographic_parity_difference = {dpd:g}",
                }
            ]
        },
        controls=["A.5.4"],
        collected_at=at,
    )


def assessed(*records: EvidenceRecord) -> SystemAssessment:
    config = parse_config(CONFIG)
    result = assess(load_catalog(), config, records, current_models={"credit": CURRENT}, now=NOW)
    return result.systems["credit"]


VERIFICATION = verification_controls(parse_config(CONFIG).system("credit"))


def test_verification_controls_follow_the_declarations_through_the_catalog() -> None:
    # credit declares fairness thresholds only: the catalog's controls for fairness evidence
    assert VERIFICATION == load_catalog().controls_for_kind("fairness") == ("A.5.4", "A.6.2.4")
    full = parse_config(
        CONFIG.replace(
            "    fairness: {demographic_parity_difference: {max: 0.1}}\n",
            "    fairness: {demographic_parity_difference: {max: 0.1}}\n"
            "    performance: {accuracy: {min: 0.8}}\n"
            "    data_quality:\n"
            "      expectations:\n"
            "        - {type: expect_column_values_to_not_be_null, kwargs: {column: a}}\n",
        )
    ).system("credit")
    assert verification_controls(full) == ("A.5.4", "A.6.2.4", "A.7.4")


def test_no_evidence_blocks_on_verification_treatment_and_the_risk() -> None:
    """A version with no verification evidence must not be released: an auditor reads missing
    verification as unverified, never as passed. R1 has no treating evidence, so its residual is
    the inherent 4 x 3 = 12 > 6; the treatment clause 8.3 and the planning clause 6.1 that rests
    on it fail for the same reason."""
    system = assessed()
    result = evaluate_gate(system, verification=VERIFICATION)
    assert not result.passed
    assert [f.split(":")[0] for f in result.failures] == [
        "6.1 failing",
        "8.3 failing",
        "A.5.4 missing",
        "A.6.2.4 missing",
        "risk R1 (bias)",
    ]
    assert result.failures[2].endswith(
        "(verification evidence for credit-model version 2 must be current before release)"
    )
    assert result.failures[-1] == "risk R1 (bias): residual score 12 is above the appetite 6"
    assert result.system == "credit"
    assert result.model == CURRENT


def test_default_checks_every_entry_but_the_deployment_control() -> None:
    result = evaluate_gate(assessed(), block_on_risk=False)
    # without verification controls, only failing entries block; --allow-risk allows the risks
    # and the risk-treatment entries (8.3, 6.1) they alone fail
    assert [f.split(":")[0] for f in result.failures] == []
    strict = evaluate_gate(assessed(), block_on_risk=True)
    assert {"6.1 failing", "8.3 failing"} <= {f.split(":")[0] for f in strict.failures}
    catalog_ids = [entry.id for entry in load_catalog().entries]
    assert set(result.checked) == set(catalog_ids) - {"A.6.2.5"}
    assert len(result.checked) == len(catalog_ids) - 1


def test_failing_fairness_blocks_naming_the_control_status_and_reason() -> None:
    result = evaluate_gate(assessed(fairness(0.19, "fail")), verification=VERIFICATION)
    assert not result.passed
    # the failing result fails verification (A.6.2.4); A.5.4 only says the assessment was done
    a624 = [f for f in result.failures if f.startswith("A.6.2.4 ")]
    assert len(a624) == 1
    assert a624[0].startswith("A.6.2.4 failing: ")
    assert "demographic_parity_difference = 0.19" in a624[0]
    assert not [f for f in result.failures if f.startswith("A.5.4 ")]
    # DPD 0.19 lies in band (0.1, 0.2]: likelihood 4, impact 3, controls not satisfied: 12
    assert "risk R1 (bias): residual score 12 is above the appetite 6" in result.failures


def test_required_controls_must_be_satisfied_or_not_applicable() -> None:
    failing = assessed(fairness(0.19, "fail"))
    result = evaluate_gate(failing, require=["A.6.2.4"], block_on_risk=False)
    assert not result.passed
    assert result.checked == ("A.6.2.4",) and result.required == ("A.6.2.4",)
    assert len(result.failures) == 1 and result.failures[0].startswith("A.6.2.4 failing: ")

    passing = assessed(fairness(0.03, "pass"))
    # A.10.4 is excluded in the SoA: not applicable lets it through; A.7.4 has no evidence at all
    result = evaluate_gate(passing, require=["A.5.4", "A.10.4", "A.7.4"])
    assert passing.control("A.10.4").status == "not_applicable"
    assert result.failures == (f"A.7.4 missing: {passing.control('A.7.4').reasons[0]}",)
    assert "data_quality" in result.failures[0]
    # DPD 0.03: likelihood 2 = declared residual 2, x impact 3 = 6, within the appetite of 6
    assert evaluate_gate(passing, require=["A.5.4", " A.10.4 "]).passed
    # a required entry that is merely stale or missing blocks as a failing one does
    stale = assessed(fairness(0.03, "pass", version="1"))
    result = evaluate_gate(stale, require=["A.5.4"], block_on_risk=False)
    assert result.failures[0].startswith("A.5.4 stale: ")


def test_min_score_names_the_shortfall() -> None:
    system = assessed(fairness(0.03, "pass"))
    assert evaluate_gate(system, require=["A.5.4"], min_score=system.score).passed
    result = evaluate_gate(system, require=["A.5.4"], min_score=0.9)
    assert not result.passed
    shortfall = round(0.9 - system.score, 4)
    assert result.failures == (
        f"score {system.score:g} is below the minimum 0.9 (short by {shortfall:g})",
    )
    assert result.min_score == 0.9


def test_a_blocked_promotion_does_not_block_the_next_gate() -> None:
    first = evaluate_gate(assessed(fairness(0.19, "fail")))
    blocked = deployment_record(
        first,
        model_name="credit-model",
        model_version="2",
        run_id="run-2",
        alias="champion",
        action="blocked",
        approver="Dana Smith",
        trigger="test",
    )
    later = fairness(0.03, "pass", at="2026-10-31T00:00:00Z")
    system = assessed(fairness(0.19, "fail"), blocked, later)
    assert system.control("A.6.2.5").status == "failing"
    result = evaluate_gate(system, verification=VERIFICATION)
    # the blocked promotion (A.6.2.5) is not among the failures; what is left is the verification
    # controls whose other evidence (performance, data quality) this version still lacks
    assert not any(f.startswith("A.6.2.5") for f in result.failures)
    assert evaluate_gate(system, require=["A.5.4"]).passed


def test_deployment_record_shape_and_engine_verdict() -> None:
    result = evaluate_gate(assessed(fairness(0.03, "pass")))
    record = deployment_record(
        result,
        model_name="credit-model",
        model_version="2",
        run_id="run-2",
        alias="champion",
        action="promoted",
        approver="Dana Smith",
        trigger="aims gate --promote",
        config_digest="abc",
    )
    record.verify()
    assert record.kind == "deployment" and record.outcome == "pass"
    assert record.controls == ("A.6.2.5",)
    assert record.subject.model_name == "credit-model" and record.subject.model_version == "2"
    assert record.subject.run_id == "run-2"
    assert record.details["alias"] == "champion"
    assert record.details["approver"] == "Dana Smith"
    assert record.details["action"] == "promoted"
    assert record.details["gate"]["passed"] is True
    assert record.details["gate"]["checked_count"] == len(result.checked)
    # the engine counts it for the current version: A.6.2.5 satisfied
    system = assessed(fairness(0.03, "pass"), record)
    assert system.control("A.6.2.5").status == "satisfied"
    failed = deployment_record(
        evaluate_gate(assessed()),
        model_name="credit-model",
        model_version="2",
        run_id="run-2",
        alias="champion",
        action="blocked",
        approver=None,
        trigger="t",
    )
    assert failed.outcome == "fail"
    assert failed.details["gate"]["failures_total"] == 3  # 6.1, 8.3 and the risk R1


def test_errors_are_domain_errors_with_fixed_texts() -> None:
    system = assessed()
    with pytest.raises(GateError) as unknown:
        evaluate_gate(system, require=["A.99"])
    assert str(unknown.value) == ERROR_NOT_ASSESSED.format(id="A.99", system="credit")
    with pytest.raises(GateError) as own:
        evaluate_gate(system, require=["A.6.2.5"])
    assert str(own.value) == ERROR_SELF_CONTROL.format(id="A.6.2.5")
    with pytest.raises(GateError) as bad:
        evaluate_gate(system, min_score=1.5)
    assert str(bad.value) == ERROR_BAD_MIN_SCORE.format(value=1.5)
    from aims_mlops import AimsError

    assert isinstance(bad.value, AimsError)


def test_result_is_frozen_and_json_ready() -> None:
    result = evaluate_gate(assessed(fairness(0.19, "fail")), min_score=0.5)
    assert isinstance(result, GateResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = True  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is False
    assert data["failures"] == list(result.failures)
    assert data["model"] == {"name": "credit-model", "version": "2", "run_id": "run-2"}
    assert data["min_score"] == 0.5
    assert result.headline().startswith("FAIL credit (credit-model version 2): ")
    assert result.headline().endswith(f"{len(result.failures)} failures")
