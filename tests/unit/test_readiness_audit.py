"""Readiness an auditor signs (issue 24): one test per numbered finding of the certification
auditor's review, and the seven cheap actions that once made ``aims readiness`` say READY.

Hand-built evidence, the shipped catalog and the example ``aims.yaml`` (the demo's AIMS); each
docstring gives the auditor's reasoning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aims_mlops import AimsError
from aims_mlops.capture._process import (
    REVIEW_INPUTS,
    ProcessRecordError,
    check_scope,
    document_bytes,
    internal_audit_record,
    management_review_record,
)
from aims_mlops.catalog import load_catalog
from aims_mlops.config import AimsConfig, parse_config
from aims_mlops.engine import assess, soa_rows
from aims_mlops.engine._engine import BLOCKER_UNSIGNED
from aims_mlops.evidence import EvidenceRecord, new_record
from aims_mlops.evidence._documents import DocumentError, document_details
from tests.unit.test_verdicts import (
    NOW,
    SYSTEM,
    V1,
    attested,
    example,
    fairness_pass,
    judged,
    run_of,
    system_of,
)

CATALOG = load_catalog()


def audit_by(auditor: str, scope: tuple[str, ...], *, days: int = 3) -> EvidenceRecord:
    return internal_audit_record(
        auditor=auditor,
        scope=list(scope),
        report=Path("audit.md"),
        report_bytes=b"audit ok",
        findings=[],
        audited_on=(NOW - timedelta(days=days)).date(),
        now=NOW - timedelta(days=days),
    )


def review_by(chair: str, *, sections: tuple[str, ...] = REVIEW_INPUTS) -> EvidenceRecord:
    return management_review_record(
        chair=chair,
        attendees=[],
        minutes=Path("minutes.md"),
        minutes_bytes=b"met",
        decisions=[{"decision": "carry on"}],
        pack={s: {} for s in sections},
        pack_bytes=b"{}",
        evidence_digest="0" * 64,
        reviewed_on=(NOW - timedelta(days=2)).date(),
        now=NOW - timedelta(days=2),
    )


def blocker_ids(cfg: AimsConfig, records: list[EvidenceRecord], **kw: object) -> set[str]:
    assessment = assess(
        CATALOG,
        cfg,
        records,
        current_models={SYSTEM: V1},
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )
    return {b.id for b in assessment.readiness.blockers}


# 1 ---------------------------------------------------------------------------------------------
def test_1_every_applicable_entry_that_is_not_satisfied_blocks_readiness() -> None:
    """A certification auditor cannot sign while 4.2, 7.1 or 10.1 have no documented
    information at all: a missing entry is a nonconformity like a failing one. Every applicable
    entry that is not satisfied is a blocker naming its owner; unsigned evidence, records that
    fail verification and unapproved configuration changes block too; and readiness says how
    many satisfied entries rest on a person's word only."""
    assessment = judged([])
    readiness = assessment.readiness
    assert not readiness.ready
    by_id = {(b.id, b.system): b for b in readiness.blockers}
    for entry in ("4.2", "4.4", "5.3", "6.2", "7.1", "7.5.3", "8.1", "10.1"):
        blocker = by_id[(entry, None)]
        assert blocker.status == "missing" and blocker.owner == "Chief Risk Officer"
    assert by_id[("A.6.2.6", SYSTEM)].owner.startswith("Head of Credit Modelling")
    not_satisfied = [
        (v.id, s)
        for sa in assessment.systems.values()
        for v in sa.controls
        if v.status not in ("satisfied", "not_applicable")
        for s in ([None] if v.scope == "organization" else [SYSTEM])
    ]
    assert set(not_satisfied) <= set(by_id)
    # the counts: what the satisfied entries rest on
    basis = dict(readiness.basis)
    assert set(basis) == {"captured", "attestation_only", "declaration_only"}
    unique = {
        (None if c.scope == "organization" else sid, c.id): c
        for sid, sa in assessment.systems.items()
        for c in sa.controls
    }
    assert sum(basis.values()) == sum(1 for c in unique.values() if c.status == "satisfied")
    with_policy = judged([attested("A.2.2", system=None), fairness_pass()]).readiness
    assert with_policy.basis["attestation_only"] >= 1 and with_policy.basis["captured"] >= 1
    # unsigned evidence and an unapproved configuration change are blockers of their own
    cfg = example()
    ids = blocker_ids(cfg, [], unsigned="no trust.public_keys", unapproved_changes=["R2 edited"])
    assert {"integrity", "aims.yaml"} <= ids
    unsigned = assess(
        CATALOG, cfg, [], current_models={SYSTEM: V1}, now=NOW, unsigned="no keys"
    ).readiness.blockers
    assert BLOCKER_UNSIGNED.format(note="no keys") in [b.reason for b in unsigned]


