"""The AIMS's own processes, judged purely: internal audits (9.2), management reviews (9.3), the
nonconformity register as records (10.2), approvers and monitoring coverage."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from aims_mlops.capture._process import (
    ERROR_BLANK_FILE,
    ERROR_NOT_INDEPENDENT,
    ProcessRecordError,
    check_scope,
    document_bytes,
    internal_audit_record,
    management_review_record,
)
from aims_mlops.catalog import load_catalog
from aims_mlops.config import ConfigError, example_config_text, load_config, parse_config
from aims_mlops.config._models import ERROR_UNKNOWN_APPROVER_KEY
from aims_mlops.engine import assess
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.reports._register import (
    CLOSED,
    ERROR_BLANK_FIELD,
    OPEN,
    PLANNED,
    VERIFIED,
    NcCandidate,
    NonconformityError,
    integrity_candidates,
    plan_sync,
    register_rows,
    update_record,
    verify_record,
)
from tests.unit.test_audit import attestation, fairness
from tests.unit.test_pack import SYSTEM, make_judgement

NOW = datetime(2026, 3, 1, tzinfo=UTC)
OWNER = "Head of Credit Modelling (credit-models@example-lending.test)"
PROGRAMME = ""  # the example declares audit_programme and management_review


#: the example's own approvers block (the tests below declare their own)
EXAMPLE_APPROVERS = (
    'approvers:\n  "5.2": [top_management]\n  A.2: [top_management]\n  "9.3": [top_management]\n'
)


#: people these tests name besides the example's (every name that acts is a listed person)
EXTRA_PEOPLE = "  - name: Dana Smith\n  - name: Platform Lead\n  - name: CTO\n"


def example_without_approvers() -> str:
    text = example_config_text()
    assert EXAMPLE_APPROVERS in text and text.count("\npeople:\n") == 1
    text = text.replace("\npeople:\n", "\npeople:\n" + EXTRA_PEOPLE)
    return text.replace(EXAMPLE_APPROVERS, "")


def config_text(extra: str = PROGRAMME, *, stage: str | None = None) -> str:
    text = example_without_approvers().replace(
        "  interval_days: 365             # every item", "  interval_days: 180  # every item", 1
    )
    assert "interval_days: 180" in text
    if stage is not None:
        text = text.replace("lifecycle_stage: development", f"lifecycle_stage: {stage}", 1)
    return text + extra


#: the default programme's scope: clauses 4-10 and the in-scope system
FULL_SCOPE = ("4", "5", "6", "7", "8", "9", "10", SYSTEM)


def audit(
    at: datetime, *, auditor: str = "Head of Internal Audit", scope: tuple[str, ...] = FULL_SCOPE
):
    return internal_audit_record(
        auditor=auditor,
        scope=list(scope),
        report=Path("audit.md"),
        report_bytes=b"the audit report",
        findings=[],
        audited_on=at.date(),
        now=at,
    )


def review(at: datetime, *, decisions: bool = True, inputs: bool = True) -> EvidenceRecord:
    pack: dict = {"actions": [], "changes": {}, "trends": {}, "nonconformities": {"open": []}}
    if inputs:  # the 9.3.2 inputs the review pack assembles
        pack.update(context={}, monitoring={}, audits=[], opportunities=[])
    return management_review_record(
        chair="Chief Executive",
        attendees=["Chief Risk Officer"],
        minutes=Path("minutes.md"),
        minutes_bytes=b"minutes",
        decisions=[{"decision": "fund the fairness work"}] if decisions else [],
        pack=pack,
        pack_bytes=b"{}",
        evidence_digest="0" * 64,
        reviewed_on=at.date(),
        now=at,
    )


def verdicts(judgement, *ids: str) -> dict[str, str]:
    sa = judgement.assessment.systems[SYSTEM]
    return {i: sa.control(i).status for i in ids}


# ------------------------------------------------------------------------------ 9.2 and 9.3
def test_an_internal_audit_by_the_system_owner_is_refused() -> None:
    config = parse_config(config_text())
    with pytest.raises(ProcessRecordError) as caught:
        check_scope(config, "credit-models@example-lending.test", [SYSTEM])
    assert str(caught.value) == ERROR_NOT_INDEPENDENT.format(
        auditor="credit-models@example-lending.test", item=SYSTEM, what=f"owns {SYSTEM} ({OWNER})"
    )
    with pytest.raises(ProcessRecordError) as caught:  # the policy owner owns the clauses
        check_scope(config, "Chief Risk Officer", ["9.2"])
    assert "Chief Risk Officer owns 9.2 (Chief Risk Officer)" in str(caught.value)
    auditor = "Head of Internal Audit"
    assert check_scope(config, auditor, [SYSTEM, "A.6"]) == [SYSTEM, "A.6"]


def test_a_placeholder_document_is_refused(tmp_path: Path) -> None:
    blank = tmp_path / "blank.md"
    blank.write_text("  n/a \n")
    for given in ("-", str(blank)):
        with pytest.raises(ProcessRecordError) as caught:
            document_bytes(given, option="--report")
        assert str(caught.value) == ERROR_BLANK_FILE.format(option="--report", path=given)


def test_an_audit_and_a_review_satisfy_9_2_and_9_3_and_lift_the_blockers(tmp_path: Path) -> None:
    entries = ("9.2.1", "9.2.2", "9.3.1", "9.3.2", "9.3.3")
    before = make_judgement(tmp_path, [], now=NOW, config_text=config_text())
    assert set(verdicts(before, *entries).values()) == {"missing"}
    blocked = {b.id for b in before.assessment.readiness.blockers}
    assert set(entries) <= blocked

    records = [audit(NOW - timedelta(days=10)), review(NOW - timedelta(days=5))]
    after = make_judgement(tmp_path, records, now=NOW, config_text=config_text())
    assert verdicts(after, *entries) == dict.fromkeys(entries, "satisfied")
    assert not set(entries) & {b.id for b in after.assessment.readiness.blockers}

    # outside the programme's interval the audit is stale; a review without decisions leaves 9.3.3
    later = NOW + timedelta(days=200)
    old = make_judgement(
        tmp_path, [records[0], review(later, decisions=False)], now=later,
        config_text=config_text(),
    )  # fmt: skip
    status = verdicts(old, *entries)
    assert status["9.2.1"] == "stale" and status["9.2.2"] == "stale"
    assert status["9.3.1"] == status["9.3.2"] == "satisfied"
    assert status["9.3.3"] == "missing"
    assert "decisions" in old.assessment.systems[SYSTEM].control("9.3.3").reasons[0]


def test_the_programme_fails_an_audit_by_an_owner_recorded_anyway(tmp_path: Path) -> None:
    by_owner = audit(NOW - timedelta(days=1), auditor="Head of Credit Modelling")
    judgement = make_judgement(tmp_path, [by_owner], now=NOW, config_text=config_text())
    verdict = judgement.assessment.systems[SYSTEM].control("9.2.2")
    assert verdict.status == "failing"
    assert "is not independent" in verdict.reasons[0]


# ---------------------------------------------------------------------------------- 10.2
def test_a_nonconformity_life_open_on_regression_update_verify_close(tmp_path: Path) -> None:
    text = config_text(stage="deployment")
    passing = fairness("2026-02-10T10:00:00Z", 0.04, "run-2")
    feb = datetime(2026, 2, 15, tzinfo=UTC)
    earlier = make_judgement(tmp_path, [passing], now=feb, config_text=text)
    assert verdicts(earlier, "A.5.4") == {"A.5.4": "satisfied"}

    # a month later a new run exists without fairness evidence: A.5.4 regresses to stale
    other_run = new_record(
        kind="performance",
        system=SYSTEM,
        outcome="pass",
        collector="performance",
        controls=["A.6.2.4"],
        details={"checks": [{"passed": True, "reason": "accuracy ok"}]},
        subject=Subject(run_id="run-3"),
        collected_at="2026-03-10T10:00:00Z",
    )
    march = datetime(2026, 3, 12, tzinfo=UTC)
    history = [passing, other_run]
    now = make_judgement(tmp_path, history, now=march, config_text=text)
    assert verdicts(now, "A.5.4") == {"A.5.4": "stale"}
    plan = plan_sync(now, previous=earlier.assessment)
    [opened] = [r for r in plan.opened if r.details["entry"] == "A.5.4"]
    assert opened.details["source"] == "regression" and opened.details["deadline"] == "2026-04-11"
    history += list(plan.records)
    assert {r["control"]: r["state"] for r in register_rows(history, now=march)}["A.5.4"] == OPEN

    with pytest.raises(NonconformityError) as caught:
        update_record(
            history, opened.id[:8], root_cause=" ", correction="c", action="a", owner="o",
            due=date(2026, 4, 1), now=march,
        )  # fmt: skip
    assert str(caught.value) == ERROR_BLANK_FIELD.format(field="root-cause", what="root cause")
    planned = update_record(
        history, opened.id[:8], root_cause="fairness step skipped for run-3",
        correction="assessed run-3", action="the pipeline runs assess_fairness on every run",
        owner="Head of Credit Modelling", due=date(2026, 4, 1), now=march,
    )  # fmt: skip
    history.append(planned)
    row = next(r for r in register_rows(history, now=march) if r["id"] == opened.id)
    assert (row["state"], row["due"], row["root_cause"]) == (
        PLANNED,
        "2026-04-01",
        "fairness step skipped for run-3",
    )

    # verified but the control is still stale: it stays open
    history.append(verify_record(history, opened.id, by="Ines Auditor", note="ok", now=march))
    still = make_judgement(tmp_path, history, now=march, config_text=text)
    assert not [r for r in plan_sync(still, previous=still.assessment).closed]
    assert (
        next(r for r in register_rows(history, now=march) if r["id"] == opened.id)["state"]
        == VERIFIED
    )

    # fairness evidence for run-3: satisfied again and verified, so the sync closes it
    history.append(fairness("2026-03-13T10:00:00Z", 0.03, "run-3"))
    fixed_at = datetime(2026, 3, 14, tzinfo=UTC)
    fixed = make_judgement(tmp_path, history, now=fixed_at, config_text=text)
    closing = plan_sync(fixed, previous=fixed.assessment)
    assert [r.details["closes"] for r in closing.closed] == [opened.id]
    final = next(r for r in closing.rows if r["id"] == opened.id)
    assert (final["state"], final["closed_at"]) == (CLOSED, "2026-03-14")


def test_10_2_is_judged_from_the_register(tmp_path: Path) -> None:
    text = config_text()
    none = make_judgement(tmp_path, [], now=NOW, config_text=text)
    # no nonconformity is due, but the example's untreated risks make 8.3 and 6.1 fail and no
    # nonconformity was raised for them: an auditor finds the corrective-action process idle
    register, raised = none.assessment.systems[SYSTEM].control("10.2").parts
    assert (register.status, raised.status) == ("satisfied", "missing")
    assert verdicts(none, "10.2") == {"10.2": "missing"}
    nc = plan_sync(none, extra=integrity_candidates(["record 3f2a: content hash mismatch"]))
    [opened] = [r for r in nc.opened if r.details["source"] == "integrity"]
    late = NOW + timedelta(days=40)
    overdue = make_judgement(tmp_path, [opened], now=late, config_text=text)
    verdict = overdue.assessment.systems[SYSTEM].control("10.2")
    assert verdict.status == "failing"
    assert "is not closed and its deadline" in verdict.reasons[0]
    moved = update_record(
        [opened], opened.id, root_cause="r", correction="c", action="a", owner="o",
        due=(late + timedelta(days=10)).date(), now=late,
    )  # fmt: skip
    amended = make_judgement(tmp_path, [opened, moved], now=late, config_text=text)
    assert verdicts(amended, "10.2") == {"10.2": "missing"}  # open, due later


def test_a_candidate_for_an_open_nonconformity_opens_no_second_one(tmp_path: Path) -> None:
    judgement = make_judgement(tmp_path, [], now=NOW, config_text=config_text())
    twice = [NcCandidate(entry="A.5.4", system=SYSTEM, source="internal_audit", reasons=("x",))] * 2
    assert (
        len(plan_sync(judgement, previous=judgement.assessment, extra=twice).opened)
        == len(plan_sync(judgement, previous=judgement.assessment).opened) + 1
    )


# ----------------------------------------------------------------------------- approvers
def test_an_approvers_key_that_covers_no_entry_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "aims.yaml"
    base = example_without_approvers()
    lines = len(base.splitlines())
    path.write_text(
        base + "approvers:\n  A.2: [Chief Executive]\n  A.6.2: [CTO]\n  A.2.9: [Dana Smith]\n"
    )  # A.2 is a group, A.6.2 a heading over controls, A.2.9 a typo
    with pytest.raises(ConfigError) as info:
        load_config(path)
    hint = "; did you mean A.2.4, A.2.3, A.2.2?"
    assert str(info.value) == (
        f"{path}:{lines + 4}: approvers.A.2.9: "
        + ERROR_UNKNOWN_APPROVER_KEY.format(key="A.2.9", hint=hint)
    )


def test_an_attestation_by_someone_not_an_approver_does_not_count(tmp_path: Path) -> None:
    text = config_text(PROGRAMME + "approvers:\n  A.2: [Dana Smith]\n")
    policy = attestation("A.2.2", "2026-01-10T09:00:00Z")  # by Chief Executive
    judgement = make_judgement(tmp_path, [policy], now=NOW, config_text=text)
    verdict = judgement.assessment.systems[SYSTEM].control("A.2.2")
    assert verdict.status == "missing"
    assert (
        "Chief Executive may not attest or approve A.2.2: approvers are Dana Smith"
        in (verdict.reasons[0])
    )
    allowed = make_judgement(
        tmp_path, [policy], now=NOW,
        config_text=config_text(PROGRAMME + "approvers:\n  A.2.2: [Chief Executive]\n"),
    )  # fmt: skip
    assert verdicts(allowed, "A.2.2") == {"A.2.2": "satisfied"}


# ------------------------------------------------------------------------------- coverage
def monitoring(at: datetime) -> EvidenceRecord:
    return new_record(
        kind="monitoring",
        system=SYSTEM,
        outcome="pass",
        collector="monitoring",
        controls=["A.6.2.6", "9.1"],
        details={"checks": [{"passed": True, "reason": "no drift"}]},
        collected_at=at.isoformat().replace("+00:00", "Z"),
    )


def test_monitoring_coverage_is_reported_and_enforced(tmp_path: Path) -> None:
    # weekly monitoring declared; it ran in 3 of the 13 weeks of the last 90 days
    runs = [monitoring(NOW - timedelta(days=d)) for d in (85, 40, 1)]
    judgement = make_judgement(tmp_path, runs, now=NOW, config_text=config_text())
    verdict = judgement.assessment.systems[SYSTEM].control("A.6.2.6")
    assert verdict.status == "satisfied"
    assert any("monitoring ran 3 of 13 expected 7-day intervals" in r for r in verdict.reasons)
    strict = config_text().replace(
        "    monitoring:                    # drift checks on production data",
        "    monitoring:                    # drift checks on production data\n"
        "      min_coverage: 0.8",
        1,
    )
    assert "min_coverage: 0.8" in strict
    failing = make_judgement(tmp_path, runs, now=NOW, config_text=strict)
    assert verdicts(failing, "A.6.2.6", "9.1") == {"A.6.2.6": "failing", "9.1": "failing"}
    assert (
        "below the required 80.0 %" in failing.assessment.systems[SYSTEM].control("9.1").reasons[0]
    )


def test_the_audit_record_hashes_its_report() -> None:
    record = audit(NOW)
    assert record.details["report_sha256"] == hashlib.sha256(b"the audit report").hexdigest()
    assert record.controls == load_catalog().controls_for_kind("internal_audit")
    assert assess  # the engine judges these records like any other


def test_a_risk_acceptance_by_someone_not_an_approver_does_not_count() -> None:
    from aims_mlops.engine._risk import acceptance_text

    accepted = config_text().replace(
        "    treatment: accept\n    owner: Chief Information Security Officer\n",
        "    treatment: accept\n    owner: Chief Information Security Officer\n"
        "    acceptance: {by: Platform Lead, on: 2026-01-10, document: r5-acceptance.pdf}\n",
        1,
    )
    approvers = 'approvers:\n  "8": [Chief Risk Officer]\n'
    config = parse_config(accepted + approvers)
    [r5] = [r for r in config.risks if r.id == "R5"]
    treatment = [e.id for e in load_catalog().entries if "risk_treatment" in e.rule.config_checks]
    text, problem = acceptance_text(r5, now=NOW, config=config, approval_entries=treatment)
    assert text is None
    assert problem == (
        f"its acceptance does not count: Platform Lead may not attest or approve {treatment[0]}: "
        "approvers are Chief Risk Officer"
    )
    text, problem = acceptance_text(
        r5, now=NOW, config=parse_config(accepted), approval_entries=treatment
    )
    assert problem is None and text == "accepted by Platform Lead on 2026-01-10"


def test_a_record_that_failed_verification_opens_one_nonconformity(tmp_path: Path) -> None:
    """Integrity failures are nonconformities: the first sync raises one per failed record,
    later syncs do not raise it again."""
    from aims_mlops.evidence import IntegrityFinding

    finding = IntegrityFinding(
        record_id="3f2a" * 8, why="content hash mismatch", kind="fairness", system=SYSTEM
    )
    judgement = make_judgement(tmp_path, [], now=NOW, config_text=config_text())
    first = plan_sync(judgement, extra=integrity_candidates([finding]))
    [opened] = [r for r in first.opened if r.details["source"] == "integrity"]
    assert list(opened.details["evidence"]) == [finding.record_id]
    assert "failed verification: content hash mismatch" in opened.details["statement"]
    later = make_judgement(tmp_path, [opened], now=NOW, config_text=config_text())
    again = plan_sync(later, extra=integrity_candidates([finding]))
    assert not [r for r in again.opened if r.details["source"] == "integrity"]
