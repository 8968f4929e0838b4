"""The lifecycle (phases as catalog data, progress, next actions), the pilot scope, the document
set (written, read back, judged when attested) and the records derived entries read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import ConfigError
from aims_mlops._errors import CatalogError
from aims_mlops.catalog import load_catalog, load_lifecycle, parse_lifecycle
from aims_mlops.config import AimsConfig, example_config_text, parse_config
from aims_mlops.documents import (
    draft_documents,
    find_suppliers,
    load_documents,
    read_document,
    write_documents,
)
from aims_mlops.documents._fill import Facts
from aims_mlops.engine import assess, lifecycle_view
from aims_mlops.engine._inventory import inventory_rows
from aims_mlops.evidence import Discovered, EvidenceRecord, Inventory, new_record
from aims_mlops.evidence._documents import document_details

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SYSTEM = "income-classifier"
PEOPLE = """
people:
  - {name: Dana Smith, roles: [top_management]}
  - {name: Ali Khan, roles: [internal_auditor]}
"""


#: the example's own people (these tests declare their own)
EXAMPLE_PEOPLE = (
    "people:\n  - name: Chief Executive\n    roles: [top_management]\n"
    "  - name: Chief Risk Officer\n    roles: [top_management]\n"
    "  - name: Head of Internal Audit\n    roles: [internal_auditor]\n"
    "  # names used as owner, acceptance.by or approvers must be listed people too\n"
    "  - name: Head of Credit Modelling\n  - name: Marketing Analytics Lead\n"
    "  - name: Data Protection Officer\n  - name: ML Platform Lead\n"
    "  - name: Head of Underwriting\n  - name: Chief Information Security Officer\n"
)


def example_without_people() -> str:
    text = example_config_text()
    assert EXAMPLE_PEOPLE in text
    return text.replace(EXAMPLE_PEOPLE, "")


def cfg(extra: str = "") -> AimsConfig:
    text = example_without_people()
    if "people:" in extra:  # listed people: every owner must be one of them (issue 23)
        text = re.sub(r"(\n\s*(?:policy_)?owner: ).*", r"\1Dana Smith", text)
    return parse_config(text + extra)


def ts(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def rec(kind: str, *, days: float = 1, system: str | None = None, **details: Any) -> EvidenceRecord:
    return new_record(
        kind=kind,
        system=system,
        outcome="pass",
        collector="test",
        controls=load_catalog().controls_for_kind(kind),
        details=details,
        collected_at=ts(days),
    )


def attestation(control: str, path: Path, *, by: str, days: float = 1) -> EvidenceRecord:
    details = {"by": by, **document_details(str(path), min_bytes=1), "statement": "s"}
    read = read_document(path)
    if read is not None:
        details["aims_document"] = read.facts()
    return new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="test",
        controls=[control],
        details=details,
        collected_at=ts(days),
    )


def verdict(config: AimsConfig, records: list[EvidenceRecord], entry: str, **kw: Any) -> Any:
    assessment = assess(load_catalog(), config, records, current_models={}, now=NOW, **kw)
    return next(iter(assessment.systems.values())).control(entry)


# ----------------------------------------------------------------------------------- phases
def test_every_catalog_entry_is_in_exactly_one_phase() -> None:
    lifecycle = load_lifecycle()
    placed = [e for p in lifecycle.phases for e in p.entries]
    assert sorted(placed) == sorted(e.id for e in load_catalog().entries)
    assert len(placed) == len(set(placed))
    assert [p.id for p in lifecycle.phases] == [
        "leadership", "scope", "risk", "treatment", "implementation", "evaluation", "readiness",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("phases:\n  - {id: a, title: A, entries: {'4.1': 1}}\n"
         "  - {id: b, title: B, entries: {'4.1': 1}}",
         "'4.1' is in phase 'a' and again in phase 'b'"),
        ("phases:\n  - {id: a, title: A, entries: {'4.99': 1}}", "names '4.99'"),
        ("phases:\n  - {id: a, title: A, entries: {'4.1': 1}}", "catalog entries in no phase: 4.2"),
        ("phases:\n  - {id: a, title: A, entries: {'4.1': -1}}", "must be a number of days"),
    ],
)  # fmt: skip
def test_a_lifecycle_that_misplaces_an_entry_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(CatalogError) as err:
        parse_lifecycle(text, load_catalog(), source="t.yaml")
    assert fragment in str(err.value)


def test_next_is_ordered_by_phase_then_owner_with_efforts() -> None:
    config = cfg(
        """
