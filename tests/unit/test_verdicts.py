"""Audit-grade verdicts: one test per finding of the auditor's review of the demo.

Each test builds the evidence by hand, judges it with the shipped catalog and the example
``aims.yaml`` (the demo's AIMS), and checks the verdict a certification auditor would give; the
docstring gives the auditor's reasoning.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from aims_mlops import ConfigError
from aims_mlops.catalog import load_catalog
from aims_mlops.config import AimsConfig, example_config_text, parse_config
from aims_mlops.engine import Assessment, CurrentModel, SystemAssessment, assess, risk_rows
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.judgement import evaluate_gate, verification_controls
from tests.unit.test_engine import rec

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SYSTEM = "income-classifier"
V1 = CurrentModel(name=SYSTEM, version="1", run_id="run-1", registered_at="2026-11-01T09:00:00Z")
V2 = CurrentModel(name=SYSTEM, version="2", run_id="run-2", registered_at="2026-11-25T09:00:00Z")


def example(extra: str = "", *, replace: tuple[str, str] | None = None) -> AimsConfig:
    text = example_config_text(assessed_on=date(2026, 11, 10)) + extra
    if replace is not None:
        assert replace[0] in text
        text = text.replace(*replace)
    return parse_config(text)


def run_of(kind: str, *, version: str = "1", **kw: Any) -> EvidenceRecord:
    """A record about a run of the example system's model version."""
    return rec(kind, system=SYSTEM, run=f"run-{version}", model=SYSTEM, version=version, **kw)


def attested(control: str, *, system: str | None = SYSTEM) -> EvidenceRecord:
    details = {
        "by": "Chief Executive",
        "document": "https://docs.acme-lending.com/x",
        "statement": "done",
    }
    return rec("attestation", system=system, controls=(control,), details=details)


def judged(
    records: list[EvidenceRecord],
    *,
    cfg: AimsConfig | None = None,
    model: CurrentModel | None = V1,
) -> Assessment:
    return assess(
        load_catalog(), cfg or example(), records, current_models={SYSTEM: model}, now=NOW
    )


def system_of(records: list[EvidenceRecord], **kw: Any) -> SystemAssessment:
    return judged(records, **kw).systems[SYSTEM]


def fairness_pass(version: str = "1", dpd: float = 0.01) -> EvidenceRecord:
    checks = {"checks": [{"passed": True, "reason": f"demographic_parity_difference = {dpd}"}]}
    return run_of(
        "fairness",
        version=version,
        metrics={"demographic_parity_difference": dpd},
        details=checks,
    )


def verified(version: str = "1") -> list[EvidenceRecord]:
    """Passing verification evidence of a version: performance, data quality, fairness."""
    return [
        run_of("performance", version=version),
        run_of("data_quality", version=version),
        fairness_pass(version),
    ]


# 1 ---------------------------------------------------------------------------------------------
def test_1_every_part_of_a_rule_must_hold() -> None:
    """A.3.2 asks for named owners *and* a RACI: an owner string in aims.yaml shows who is
    accountable, not that roles were assigned and communicated. An auditor raises a finding on
    the missing RACI, so the entry is not satisfied until it is attested. Likewise A.7.3 (data
    lineage and the right to use the data), A.6.1.2 and 6.2 (thresholds and documented
    objectives)."""
    lineage = run_of("lineage.datasets")
    sa = system_of([lineage])
    roles = sa.control("A.3.2")
    assert roles.status == "missing"
    assert [(p.kind, p.status) for p in roles.parts] == [
        ("declared", "satisfied"),
        ("attestation", "missing"),
    ]
    assert sa.control("A.7.3").status == "missing"
    assert sa.control("A.6.1.2").status == "missing"
    assert sa.control("6.2").status == "missing"
    done = system_of([lineage, attested("A.3.2"), attested("A.7.3")])
    assert done.control("A.3.2").status == "satisfied"
    assert done.control("A.7.3").status == "satisfied"


