"""Internal audit plan, management review inputs and the nonconformity register (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aims_mlops import AimsError
from aims_mlops.catalog import load_catalog
from aims_mlops.engine import assess
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.reports._audit import (
    ERROR_BAD_DATE,
    ERROR_REGISTER_UNREADABLE,
    RegisterError,
    audit_plan,
    audit_plan_markdown,
    default_register_path,
    nonconformities,
    review_pack,
    review_pack_markdown,
    update_nonconformity_register,
)
from tests.unit.test_pack import SYSTEM, make_judgement

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def attestation(
    control: str, at: str, *, system: str | None = None, valid_until: str | None = None
) -> EvidenceRecord:
    return new_record(
        kind="attestation",
        system=system,
        outcome="pass",
        collector="attestation",
        controls=[control],
        details={
            "by": "Chief Executive",
            "document": f"https://docs.example.test/{control}.pdf",
            "document_sha256": None,
            "statement": f"evidence for {control}",
        },
        collected_at=at,
        valid_until=valid_until,
    )


def fairness(at: str, dpd: float, run: str) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system=SYSTEM,
        outcome="pass" if dpd <= 0.1 else "fail",
        collector="fairness",
        controls=["A.5.4", "A.6.2.4"],
        metrics={"demographic_parity_difference": dpd},
        details={"checks": [{"passed": dpd <= 0.1, "reason": f"DPD = {dpd:g}"}]},
        subject=Subject(run_id=run),
        collected_at=at,
    )


def quality(at: str, percent: float, run: str) -> EvidenceRecord:
    return new_record(
        kind="data_quality",
        system=SYSTEM,
        outcome="pass" if percent == 100 else "fail",
        collector="data_quality",
        controls=["A.7.4", "A.6.2.4"],
        metrics={"success_percent": percent},
        details={"checks": [{"passed": percent == 100, "reason": f"{percent:g} % passed"}]},
        subject=Subject(run_id=run),
        collected_at=at,
    )


POLICY = attestation("A.2.2", "2026-01-10T09:00:00Z")
F1 = fairness("2026-01-15T10:00:00Z", 0.19, "run-1")
D1 = quality("2026-01-15T10:00:00Z", 90.0, "run-1")
REVIEW = attestation("9.3.1", "2026-02-01T15:00:00Z")
# A.8.2 is met by a system card logged with the version, or by an attestation that the
# documentation was published: here the attestation, which expires soon
PUBLISHED = attestation(
    "A.8.2", "2026-02-05T08:00:00Z", system=SYSTEM, valid_until="2026-03-15T00:00:00Z"
)
F2 = fairness("2026-02-10T10:00:00Z", 0.04, "run-2")
D2 = quality("2026-02-10T10:00:00Z", 100.0, "run-2")
HISTORY = [POLICY, F1, D1, REVIEW, PUBLISHED, F2, D2]


def at(records: list[EvidenceRecord], moment: datetime) -> list[EvidenceRecord]:
    return [r for r in records if r.collected <= moment]


# ---------------------------------------------------------------------------------- audit plan
def test_audit_plan_has_one_item_per_catalog_entry(tmp_path: Path) -> None:
    judgement = make_judgement(tmp_path, HISTORY, now=NOW)
    plan = audit_plan(judgement)
    assert [i["id"] for i in plan["items"]] == [e.id for e in load_catalog().entries]
    items = {i["id"]: i for i in plan["items"]}
    assert items["A.2.2"]["status"] == {"organization": "satisfied"}
    assert items["A.2.2"]["sample"] == [
        {
            "id": POLICY.id,
            "kind": "attestation",
            "system": None,
            "collected_at": POLICY.collected_at,
            "outcome": "pass",
            "content_hash": POLICY.content_hash,
            "cited_by_verdict": True,
            # the auditor reads the attested document, checking its content hash
            "document": POLICY.details["document"],
            "document_sha256": POLICY.details["document_sha256"],
            "attested_by": "Chief Executive",
            "statement": POLICY.details["statement"],
        }
    ]
    markdown = audit_plan_markdown(plan)
    assert f"read the document {POLICY.details['document']}" in markdown
    assert items["A.5.4"]["status"] == {SYSTEM: "satisfied"}
    assert {s["id"] for s in items["A.5.4"]["sample"]} == {F1.id, F2.id}
    assert any("fairness" in step for step in items["A.5.4"]["inspect"])
    assert items["A.9.4"]["declarations"] == [
        f"config:{judgement.assessment.config_digest[:12]}#systems[0].intended_use"
    ]
    assert items["4.1"]["sample"] == [] and items["4.1"]["population"] == 0
    text = audit_plan_markdown(plan)
    assert "### A.5.4 " in text and "- [ ] inspect" in text and POLICY.content_hash in text


def test_audit_sample_is_random_but_reproducible(tmp_path: Path) -> None:
    policies = [attestation("A.2.2", f"2026-01-{day:02d}T09:00:00Z") for day in range(1, 13)]
    judgement = make_judgement(tmp_path, policies, now=NOW)
    population = {r.id for r in policies}

    def sample(**kwargs: int) -> tuple[str, ...]:
        items = {i["id"]: i for i in audit_plan(judgement, **kwargs)["items"]}
        assert items["A.2.2"]["population"] == 12
        return tuple(s["id"] for s in items["A.2.2"]["sample"])

    first = sample(seed=7)
    assert len(first) == 3 and set(first) <= population
    assert sample(seed=7) == first
    assert len({sample(seed=s) for s in range(10)}) > 1
    assert sample(sample_size=0) == ()
    assert set(sample(sample_size=50)) == population


# ----------------------------------------------------------------------- nonconformity register
def test_failing_opens_and_satisfied_closes(tmp_path: Path) -> None:
    january = datetime(2026, 1, 20, tzinfo=UTC)
    first = nonconformities(make_judgement(tmp_path, at(HISTORY, january), now=january), None)
    # the example's risks stay above the appetite (no treating control is evidenced), so the
    # treatment clause 8.3 and the planning clause 6.1 that rests on it are nonconformities too
    assert [(e["id"], e["control"], e["status"]) for e in first] == [
        ("NC-0001", "6.1", "open"),
        ("NC-0002", "8.3", "open"),
        ("NC-0003", "A.6.2.4", "open"),  # the failing fairness result fails verification
        ("NC-0004", "A.7.4", "open"),
    ]
    assert first[0]["system"] is None  # 6.1 is the organization's
    nc = first[2]
    assert nc["system"] == SYSTEM
    assert nc["opened_at"] == "2026-01-20T00:00:00Z"
    assert nc["due"] == "2026-02-19T00:00:00Z"
    assert nc["owner"].startswith("Head of Credit Modelling")
    assert "assess_fairness" in nc["corrective_action"]
    assert nc["closed_at"] is None

    again = nonconformities(make_judgement(tmp_path, at(HISTORY, january), now=january), first)
    assert again == first  # still failing: no duplicate

    february = datetime(2026, 2, 15, tzinfo=UTC)
    second = nonconformities(make_judgement(tmp_path, at(HISTORY, february), now=february), first)
    states = {e["id"]: (e["status"], e["closed_at"]) for e in second}
    assert states == {
        "NC-0001": ("open", None),  # the risks are still untreated
        "NC-0002": ("open", None),
        "NC-0003": ("open", None),  # A.6.2.4 still lacks performance evidence: not satisfied
        "NC-0004": ("closed", "2026-02-15T00:00:00Z"),
    }

    march = datetime(2026, 3, 1, tzinfo=UTC)
    relapse = [*HISTORY, fairness("2026-02-20T10:00:00Z", 0.3, "run-3")]
    third = nonconformities(make_judgement(tmp_path, relapse, now=march), second)
    assert [(e["id"], e["control"], e["status"]) for e in third] == [
        ("NC-0001", "6.1", "open"),
        ("NC-0002", "8.3", "open"),
        ("NC-0003", "A.6.2.4", "open"),  # the relapse keeps verification failing
        ("NC-0004", "A.7.4", "closed"),
    ]


def test_entries_of_unassessed_systems_are_left_alone(tmp_path: Path) -> None:
    other = {"id": "NC-0009", "system": "fraud-model", "control": "A.5.4", "status": "open"}
    register = nonconformities(make_judgement(tmp_path, [F2], now=NOW), [dict(other)])
    assert register[0] == other
    # A.5.4 passes now: nothing new for it; the untreated risks open 6.1 and 8.3
    assert [(e["id"], e["control"]) for e in register] == [
        ("NC-0009", "A.5.4"),
        ("NC-0010", "6.1"),
        ("NC-0011", "8.3"),
    ]


def test_register_is_persisted_next_to_the_config(tmp_path: Path) -> None:
    judgement = make_judgement(tmp_path, [F1], now=NOW)
    path = default_register_path(judgement)
    assert path == tmp_path / ".aims" / "nonconformities.json"
    written = update_nonconformity_register(judgement)
    assert json.loads(path.read_text()) == written
    assert {e["control"] for e in written} == {"6.1", "8.3", "A.6.2.4"}
    assert update_nonconformity_register(judgement) == written
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_unreadable_register_is_a_clear_error(tmp_path: Path) -> None:
    judgement = make_judgement(tmp_path, [F1], now=NOW)
    path = tmp_path / "register.json"
    path.write_text('{"not": "a list"}')
    with pytest.raises(RegisterError) as caught:
        update_nonconformity_register(judgement, path)
    assert str(caught.value) == ERROR_REGISTER_UNREADABLE.format(
        path=path, error="expected a list of entries with control and status"
    )
    assert path.read_text() == '{"not": "a list"}'


# ------------------------------------------------------------------------- management review
def test_review_pack_trends_changes_and_actions(tmp_path: Path) -> None:
    january = datetime(2026, 1, 20, tzinfo=UTC)
    earlier = nonconformities(make_judgement(tmp_path, at(HISTORY, january), now=january), None)
    judgement = make_judgement(tmp_path, HISTORY, now=NOW)
    register = nonconformities(judgement, earlier)
    pack = review_pack(judgement, register=register)

    assert pack["since"] == "2026-02-01T15:00:00Z"  # the management review attestation
    assert REVIEW.id in pack["since_source"]
    assert pack["changes"]["records"] == 3  # PUBLISHED, F2, D2
    assert pack["changes"]["by_kind"] == {"attestation": 1, "data_quality": 1, "fairness": 1}
    assert {r["id"] for r in pack["changes"]["new_records"]} == {PUBLISHED.id, F2.id, D2.id}

    dpd = pack["trends"]["demographic_parity_difference"][SYSTEM]
    assert [p["value"] for p in dpd["points"]] == [0.19, 0.04]
    assert dpd["direction"] == "improving" and dpd["change"] == pytest.approx(-0.15)
    dq = pack["trends"]["data_quality_success_percent"][SYSTEM]
    assert [p["value"] for p in dq["points"]] == [90.0, 100.0]
    assert dq["direction"] == "improving"

    score = pack["trends"]["conformity_score"][SYSTEM]
    assert len(score["points"]) == 6
    assert score["points"][0]["at"] == POLICY.collected_at
    assert score["last"] == judgement.assessment.systems[SYSTEM].score
    first_moment = POLICY.collected
    expected_first = assess(
        judgement.catalog, judgement.config, [POLICY], current_models={}, now=first_moment
    ).systems[SYSTEM]
    assert score["first"] == expected_first.score

    actions = {(a["system"], a["control"]): a for a in pack["actions"]}
    assert actions[(SYSTEM, "A.6.2.4")]["nonconformity"] == "NC-0003"
    assert actions[(SYSTEM, "A.6.2.4")]["owner"].startswith("Head of Credit Modelling")
    assert actions[(None, "4.1")]["owner"] == "Chief Risk Officer"
    assert actions[(None, "4.1")]["nonconformity"] is None
    assert [e["id"] for e in pack["nonconformities"]["open"]] == ["NC-0001", "NC-0002", "NC-0003"]
    assert [e["id"] for e in pack["nonconformities"]["closed_since"]] == ["NC-0004"]

    chances = {(o["type"], o["control"]) for o in pack["opportunities"]}
    assert ("automate", "A.8.2") in chances  # attested, though a logged system card could show it
    assert ("renew", "A.8.2") in chances  # expires 2026-03-15, within 30 days
    assert ("automate", "A.2.2") not in chances  # only an attestation can satisfy A.2.2
    assert any(o["type"] == "treat-risk" for o in pack["opportunities"]) == any(
        r.above_appetite for r in judgement.assessment.systems[SYSTEM].risks
    )

    text = review_pack_markdown(pack)
    for heading in ("## Status of actions", "## Changes since the last review", "## Trends",
                    "## Nonconformities (3 open)", "## Opportunities for improvement"):  # fmt: skip
        assert heading in text
    assert "demographic_parity_difference of income-classifier: 0.19 → 0.04 (improving" in text


def test_review_pack_since_a_given_date(tmp_path: Path) -> None:
    judgement = make_judgement(tmp_path, HISTORY, now=NOW)
    pack = review_pack(judgement, since="2026-01-12")
    assert pack["since"] == "2026-01-12T00:00:00Z" and pack["since_source"] == "given"
    assert pack["changes"]["records"] == 6  # all but the policy of 2026-01-10
    assert {r["id"] for r in pack["changes"]["failing_or_error"]} == {F1.id, D1.id}
    no_review = make_judgement(tmp_path, [POLICY, F1], now=NOW)
    assert review_pack(no_review)["since"] == "2025-12-01T00:00:00Z"  # 90 days before
    with pytest.raises(AimsError) as caught:
        review_pack(judgement, since="last tuesday")
    assert str(caught.value) == ERROR_BAD_DATE.format(value="last tuesday")