def test_1_an_out_of_scope_systems_risk_above_the_appetite_blocks() -> None:
    """A risk register entry above the appetite does not vanish because its system was taken
    out of scope: the auditor asks why, and readiness names it."""
    cfg = example()
    text_cfg = cfg.model_copy(
        update={
            "risks": (
                *cfg.risks,
                cfg.risks[0].model_copy(update={"id": "R9", "system": "marketing-propensity"}),
            )
        }
    )
    blockers = assess(
        CATALOG, text_cfg, [], current_models={SYSTEM: V1}, now=NOW
    ).readiness.blockers
    [r9] = [b for b in blockers if b.id == "R9"]
    assert r9.status == "out_of_scope_risk" and "outside the AIMS scope" in r9.reason


# 2 ---------------------------------------------------------------------------------------------
def test_2_the_residual_never_falls_below_the_measured_indicator() -> None:
    """R1's treating controls may all be satisfied, but the demographic parity difference
    measured on the model in production (0.289) says likelihood 5: a residual of 2 x 3 on
    paper is not what the evidence shows. The residual likelihood is the measured level, and
    the reason says which one set it."""
    unfair = run_of(
        "fairness",
        metrics={"demographic_parity_difference": 0.289},
        details={"checks": [{"passed": True, "reason": "dpd within a loosened bound"}]},
    )
    r1 = next(r for r in system_of([unfair]).risks if r.id == "R1")
    assert r1.inherent_likelihood == 5
    assert r1.residual_likelihood == 5 and r1.above_appetite
    fair = next(r for r in system_of([fairness_pass(dpd=0.01)]).risks if r.id == "R1")
    assert fair.residual_likelihood <= 2 or "declared residual likelihood" in " ".join(fair.reasons)


# 3 ---------------------------------------------------------------------------------------------
def test_3_a_clean_monitoring_batch_counts() -> None:
    """A healthy system's monitoring finds no drift: the record must still show what was
    checked and passed, or the auditor sees monitoring that proves nothing and a healthy system
    is marked as unmonitored."""
    pd = pytest.importorskip("pandas")
    from aims_mlops.collectors.backends import monitoring_record

    frame = pd.DataFrame({"age": range(200), "hours": [40 + i % 5 for i in range(200)]})
    record = monitoring_record(frame, frame, system=SYSTEM, model_version="1")
    assert record.outcome == "pass"
    assert record.details["checks"] and all(c["passed"] for c in record.details["checks"])
    stamped = new_record(
        kind="monitoring",
        system=SYSTEM,
        outcome="pass",
        collector="monitoring",
        controls=list(record.controls),
        details=dict(record.details),
        collected_at=(NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    )
    sa = system_of([stamped])
    assert sa.control("A.6.2.6").status == "satisfied"
    assert sa.control("9.1").status == "satisfied"


# 4 ---------------------------------------------------------------------------------------------
def test_4_documents_must_have_substance(tmp_path: Path) -> None:
    """An empty file, a three-byte "ok", a template still holding its placeholders, or
    https://example.com/x shows the auditor nothing: refused when attested, and an attestation
    of one written into the store anyway does not count at judgement."""
    empty = tmp_path / "empty.md"
    empty.write_text("")
    ok = tmp_path / "ok.md"
    ok.write_text("ok")
    template = tmp_path / "context.md"
    template.write_text("# Context of the organization\n\nTODO: list the external issues\n" * 3)
    for path in (empty, ok, template):
        with pytest.raises(DocumentError):
            document_details(str(path))
    for url in ("https://example.com/x", "http://localhost:8000/p", "https://10.0.0.4/p"):
        with pytest.raises(DocumentError):
            document_details(url)
    assert document_details("https://intranet.acme-lending.com/policy")["document_sha256"] is None
    forged = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=["4.1"],
        details={"by": "Nobody", "document": "https://example.com/x", "statement": "x"},
    )
    verdict = judged([forged]).systems[SYSTEM].control("4.1")
    assert verdict.status == "missing" and "placeholder or local host" in verdict.reasons[0]
    with pytest.raises(ProcessRecordError):
        document_bytes(ok, option="--report", min_bytes=100)