lifecycle:
  effort_days: {"5.2": 4}
"""
    )
    assessment = assess(load_catalog(), config, [], current_models={}, now=NOW)
    view = lifecycle_view(
        assessment,
        catalog=load_catalog(),
        lifecycle=load_lifecycle(),
        effort_overrides=config.lifecycle.effort_days,
    )
    order = [p.id for p in view.phases]
    keys = [(order.index(a.phase), a.owner.casefold()) for a in view.next]
    assert keys == sorted(keys)
    assert len({a.owner for a in view.next}) >= 2  # org entries and the system's owner
    assert {a.phase for a in view.next} == set(order)
    policy = next(a for a in view.next if a.entry == "5.2")
    assert policy.effort_days == 4 and policy.owner == "Chief Risk Officer"
    data = view.to_dict()
    assert set(data["phases"][0]) >= {"id", "title", "entries", "satisfied", "applicable"}
    assert set(data["next"][0]) >= {"entry", "action", "owner", "effort_days"}
    scope = next(p for p in view.phases if p.id == "scope")
    excluded = [e for e in scope.entries if (d := config.soa_decision(e)) and not d.applicable]
    assert scope.satisfied >= 1  # 4.3 and A.9.4 are declared in the example
    assert scope.applicable == len(scope.entries) - len(excluded)
    assert view.effort_days_left == sum(p.effort_days_left for p in view.phases) > 0


def test_a_pilot_limits_readiness_to_its_systems() -> None:
    text = example_without_people()
    both_in = text.replace(
        "    in_scope: false\n    scope_reason: >-", "    in_scope: true\n    x: >-"
    )
    both_in = both_in.replace("    x: >-\n", "    intended_use_note: >-\n", 1)
    # the vendor system taken into scope: two in-scope systems
    both_in = "\n".join(
        line for line in both_in.splitlines() if not line.startswith("    intended_use_note")
    )
    both_in = both_in.replace(
        "      Vendor-hosted model that does not influence credit decisions; covered by the\n"
        "      supplier management process, outside the Retail Lending AIMS scope.\n",
        "",
    )
    full = parse_config(both_in)
    assert len(full.in_scope_systems) == 2
    piloted = parse_config(both_in + f"\nscope:\n  pilot: [{SYSTEM}]\n")
    assert [s.id for s in piloted.assessed_systems] == [SYSTEM]
    assessment = assess(load_catalog(), piloted, [], current_models={}, now=NOW)
    assert list(assessment.systems) == [SYSTEM]
    assert len(assess(load_catalog(), full, [], current_models={}, now=NOW).systems) == 2


def test_a_pilot_must_name_in_scope_systems() -> None:
    with pytest.raises(ConfigError) as err:
        cfg("\nscope:\n  pilot: [nope]\n")
    assert "scope.pilot[0]: names 'nope'" in str(err.value)


# -------------------------------------------------------------------------------- documents
def test_the_document_set_serves_every_attestation_part() -> None:
    served = {e for d in load_documents() for e in d.entries}
    wanted = {
        e.id
        for e in load_catalog().entries
        if any(q.kind == "attestation" for p in e.rule.parts for q in p.walk())
    }
    assert wanted <= served


@pytest.mark.parametrize("fmt", ["md", "docx"])
def test_documents_are_written_prefilled_and_read_back(tmp_path: Path, fmt: str) -> None:
    config = cfg(PEOPLE)
    performance = rec("performance", system=SYSTEM, checks=[{"passed": True}])
    performance = new_record(
        kind="performance",
        system=SYSTEM,
        outcome="pass",
        collector="t",
        metrics={"accuracy": 0.8512},
        details={"checks": [{"passed": True}]},
        collected_at=ts(1),
    )
    drafts = draft_documents(config, [performance], today=date(2026, 12, 1))
    paths = write_documents(drafts, tmp_path, fmt=fmt)
    assert len(paths) == len(drafts) and all(p.suffix == f".{fmt}" for p in paths)
    policy = read_document(tmp_path / f"ai-policy.{fmt}")
    assert policy is not None
    facts = policy.facts()
    assert facts["id"] == "AIMS-05" and facts["approver"] == "Dana Smith"
    assert facts["entries"] == ["5.2", "A.2.2", "A.2.4"] and facts["version"] == "0.1"
    assert facts["next_review"] == "2027-12-01" and facts["open_marks"] > 0
    objectives = (tmp_path / "objectives.md").read_text() if fmt == "md" else ""
    if fmt == "md":
        assert "| income-classifier | accuracy | >= 0.8 | 0.8512 |" in objectives
    with pytest.raises(Exception, match="already holds"):
        write_documents(drafts, tmp_path, fmt=fmt)


def complete(path: Path, *, approver: str) -> None:
    text = path.read_text()

    text = re.sub(r"\[TO COMPLETE[^\]]*\]", "Written by the team.", text)
    text = re.sub(r"approver: .*", f"approver: {approver}", text, count=1)
    path.write_text(text)


def test_an_attested_template_counts_only_completed_and_by_its_approver(tmp_path: Path) -> None:
    config = cfg(PEOPLE)
    write_documents(draft_documents(config, today=date(2026, 12, 1)), tmp_path)
    policy = tmp_path / "ai-policy.md"
    unfinished = verdict(config, [attestation("5.2", policy, by="Dana Smith")], "5.2")
    assert unfinished.status == "missing"
    assert "AIMS-05 still holds" in " ".join(unfinished.reasons)

    complete(policy, approver="Dana Smith")
    other = verdict(config, [attestation("5.2", policy, by="Ali Khan")], "5.2")
    assert other.status == "missing"
    assert "names Dana Smith as its approver, but Ali Khan attested it" in " ".join(other.reasons)

    wrong_entry = verdict(config, [attestation("4.1", policy, by="Dana Smith")], "4.1")
    assert "serves 5.2, A.2.2, A.2.4, not 4.1" in " ".join(wrong_entry.reasons)

    done = verdict(config, [attestation("5.2", policy, by="Dana Smith")], "5.2")
    assert done.status == "satisfied"


# ---------------------------------------------------------------------- training, awareness
def test_training_and_acknowledgement_are_judged_against_people(tmp_path: Path) -> None:
    config = cfg(PEOPLE)
    one = [rec("training", person="Dana Smith", topic="AI policy", date="2026-11-30")]
    trained = verdict(config, one, "7.2")
    text = " ".join(p for part in trained.parts for p in part.reasons)
    assert "no training within 365 days recorded for: Ali Khan (1 of 2 people trained)" in text
    both = [*one, rec("training", person="Ali Khan", topic="audit", date="2026-11-30")]
    part = next(p for p in verdict(config, both, "7.2").parts if p.kind == "derived")
    assert part.status == "satisfied"

    write_documents(draft_documents(config, today=date(2026, 12, 1)), tmp_path)
    policy = tmp_path / "ai-policy.md"
    complete(policy, approver="Dana Smith")
    approved = attestation("5.2", policy, by="Dana Smith", days=5)
    early = rec("acknowledgement", person="Ali Khan", document="AIMS-05", days=6)
    acks = [
        approved,
        early,  # before the policy was approved: it does not count
        rec("acknowledgement", person="Dana Smith", document="AIMS-05", days=2),
    ]
    aware = verdict(config, acks, "7.3")
    derived = next(p for p in aware.parts if p.kind == "derived")
    assert derived.status == "missing" and "not acknowledged by: Ali Khan" in derived.reasons[0]
    acks.append(rec("acknowledgement", person="Ali Khan", document="AIMS-05", days=1))
    derived = next(p for p in verdict(config, acks, "7.3").parts if p.kind == "derived")
    assert derived.status == "satisfied"


def test_no_people_no_competence() -> None:
    part = next(p for p in verdict(cfg(), [], "7.2").parts if p.kind == "derived")
    assert part.status == "missing" and "lists no people" in part.reasons[0]


# ------------------------------------------------------------------------ derived entries
def test_document_index_and_versions_are_derived_from_attestations(tmp_path: Path) -> None:
    config = cfg(PEOPLE)
    write_documents(draft_documents(config, today=date(2026, 12, 1)), tmp_path)
    policy = tmp_path / "ai-policy.md"
    complete(policy, approver="Dana Smith")
    first = attestation("5.2", policy, by="Dana Smith", days=3)
    index = next(p for p in verdict(config, [first], "7.5.1").parts if p.kind == "derived")
    assert index.status == "satisfied" and "AIMS-05 (5.2): sha256" in index.reasons[0]
    versions = next(p for p in verdict(config, [first], "7.5.3").parts if p.kind == "derived")
    assert versions.status == "satisfied" and "AIMS-05 v0.1" in versions.reasons[0]

    policy.write_text(policy.read_text() + "\nA silent edit.\n")  # same version, new content
    second = attestation("5.2", policy, by="Dana Smith", days=1)
    clash = next(p for p in verdict(config, [first, second], "7.5.3").parts if p.kind == "derived")
    assert (
        clash.status == "failing"
        and "version 0.1 was attested with two different" in clash.reasons[0]
    )


def test_improvements_are_derived_from_verified_corrective_actions() -> None:
    config = cfg()
    part = next(p for p in verdict(config, [], "10.1").parts if p.kind == "derived")
    assert part.status == "missing"
    verified = new_record(
        kind="nonconformity",
        system=None,
        outcome="info",
        collector="t",
        details={"amends": "a" * 32, "verified_by": "Ali Khan", "verified_on": "2026-11-30"},
        collected_at=ts(1),
    )
    part = next(p for p in verdict(config, [verified], "10.1").parts if p.kind == "derived")
    assert part.status == "satisfied" and "by Ali Khan" in part.reasons[0]


def test_changes_stay_attested_until_approvals_are_recorded(tmp_path: Path) -> None:
    config = cfg()
    log = tmp_path / "log.md"
    log.write_text(
        "planned changes and their approvals: 2026-11 raise the fairness threshold review to "
        "monthly (approved by the board), 2026-12 add the churn model to the scope"
    )
    attested = attestation("6.3", log, by="Chief Risk Officer")
    assert verdict(config, [attested], "6.3").status == "satisfied"  # as before the ledger
    approval = rec("configuration_approval", by="Dana Smith", config_digest="ab" * 32)
    alone = verdict(config, [approval], "6.3")
    assert alone.status == "missing"  # the procedure (the human part) is not attested
    assert alone.parts[0].status == "missing" and alone.parts[1].status == "satisfied"
    assert "1 approved configuration change, the latest on" in alone.parts[1].reasons[0]
    assert "by Dana Smith" in alone.parts[1].reasons[0]


# ------------------------------------------------------------------------------ inventory
def test_an_undeclared_registered_model_fails_scope_by_name() -> None:
    config = cfg()
    inventory = Inventory(
        found=(
            Discovered(kind="registered_model", name="income-classifier", count=2),
            Discovered(kind="registered_model", name="shadow-scorer", count=1),
        )
    )
    scope = verdict(config, [], "4.3", inventory=inventory)
    assert scope.status == "failing"
    assert "declared by no system of aims.yaml: shadow-scorer" in " ".join(scope.reasons)
    rows = {r.name: r for r in inventory_rows(config, inventory)}
    assert rows["shadow-scorer"].declared is False and rows["income-classifier"].declared
    assert verdict(config, [], "4.3").status == "satisfied"  # registry not listed: as before


def test_suppliers_are_found_in_lineage() -> None:
    lineage = rec(
        "lineage.datasets",
        system=SYSTEM,
        datasets=[
            {
                "name": "adult",
                "source_type": "http",
                "source": {"url": "https://archive.ics.uci.edu/adult.csv"},
            },
            {"name": "local", "source_type": "local", "source": {"uri": "/data/x.csv"}},
        ],
    )
    found = find_suppliers(cfg(), [lineage])
    assert [(s.name, s.supplies, s.systems) for s in found] == [
        ("archive.ics.uci.edu", "data", (SYSTEM,))
    ]


def test_training_records_refuse_unknown_people_and_bad_dates() -> None:
    from aims_mlops.capture import ProcessRecordError
    from aims_mlops.capture._people import ERROR_BAD_DATE, ERROR_NOT_A_PERSON, record_training

    config = cfg(PEOPLE)
    with pytest.raises(ProcessRecordError) as err:
        record_training(person="Nobody", topic="t", date="2026-11-01", config=config)
    assert str(err.value) == ERROR_NOT_A_PERSON.format(person="Nobody", what="training")
    with pytest.raises(ProcessRecordError) as err:
        record_training(person="Dana Smith", topic="t", date="2026-13-01", config=config)
    assert str(err.value) == ERROR_BAD_DATE.format(value="2026-13-01")


def test_training_and_acknowledgement_tables_list_the_records_oldest_first() -> None:
    def made(kind: str, at: str, **details: Any) -> EvidenceRecord:
        return new_record(
            kind=kind, system=None, outcome="pass", collector="t", details=details, collected_at=at
        )

    config = parse_config(example_config_text())
    facts = Facts(config=config)
    assert facts.training() == ["No training recorded yet (`aims record training`)."]
    assert facts.acknowledgements() == [
        "No acknowledgement recorded yet (`aims record acknowledgement`)."
    ]
    late = made("training", "2026-12-02T00:00:00Z", person="B|b", topic="bias", date="2026-12-02")
    early = made("training", "2026-12-01T00:00:00Z", person="A", topic="AIMS", date="2026-12-01")
    ack = made("acknowledgement", "2026-12-03T09:00:00Z", person="C", document="policy.md")
    facts = Facts(config=config, records=(late, early, ack))
    assert facts.training() == [
        "| person | topic | date | record |",
        "|---|---|---|---|",
        f"| A | AIMS | 2026-12-01 | {early.id[:8]} |",
        f"| B\\|b | bias | 2026-12-02 | {late.id[:8]} |",
    ]
    assert facts.acknowledgements() == [
        "| person | document | on | record |",
        "|---|---|---|---|",
        f"| C | policy.md | {ack.collected_at[:10]} | {ack.id[:8]} |",
    ]


# ------------------------------------------------------------------------------ suppliers
ATTRIBUTION = "UCI Adult (Census Income), Becker & Kohavi (1996), https://doi.org/10.24432/C5XW20"


def lineage_of(*sources: tuple[str, Any, str | None]) -> EvidenceRecord:
    datasets = [
        {"name": name, "sha256": "ab" * 32, "source": source, "source_type": kind}
        for name, source, kind in sources
    ]
    return rec("lineage.datasets", system=SYSTEM, datasets=datasets)


def test_suppliers_in_lineage_must_be_covered_by_the_attested_register(tmp_path: Path) -> None:
    """An auditor of A.10.2 / A.10.3 starts from the third parties the AI work depends on. The
    census data came from UCI (its DOI in the dataset's source): the attested supplier register
    must list it. A register written before that data was used, or a supplier assessment that
    names no supplier, does not cover it, and the verdict names the source."""
    text = example_without_people()
    # the example keeps suppliers applicable: its census data is a third party's
    assert "control: A.10.3" not in text
    config = parse_config(re.sub(r"(\n\s*(?:policy_)?owner: ).*", r"\1Dana Smith", text) + PEOPLE)
    census = lineage_of(
        ("adult-train", ATTRIBUTION, None),
        ("applications", {"uri": "/data/applications.parquet"}, "local"),
    )
    register = tmp_path / "supplier-register.md"

    # the register drafted before any lineage: it lists no supplier
    write_documents(draft_documents(config, today=date(2026, 12, 1)), tmp_path)
    complete(register, approver="Dana Smith")
    early = attestation("A.10.3", register, by="Dana Smith")
    judged = verdict(config, [census, early], "A.10.3")
    assert judged.status == "missing"
    reasons = " ".join(judged.reasons)
    assert "the supplier register attested does not cover what the lineage shows" in reasons
    assert "doi.org/10.24432/C5XW20 (dataset adult-train from doi.org/10.24432/C5XW20)" in reasons
    assert "applications" not in reasons  # our own data is no supplier's

    # drafted from the lineage, completed and attested by its approver: covered
    drafts = draft_documents(config, [census], today=date(2026, 12, 1))
    write_documents(drafts, tmp_path, force=True)
    assert "doi.org/10.24432/C5XW20" in register.read_text()
    complete(register, approver="Dana Smith")
    for entry in ("A.10.2", "A.10.3"):
        judged = verdict(config, [census, attestation(entry, register, by="Dana Smith")], entry)
        assert judged.status == "satisfied", judged.reasons
        assert (
            "third-party sources in lineage: dataset adult-train from doi.org/10.24432/C5XW20"
            in " ".join(judged.reasons)
        )

    # a new source appears in lineage: the approved register no longer covers it
    hub = lineage_of(("reviews", "hf://datasets/acme/reviews@v2", "huggingface"))
    later = verdict(
        config, [census, hub, attestation("A.10.3", register, by="Dana Smith")], "A.10.3"
    )
    assert later.status == "missing"
    assert "Hugging Face (datasets/acme/reviews)" in " ".join(later.reasons)

    # a supplier assessment that is not the register names no supplier: nothing is covered
    memo = tmp_path / "assessment.md"
    memo.write_text("Supplier assessment of our data providers, reviewed by procurement. " * 3)
    plain = verdict(config, [census, attestation("A.10.3", memo, by="Dana Smith")], "A.10.3")
    assert plain.status == "missing" and "doi.org/10.24432/C5XW20" in " ".join(plain.reasons)

    # no third party in lineage: the attestation counts as before
    own = lineage_of(("applications", {"uri": "/data/applications.parquet"}, "local"))
    plain = verdict(config, [own, attestation("A.10.3", memo, by="Dana Smith")], "A.10.3")
    assert plain.status == "satisfied"


def test_documents_can_be_drafted_again_one_by_one(tmp_path: Path) -> None:
    """`aims docs init --only AIMS-22` drafts the supplier register again without touching the
    documents already completed; an unknown id is refused, naming it."""
    from aims_mlops import AimsError
    from aims_mlops.documents import select_documents
    from aims_mlops.documents._init import ERROR_UNKNOWN_DOCUMENTS

    drafts = draft_documents(cfg(), today=date(2026, 12, 1))
    assert select_documents(drafts, []) == drafts
    [register] = select_documents(drafts, ["AIMS-22"])
    assert register.file == "supplier-register"
    assert len(select_documents(drafts, ["AIMS-18"])) == 1  # per system: its spec id works too
    with pytest.raises(AimsError) as err:
        select_documents(drafts, ["AIMS-99"])
    known = ", ".join(sorted({d.spec.id for d in drafts}))
    assert str(err.value) == ERROR_UNKNOWN_DOCUMENTS.format(unknown="AIMS-99", known=known)