# 2 ---------------------------------------------------------------------------------------------
def test_2_info_records_count_only_with_the_content_the_control_needs() -> None:
    """A lineage.code record without a git commit or a hash of the source cannot tell which code
    trained the model in production: it does not count, so the design documentation (A.6.2.3)
    and the data preparation (A.7.6) are not evidenced, and the reason says what is missing."""
    empty_code = run_of("lineage.code", details={"git": None, "source_name": "train.py"})
    sa = system_of([empty_code, run_of("lineage.params")])
    for control in ("A.6.2.3", "A.7.6"):
        status = sa.control(control)
        assert status.status == "missing", control
        assert (
            "does not hold what the control needs: git.commit or source_sha256"
            in (status.reasons[0])
        )
    hashed = run_of("lineage.code", details={"git": None, "source_sha256": "ab" * 32})
    assert system_of([hashed, run_of("lineage.params")]).control("A.6.2.3").status == ("satisfied")
    # datasets need their full-content digests, environments their versions
    partial = run_of("lineage.datasets", details={"datasets": [{"name": "t", "sha256": None}]})
    assert system_of([partial]).control("A.4.3").status == "missing"


# 3 ---------------------------------------------------------------------------------------------
def test_3_each_control_is_judged_from_the_right_evidence() -> None:
    """Event logs (A.6.2.8) are about what the system records in operation: training parameters
    say nothing about it. Information for users (A.8.2) must have reached them: a system card
    logged with the registered version, or an attestation of publication; a card that says
    nothing about the version is not delivered documentation."""
    params = run_of("lineage.params")
    assert system_of([params]).control("A.6.2.8").status == "missing"
    logs = system_of([run_of("monitoring"), attested("A.6.2.8")])
    assert logs.control("A.6.2.8").status == "satisfied"

    local_card = run_of(
        "system_card",
        details={"model": None, "owner": "x", "intended_use": "y", "document_sha256": "ab" * 32},
    )
    lacking = system_of([local_card]).control("A.8.2")
    assert lacking.status == "missing"  # a card that names no model version does not count
    assert "does not hold what the control needs: model" in lacking.reasons[0]
    card = run_of(
        "system_card",
        details={
            "model": "income-classifier version 1",
            "owner": "Head of Credit Modelling",
            "intended_use": "affordability",
            "document_sha256": "ab" * 32,
        },
    )
    # written to a local path only: documentation, not delivered to users
    assert system_of([card]).control("A.8.2").status == "missing"
    delivered = run_of(
        "system_card", details={**dict(card.details), "delivered_with": "models:/income/1"}
    )
    assert system_of([delivered]).control("A.8.2").status == "satisfied"
    published = system_of([attested("A.8.2")]).control("A.8.2")
    assert published.status == "satisfied"
    assert published.parts[0].kind == "any_of"


# 4 ---------------------------------------------------------------------------------------------
def test_4_risk_treatment_tells_the_risk_engines_story() -> None:
    """8.3 cannot say 'every risk above the appetite is treated' while the register shows R1 at
    20: the clause reads the risk evaluation (measured likelihood included) and names each risk
    still above the appetite with the reason."""
    unfair = run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.3},
        details={"checks": [{"passed": False, "reason": "demographic_parity_difference = 0.3"}]},
    )
    sa = system_of([unfair])
    r1 = next(r for r in sa.risks if r.id == "R1")
    assert (r1.inherent_likelihood, r1.residual) == (5, 20)  # measured 0.3 > 0.2: likelihood 5
    treatment = sa.control("8.3")
    assert treatment.status == "failing"
    assert treatment.reasons[0].startswith("R1: residual 20 is above the appetite 6")
    assert "A.6.2.4 (failing)" in treatment.reasons[0]
    assert {r.split(":")[0] for r in treatment.reasons} == {
        r.id for r in sa.risks if r.above_appetite
    }


# 5 ---------------------------------------------------------------------------------------------
def test_5_a_residual_falls_only_on_evidence_and_acceptance_needs_an_approver() -> None:
    """A residual falls to its target only when the treating controls are shown to work by
    evidence: R4 names A.9.4, whose purpose is declared but not shown in operation, so R4 stays
    at 9. A transfer
    with no evidence of the contract lowers nothing. A risk kept above the appetite by accepting
    it needs a named approver, else 8.3 is not satisfied."""
    sa = system_of([run_of("system_card", details=CONTENT_CARD)])
    r4 = next(r for r in sa.risks if r.id == "R4")
    assert sa.control("A.8.2").status == "satisfied"
    assert sa.control("A.9.4").status == "missing"  # declared, no operational evidence
    assert r4.residual == 9
    assert any("A.9.4 (missing)" in r for r in r4.reasons)

    transfer = example(replace=("    treatment: accept\n", "    treatment: transfer\n"))
    r5 = next(r for r in system_of([], cfg=transfer).risks if r.id == "R5")
    assert r5.residual == r5.inherent
    assert any("transfer treatment lowers the residual only with evidence" in r for r in r5.reasons)

    above = (
        "    likelihood: 1\n    impact: 5\n    treatment: accept\n",
        "    likelihood: 2\n    impact: 5\n    treatment: accept\n",
    )
    unapproved = system_of([], cfg=example(replace=above))
    assert unapproved.control("8.3").status == "failing"
    assert any(
        r.startswith("R5: residual 10") and "no approver" in r
        for r in unapproved.control("8.3").reasons
    )
    approved = example(
        replace=(
            above[0],
            above[1] + "    acceptance: {by: Chief Risk Officer, on: 2026-11-20, "
            "document: decisions/r5-acceptance.pdf}\n",
        )
    )
    r5 = next(r for r in system_of([], cfg=approved).risks if r.id == "R5")
    assert r5.acceptance == "accepted by Chief Risk Officer on 2026-11-20" and not r5.unresolved


