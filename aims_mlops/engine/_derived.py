"""Documented information the tool holds itself (pure), each a derived part of a rule:

- ``people_trained`` (7.2): every person of ``people:`` has a ``training`` record younger than
  the rule's ``fresh_days``; those without are named.
- ``policy_acknowledged`` (7.3): the AI policy is the document of the latest current attestation
  of 5.2; every person of ``people:`` has an ``acknowledgement`` of it (its document id, or the
  attested path / URL) recorded after that attestation (a new version needs new ones).
- ``document_index`` (7.5.1): the index of the documents of the current attestations, each with
  the SHA-256 recorded (a changed or vanished document is an integrity finding already).
- ``document_versions`` (7.5.3): each attested document of the set names a version, and no
  version was attested with two different contents.
- ``improvements_verified`` (10.1): corrective actions verified effective (``aims nc verify``).
- ``changes_approved`` (6.3): configuration approval records (kind ``configuration_approval``,
  the ledger's), the approved history of aims.yaml; none recorded: missing.

Each rule keeps an attestation beside the derived part: the human part the standard asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aims_mlops.engine._programme import same_person
from aims_mlops.engine._results import FAILING, MISSING, SATISFIED
from aims_mlops.engine._status import PathResult, short_id
from aims_mlops.evidence import EvidenceRecord, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig

POLICY_ENTRY = "5.2"
CONFIG_APPROVAL_KIND = "configuration_approval"  # written by the ledger (aims config approve)


def _current(records: Iterable[EvidenceRecord], now: datetime) -> list[EvidenceRecord]:
    """The latest unexpired attestation per (entry, system)."""
    latest: dict[tuple[str, str | None], EvidenceRecord] = {}
    for record in sorted(
        (r for r in records if r.kind == "attestation"), key=lambda r: r.collected_at
    ):
        if record.valid_until and parse_timestamp(record.valid_until) <= now:
            continue
        for control in record.controls:
            latest[(control, record.system)] = record
    unique = {r.id: r for r in latest.values()}
    return list(unique.values())


def _people(config: AimsConfig) -> list[str]:
    return [p.name for p in config.people]


def people_trained(
    config: AimsConfig, records: Sequence[EvidenceRecord], *, now: datetime, fresh_days: int
) -> PathResult:
    people = _people(config)
    if not people:
        return PathResult(MISSING, ("aims.yaml lists no people, so no competence is shown",))
    since = now - timedelta(days=fresh_days)
    trained: dict[str, EvidenceRecord] = {}
    for record in records:
        if record.kind != "training" or record.outcome not in ("pass", "info"):
            continue
        if record.collected < since:
            continue
        for name in people:
            if same_person(name, str(record.details.get("person") or "")):
                trained.setdefault(name, record)
    missing = [n for n in people if n not in trained]
    evidence = tuple(r.id for r in trained.values())
    if missing:
        return PathResult(
            MISSING,
            (
                f"no training within {fresh_days} days recorded for: {', '.join(missing)} "
                f"({len(trained)} of {len(people)} people trained)",
            ),
            evidence,
        )
    return PathResult(
        SATISFIED,
        (f"all {len(people)} people have training on record within {fresh_days} days",),
        evidence,
        evidenced=True,
    )


def _policy(records: Sequence[EvidenceRecord], now: datetime) -> EvidenceRecord | None:
    found = [r for r in _current(records, now) if POLICY_ENTRY in r.controls and r.system is None]
    return max(found, key=lambda r: r.collected_at) if found else None


def _policy_names(policy: EvidenceRecord) -> set[str]:
    facts = policy.details.get("aims_document")
    names = {str(policy.details.get("document") or "")}
    if isinstance(facts, Mapping) and facts.get("id"):
        names.add(str(facts["id"]))
    return {n for n in names if n}


def policy_acknowledged(
    config: AimsConfig, records: Sequence[EvidenceRecord], *, now: datetime
) -> PathResult:
    people = _people(config)
    if not people:
        return PathResult(MISSING, ("aims.yaml lists no people, so no awareness is shown",))
    policy = _policy(records, now)
    if policy is None:
        return PathResult(
            MISSING, ("the AI policy (5.2) is not attested, so there is nothing to acknowledge",)
        )
    wanted = _policy_names(policy)
    done: dict[str, EvidenceRecord] = {}
    for record in records:
        if record.kind != "acknowledgement" or record.collected_at < policy.collected_at:
            continue
        if str(record.details.get("document") or "") not in wanted:
            continue
        for name in people:
            if same_person(name, str(record.details.get("person") or "")):
                done.setdefault(name, record)
    label = sorted(wanted)[0]
    missing = [n for n in people if n not in done]
    evidence = (policy.id, *(r.id for r in done.values()))
    if missing:
        return PathResult(
            MISSING,
            (
                f"the AI policy {label} (attested {policy.collected_at[:10]}) is not acknowledged "
                f"by: {', '.join(missing)}",
            ),
            evidence,
        )
    return PathResult(
        SATISFIED,
        (f"all {len(people)} people acknowledged the AI policy {label} since it was attested",),
        evidence,
        evidenced=True,
    )


def document_index(records: Sequence[EvidenceRecord], *, now: datetime) -> PathResult:
    current = _current(records, now)
    if not current:
        return PathResult(MISSING, ("no document is attested, so the index is empty",))
    lines = []
    for record in current:
        facts = record.details.get("aims_document")
        name = (
            facts.get("id")
            if isinstance(facts, Mapping) and facts.get("id")
            else record.details.get("document")
        )
        digest = record.details.get("document_sha256")
        lines.append(
            f"{name} ({', '.join(record.controls)}): "
            + (f"sha256 {str(digest)[:12]}" if digest else "not verifiable by hash")
        )
    return PathResult(
        SATISFIED,
        (f"index of {len(current)} attested documents: " + "; ".join(sorted(set(lines))),),
        tuple(r.id for r in current),
        evidenced=True,
    )


def document_versions(records: Sequence[EvidenceRecord], *, now: datetime) -> PathResult:
    seen: dict[tuple[str, str], EvidenceRecord] = {}
    clashes: list[str] = []
    unversioned: list[str] = []
    count = 0
    for record in sorted(
        (r for r in records if r.kind == "attestation"), key=lambda r: r.collected_at
    ):
        facts = record.details.get("aims_document")
        if not isinstance(facts, Mapping) or int(facts.get("open_marks") or 0):
            continue  # a draft still holding places to complete is no released version
        count += 1
        doc, version = str(facts.get("id")), str(facts.get("version") or "")
        if not version:
            unversioned.append(doc)
            continue
        first = seen.setdefault((doc, version), record)
        if first.details.get("document_sha256") != record.details.get("document_sha256"):
            clashes.append(
                f"{doc} version {version} was attested with two different contents "
                f"(attestations {short_id(first.id)} and {short_id(record.id)})"
            )
    if clashes:
        return PathResult(FAILING, tuple(clashes), ())
    if count == 0:
        return PathResult(MISSING, ("no document of the set (`aims docs init`) is attested",))
    if unversioned:
        return PathResult(
            MISSING,
            (f"attested with no version in the header: {', '.join(sorted(set(unversioned)))}",),
        )
    versions = sorted(f"{d} v{v}" for d, v in seen)
    return PathResult(
        SATISFIED,
        (
            f"{len(seen)} document versions attested, one content each, kept in the store: "
            + ", ".join(versions),
        ),
        tuple(r.id for r in seen.values()),
        evidenced=True,
    )


def improvements_verified(records: Sequence[EvidenceRecord]) -> PathResult:
    verified = [r for r in records if r.kind == "nonconformity" and r.details.get("verified_by")]
    if not verified:
        return PathResult(
            MISSING, ("no corrective action is verified effective yet (`aims nc verify`)",)
        )
    return PathResult(
        SATISFIED,
        (
            f"{len(verified)} corrective action{'s' if len(verified) != 1 else ''} verified "
            "effective: "
            + ", ".join(
                f"{str(r.details.get('amends'))[:8]} by {r.details.get('verified_by')}"
                for r in verified
            ),
        ),
        tuple(r.id for r in verified),
        evidenced=True,
    )


def changes_approved(records: Sequence[EvidenceRecord]) -> PathResult:
    approvals = sorted(
        (r for r in records if r.kind == CONFIG_APPROVAL_KIND and r.outcome in ("pass", "info")),
        key=lambda r: r.collected_at,
    )
    if not approvals:
        return PathResult(MISSING, ("no approved configuration change is recorded",))
    latest = approvals[-1]
    by = latest.details.get("approved_by") or latest.details.get("by") or "?"
    return PathResult(
        SATISFIED,
        (
            f"{len(approvals)} approved configuration change{'s' if len(approvals) != 1 else ''}, "
            f"the latest on {latest.collected_at[:10]} by {by}",
        ),
        tuple(r.id for r in approvals),
        evidenced=True,
    )