# 5 ---------------------------------------------------------------------------------------------
def test_5_authority_and_independence() -> None:
    """The AI policy is top management's to approve; a risk kept above the appetite is top
    management's decision, documented; a management review chaired by someone outside top
    management is no management review; an internal auditor who owns the organization-level
    entries, or owns and accepted a risk, audits their own work."""
    by_lead = attested("A.2.2", system=None)
    lead = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="t",
        controls=["A.2.2"],
        details={**dict(by_lead.details), "by": "ML Platform Lead"},
    )
    assert system_of([lead]).control("A.2.2").status == "missing"
    assert system_of([by_lead]).control("A.2.2").status == "satisfied"  # Chief Executive
    # a review chaired by a non-executive, or without the 9.3.2 inputs, does not count
    assert system_of([review_by("ML Platform Lead")]).control("9.3.1").status == "missing"
    assert system_of([review_by("Chief Executive")]).control("9.3.2").status == "satisfied"
    thin = review_by("Chief Executive", sections=("actions", "changes", "trends"))
    assert system_of([thin]).control("9.3.2").status == "missing"
    # risk owners accepting their own risks above the appetite, with no document
    own = example(
        replace=(
            "    treatment: mitigate\n    controls: [A.6.2.6, A.6.2.4]\n"
            "    owner: ML Platform Lead\n    residual: {likelihood: 2, impact: 3}\n",
            "    treatment: accept\n    owner: ML Platform Lead\n"
            "    acceptance: {by: ML Platform Lead, on: 2026-11-20}\n",
        )
    )
    r3 = next(r for r in system_of([], cfg=own).risks if r.id == "R3")
    assert r3.unresolved and any("top_management" in r for r in r3.reasons)
    # independence: the Chief Risk Officer owns every organization-level entry
    with pytest.raises(ProcessRecordError):
        check_scope(own, "Chief Risk Officer", ["4", "5", "6", "7", "8", "9", "10"])
    with pytest.raises(ProcessRecordError):
        check_scope(own, "ML Platform Lead", [SYSTEM])  # owns and accepted R3
    programme = system_of([audit_by("Chief Risk Officer", ("4", "9", SYSTEM))]).control("9.2.2")
    assert programme.status == "failing" and "not independent" in programme.reasons[0]
    # the default programme covers clauses 4-10 and every in-scope system
    partial = system_of([audit_by("Head of Internal Audit", (SYSTEM,))]).control("9.2.2")
    assert partial.status != "satisfied" and "4, 5, 6, 7, 8, 9, 10" in partial.reasons[0]
    full = ("4", "5", "6", "7", "8", "9", "10", SYSTEM)
    assert system_of([audit_by("Head of Internal Audit", full)]).control("9.2.2").status == (
        "satisfied"
    )