CONTENT_CARD = {
    "delivered_with": "models:/income-classifier/1",
    "model": "income-classifier version 1",
    "owner": "Head of Credit Modelling",
    "intended_use": "affordability",
    "document_sha256": "ab" * 32,
}


# 6 ---------------------------------------------------------------------------------------------
def test_6_missing_evidence_is_never_better_than_failing_evidence() -> None:
    """When production moves to version 2 and nothing was captured for it, the measured bias of
    version 1 (likelihood 5) still stands: an unmeasured model does not inherit a lower risk.
    Its verification controls are stale for version 2, and the default gate blocks."""
    unfair_v1 = run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.3},
        details={"checks": [{"passed": False, "reason": "dpd = 0.3"}]},
    )
    before = system_of([unfair_v1], model=V1)
    after = system_of([unfair_v1], model=V2)
    r1_before = next(r for r in before.risks if r.id == "R1")
    r1_after = next(r for r in after.risks if r.id == "R1")
    assert r1_before.residual == 20 and r1_after.residual == 20
    assert any("from the last measurement" in r for r in r1_after.reasons)
    assert after.control("A.5.4").status == "stale"
    gate = evaluate_gate(after, verification=verification_controls(example().system(SYSTEM)))
    assert not gate.passed
    assert any(f.startswith("A.5.4 stale") and "version 2" in f for f in gate.failures)


# 7 ---------------------------------------------------------------------------------------------
def test_7_a_new_production_version_makes_reassessment_due() -> None:
    """A system in operation that ships a new version must reassess its impacts and review its
    risks for that version (reassess_on: new_version, the default in deployment and operation):
    an assessment dated before the version was registered is stale, naming the version."""
    live = example(
        replace=("    lifecycle_stage: development\n", "    lifecycle_stage: operation\n")
    )
    sa = system_of([], cfg=live, model=V2)  # v2 registered on 2026-11-25, assessed 2026-11-10
    for entry in ("8.4", "A.5.3"):
        status = sa.control(entry)
        assert status.status == "stale", entry
        assert "income-classifier version 2" in status.reasons[0]
    assert sa.control("8.2").parts[1].status == "stale"
    # the assessment of version 1 still holds for version 1
    assert system_of([], cfg=live, model=V1).control("8.4").status == "satisfied"
    # a system still in development reassesses on its interval only
    assert system_of([], model=V2).control("8.4").status == "satisfied"
    pinned = example(
        replace=(
            "    assessed_by: AI Governance Board\n",
            "    assessed_by: Board\n    model_version: 1\n",
        )
    )
    assert (
        system_of([], cfg=pinned.model_copy(update={"systems": live.systems}), model=V2)
        .control("8.4")
        .status
        == "stale"
    )


# 8 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("soa_line", "expected"),
    [
        (
            "  - {control: A.5.4, applicable: false, justification: not relevant to us}\n",
            "A.5.4 treats risk R1 but soa[2] excludes it",
        ),
        (
            "  - {control: A.2.2, applicable: false, justification: not relevant to us}\n",
            "A.2.2 cannot be excluded: clause 5.2 requires every AIMS to have an AI policy",
        ),
        (
            "  - {control: A.6.2.6, applicable: false, justification: not relevant to us}\n",
            "A.6.2.6 (monitoring) is excluded while systems[0].monitoring declares",
        ),
        (
            "  - {control: A.3.3, applicable: false, justification: not relevant to us,"
            " systems: [income-classifier]}\n",
            "A.3.3 is an organization-level control",
        ),
    ],
)
def test_8_the_soa_cannot_contradict_the_risk_treatment(soa_line: str, expected: str) -> None:
    """An excluded control cannot treat a risk, the AI policy the clauses require cannot be
    excluded, monitoring cannot be excluded while monitoring thresholds are declared, and an
    organization-level control is decided once for the whole AIMS: each is a validation error
    naming both sides."""
    with pytest.raises(ConfigError) as err:
        example(soa_line.replace("A.5.4, applicable: false", "A.5.4, applicable: false"))
    assert any(expected in problem for problem in err.value.problems), err.value.problems


def test_8_records_for_an_excluded_control_contradict_the_exclusion() -> None:
    """A.10.4 (customers) is excluded, yet someone attested client requirements: the SoA
    decision (soa_decided) fails naming the record, and readiness lists it as a finding."""
    a = judged([attested("A.10.4", system=None)])
    soa = a.systems[SYSTEM].control("6.1").parts[0]
    assert soa.status == "failing"
    assert [f.id for f in a.readiness.findings] == ["A.10.4"]


# 9 ---------------------------------------------------------------------------------------------
def test_9_readiness_cannot_be_gamed_by_exclusions() -> None:
    """Excluding every control that is not yet met raises the percentage, but an auditor still
    cannot certify an AIMS that has run no internal audit and no management review: readiness
    says not ready with its blockers, and shows how many entries were excluded."""
    plain_assessment = judged([])
    relied_on = {c for r in example().risks for c in r.controls} | {"A.2.2"}
    relied_on |= set(load_catalog().controls_for_kind("monitoring"))
    unmet = [
        c.id
        for c in plain_assessment.systems[SYSTEM].controls
        if c.kind == "control"
        and c.scope == "system"
        and c.status == "missing"
        and c.id not in relied_on
    ]
    assert len(unmet) >= 5
    lines = "".join(
        f"  - {{control: {c}, applicable: false, justification: not relevant to us}}\n"
        for c in unmet
    )
    plain, gamed = plain_assessment.readiness, judged([], cfg=example(lines)).readiness
    assert gamed.overall > plain.overall
    assert gamed.excluded > plain.excluded
    for readiness in (plain, gamed):
        assert not readiness.ready
        assert {"9.2.1", "9.3.1"} <= {b.id for b in readiness.blockers}


# 10 --------------------------------------------------------------------------------------------
def test_10_out_of_scope_risks_are_flagged_never_dropped() -> None:
    """A risk of a system outside the AIMS scope is still on the register: the risk list shows
    it, flagged out of scope, so nobody mistakes a scoping decision for a treated risk."""
    extra = (
        "  - {id: R9, system: marketing-propensity, category: privacy, description: leaks,"
        " likelihood: 4, impact: 4, treatment: transfer, controls: [A.10.2]}\n"
    )
    cfg = example(replace=("\nimpact_assessments:", extra + "\nimpact_assessments:"))
    rows = {r["id"]: r for r in risk_rows(judged([], cfg=cfg))}
    assert rows["R9"]["out_of_scope"] is True and rows["R9"]["residual"] == 16
    assert rows["R1"]["out_of_scope"] is False


def test_10_2_needs_a_nonconformity_for_every_failing_entry() -> None:
    """An empty register is no evidence that corrective action works while entries fail: 10.2
    is missing until a nonconformity is raised for each failing entry. Raised and none past
    due, the corrective-action process is working: 10.2 is satisfied; past due, it fails."""
    unfair = run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.3},
        details={"checks": [{"passed": False, "reason": "dpd = 0.3"}]},
    )
    sa = system_of([unfair])
    failing = sorted({c.id for c in sa.controls if c.status == "failing"})
    corrective = sa.control("10.2")
    assert corrective.status == "missing"
    assert all(entry in corrective.reasons[0] for entry in failing)
    raised = [
        rec(
            "nonconformity",
            system=None if load_catalog().get(entry).scope == "organization" else SYSTEM,
            outcome="info",
            details={"entry": entry, "deadline": "2026-12-31", "opened_on": "2026-11-30"},
        )
        for entry in failing
    ]
    register, covered = system_of([unfair, *raised]).control("10.2").parts
    assert covered.status == "satisfied"
    assert register.status == "satisfied"  # raised, none past its deadline
    assert system_of([unfair, *raised]).control("10.2").status == "satisfied"