def test_5_the_role_is_checked_at_the_act(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused when the act is recorded, not only discovered later."""
    import aims_mlops
    from tests.unit.test_verdicts import example_config_text

    config = tmp_path / "aims.yaml"
    config.write_text(example_config_text())
    policy = tmp_path / "policy.md"
    policy.write_text("Our AI policy. " * 20)
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    with pytest.raises(AimsError, match="top_management"):
        aims_mlops.attest(
            "A.2.2", org=True, by="ML Platform Lead", document=str(policy), config=config
        )


# 7 ---------------------------------------------------------------------------------------------
def test_7_rules_point_at_the_right_thing() -> None:
    """A.5.4 asks whether the impact on groups was assessed: a failing fairness result shows it
    was; the result fails verification (A.6.2.4) and the risk treatment (8.3). A.8.2 is about
    delivery to users, A.9.4 about use in operation, 10.2 about the register working."""
    unfair = run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.289},
        details={"checks": [{"passed": False, "reason": "dpd 0.289 above 0.1"}]},
    )
    sa = system_of([unfair])
    assert sa.control("A.5.4").status == "satisfied"
    assert sa.control("A.6.2.4").status == "failing"
    assert sa.control("8.3").status == "failing"
    assert sa.control("A.9.4").status == "missing"
    assert system_of([attested("A.9.4")]).control("A.9.4").status == "satisfied"


# 9 ---------------------------------------------------------------------------------------------
def test_9_guidance_fills_in_the_system_and_no_genai_for_tabular() -> None:
    """The gap list is what the owner acts on: it names their system, never the placeholder
    SYSTEM, and never offers a GenAI evaluation to a tabular model."""
    gaps = system_of([]).gaps
    texts = " ".join(g.how_to_close for g in gaps)
    assert "--system SYSTEM" not in texts and '"SYSTEM"' not in texts
    assert f"--system {SYSTEM}" in texts
    assert "assess_genai" not in texts and "monitor_traces" not in texts
    # a failing entry says what to change, never only "run the same collector again"
    unfair = run_of(
        "fairness",
        outcome="fail",
        metrics={"demographic_parity_difference": 0.289},
        details={"checks": [{"passed": False, "reason": "dpd 0.289 above 0.1"}]},
    )
    action = system_of([unfair]).control("A.6.2.4").how_to_close
    assert action.startswith("change what the failing result measures: the model")
    assert "approved acceptance" in action


# the walk --------------------------------------------------------------------------------------
def test_the_seven_action_walk_ends_not_ready_naming_its_blockers(tmp_path: Path) -> None:
    """Loosen the fairness thresholds, re-run the capture, attest A.7.3 with "ok", accept two
    risks by their own owners, have the Chief Risk Officer audit with "audit ok", have the ML
    Platform Lead chair a review minuted "met": each act is refused where it is recorded, and
    the same acts forced into the store leave the AIMS not ready, naming why."""
    text = example_config_text_for_walk()
    cfg = parse_config(text)
    # 1-2: thresholds loosened, capture re-run: the fairness check "passes" at 0.289
    capture = [
        run_of("performance"),
        run_of("data_quality"),
        run_of(
            "fairness",
            metrics={"demographic_parity_difference": 0.289},
            details={"checks": [{"passed": True, "reason": "dpd 0.289 <= 0.5"}]},
        ),
    ]
    # 3: A.7.3 attested with a 3-byte file (refused at the act; forced in)
    ok = tmp_path / "ok.txt"
    ok.write_text("ok")
    with pytest.raises(DocumentError):
        document_details(str(ok))
    rights = new_record(
        kind="attestation",
        system=SYSTEM,
        outcome="pass",
        collector="t",
        controls=["A.7.3"],
        details={
            "by": "Head of Credit Modelling",
            "document": str(ok),
            "document_sha256": "2689367b205c16ce32ed4200942b8b8b1e262dfc70d9bc9fbc77c49699a4f1df",
            "document_bytes": 2,
            "statement": "ok",
        },
    )
    # 5: the CRO audits (refused at the act; forced in)
    with pytest.raises(ProcessRecordError):
        check_scope(cfg, "Chief Risk Officer", ["4", "5", "6", "7", "8", "9", "10", SYSTEM])
    audit = audit_by("Chief Risk Officer", ("4", "5", "6", "7", "8", "9", "10", SYSTEM))
    # 6: a review chaired by the ML Platform Lead
    review = review_by("ML Platform Lead")
    records = [*capture, rights, audit, review]
    assessment = assess(
        CATALOG,
        cfg,
        records,
        current_models={SYSTEM: V1},
        now=NOW,
        unsigned="aims.yaml lists no trust.public_keys",
    )
    readiness = assessment.readiness
    assert not readiness.ready
    blockers = {(b.id, b.system): b for b in readiness.blockers}
    # missing documented information, each with its owner
    for entry in ("4.2", "5.3", "7.1", "10.1"):
        assert blockers[(entry, None)].owner == "Chief Risk Officer"
    assert ("A.7.3", SYSTEM) in blockers  # "ok" shows nothing
    assert blockers[("9.2.2", None)].status == "failing"  # not independent
    assert ("9.3.1", None) in blockers  # chaired by a non-executive
    # the measured unfairness keeps R1 above the appetite, and the self-acceptances do not count
    for risk in ("R1", "R2", "R3"):
        assert (risk, SYSTEM) in blockers, risk
    assert ("integrity", None) in blockers


def example_config_text_for_walk() -> str:
    """The example with the fairness threshold loosened and R2/R3 accepted by their owners."""
    from datetime import date

    from aims_mlops.config import example_config_text

    text = example_config_text(assessed_on=date(2026, 11, 10))
    text = re.sub(r"demographic_parity_difference: \{max: [0-9.]+\}",
                  "demographic_parity_difference: {max: 0.5}", text)  # fmt: skip
    for owner, controls, residual in (
        ("Data Protection Officer", "[A.7.3, A.7.5]", "{likelihood: 1, impact: 4}"),
        ("ML Platform Lead", "[A.6.2.6, A.6.2.4]", "{likelihood: 2, impact: 3}"),
    ):
        old = (
            f"    treatment: mitigate\n    controls: {controls}\n    owner: {owner}\n"
            f"    residual: {residual}\n"
        )
        assert old in text
        text = text.replace(
            old,
            f"    treatment: accept\n    owner: {owner}\n"
            f"    acceptance: {{by: {owner}, on: 2026-11-20}}\n",
        )
    return text


def test_the_walk_config_is_what_the_issue_describes() -> None:
    cfg = parse_config(example_config_text_for_walk())
    accepted = {r.id: r.acceptance.by for r in cfg.risks if r.acceptance is not None}
    assert accepted == {"R2": "Data Protection Officer", "R3": "ML Platform Lead"}
    assert datetime(2026, 12, 1, tzinfo=UTC) == NOW.replace(hour=0)


def test_9_one_wording_and_real_commands() -> None:
    """The demo's line reads "4 risks above the appetite (6)", the status table shows the same
    percentage format as the summary, and the example's header names commands that exist."""
    from aims_mlops.cli import cli
    from aims_mlops.config import example_config_text
    from aims_mlops.presentation import percent
    from aims_mlops.presentation._text import risks_above_lines

    sa = system_of([])
    lines = risks_above_lines(sa, appetite=6)
    assert lines[0] == f"{len(sa.risks_above_appetite)} risks above the appetite (6):"
    assert percent(0.328) == "32.8 %"
    header = example_config_text().split("version: 1", 1)[0]
    named = set(re.findall(r"`aims ([a-z-]+)", header))
    assert named and named <= set(cli.commands), named - set(cli.commands)


def test_7_exclusions_an_auditor_refuses() -> None:
    """A provider of a high-risk system is bound by EU AI Act Art. 73 to report serious
    incidents: its SoA cannot exclude external reporting (A.8.3). And while the lineage shows
    data from a third party (the UCI census data, by its DOI), suppliers (A.10.3) cannot be
    "not applicable"."""
    from aims_mlops import ConfigError
    from aims_mlops.config import example_config_text
    from aims_mlops.config._models import ERROR_INCIDENT_REPORTING_EXCLUDED

    text = example_config_text() + (
        "  - {control: A.8.3, applicable: false, justification: no external reporting here}\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text)
    assert ERROR_INCIDENT_REPORTING_EXCLUDED.format(control="A.8.3", system=SYSTEM) in str(
        raised.value
    )
    census = run_of(
        "lineage.datasets",
        details={
            "datasets": [
                {
                    "name": "adult-train",
                    "sha256": "ab" * 32,
                    "source": {"uri": "UCI Adult, https://doi.org/10.24432/C5XW20, CC BY 4.0"},
                }
            ]
        },
    )
    # the example keeps suppliers applicable; an organization that excludes them is judged
    # anyway while the lineage shows a third party: the entry is missing naming the source, the
    # SoA decision (6.1) fails and the SoA says why the control applies
    assert "control: A.10.3" not in example_config_text()
    excluding = parse_config(
        example_config_text().replace(
            "\nsoa:\n",
            "\nsoa:\n"
            "  - {control: A.10.3, applicable: false, justification: no AI supplier at all}\n",
            1,
        )
    )
    judged_census = judged([census], cfg=excluding)
    suppliers = judged_census.systems[SYSTEM].control("A.10.3")
    assert suppliers.status == "missing"
    assert "lineage shows third-party data or models: dataset adult-train" in suppliers.reasons[0]
    decided = judged_census.systems[SYSTEM].control("6.1").parts[0]
    assert decided.status == "failing"
    assert "'A.10.3' cannot be excluded" in decided.reasons[0]
    [row] = [r for r in soa_rows(judged_census) if r["control"] == "A.10.3"]
    assert row["applicable"] is True
    assert row["justification"].startswith("Applicable: the Statement of Applicability excludes")
    assert system_of([], cfg=excluding).control("A.10.3").status == "not_applicable"
    assert system_of([census]).control("A.10.3").status == "missing"


# 6 ---------------------------------------------------------------------------------------------
def test_6_change_triggers_compare_timestamps_from_validation_on() -> None:
    """A risk review dated the same day as a later registration cannot be shown to cover the
    new version; a system in validation is about to release a version, so the trigger already
    applies; re-performed as of a past date, a review dated after it does not exist yet."""
    from datetime import date

    from aims_mlops.config import example_config_text
    from aims_mlops.engine import CurrentModel

    text = example_config_text(assessed_on=date(2026, 11, 25))
    text = text.replace("reviewed_on: 2025-01-15", "reviewed_on: 2026-11-25", 1)
    text = text.replace("lifecycle_stage: development", "lifecycle_stage: validation", 1)
    cfg = parse_config(text)
    same_day = CurrentModel(
        name=SYSTEM, version="2", run_id="run-2", registered_at="2026-11-25T15:00:00Z"
    )
    sa = assess(CATALOG, cfg, [], current_models={SYSTEM: same_day}, now=NOW).systems[SYSTEM]
    review = sa.control("8.2")
    assert review.status == "stale"
    assert any("dated the day" in r for r in review.reasons)
    earlier = CurrentModel(
        name=SYSTEM, version="1", run_id="run-1", registered_at="2026-11-20T15:00:00Z"
    )
    ok = assess(CATALOG, cfg, [], current_models={SYSTEM: earlier}, now=NOW).systems[SYSTEM]
    assert ok.control("8.2").status == "satisfied"
    past = datetime(2026, 11, 22, tzinfo=UTC)
    before = assess(CATALOG, cfg, [], current_models={SYSTEM: earlier}, now=past)
    verdict = before.systems[SYSTEM].control("8.2")
    assert verdict.status == "missing" and not any(
        "-" in r.split("days old")[0][-4:] for r in verdict.reasons
    )
