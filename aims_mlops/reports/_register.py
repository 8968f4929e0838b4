"""The nonconformity register (clause 10.2) as evidence records in the store.

Each nonconformity is a ``nonconformity`` record with a ``deadline`` (a duty: an open one past
its due date fails 10.2). Records are immutable, so its life is a chain of records about it:

- opening: ``entry``, ``system``, ``source`` (``failing``, ``regression``, ``internal_audit``,
  ``integrity``), ``reasons``, ``owner``, ``deadline`` (30 days after opening);
- ``amends: <id>`` with ``root_cause``, ``correction``, ``action``, ``owner``, ``due`` (the new
  deadline): the corrective action (``aims nc update``);
- ``amends: <id>`` with ``verified_by``, ``verified_on``, ``note``: the check of effectiveness
  (``aims nc verify``);
- ``closes: <id>`` with ``closed_on``: written by :func:`plan_sync` only when the entry is
  satisfied again *and* effectiveness was verified.

:func:`plan_sync` is pure: from a judgement (and the verdicts re-performed at the last sync) it
returns the records to write. Nonconformities open when an entry is failing, when it regressed
from satisfied to stale or missing for a system in deployment or operation, on audit findings
(:mod:`aims_mlops.capture._process`) and on integrity findings (:func:`integrity_candidates`, the
hook the store's verification feeds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops.catalog import catalog_record
from aims_mlops.engine import assess, records_as_of
from aims_mlops.evidence import EvidenceRecord, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.engine import Assessment, ControlStatus
    from aims_mlops.reports._pack import PackJudgement

KIND = "nonconformity"
COLLECTOR = "aims_mlops.reports.sync_register"
#: Days a corrective action is given before it is due.
DUE_DAYS = 30
#: Without an earlier sync, regressions are looked for against the verdicts this many days ago.
DEFAULT_SINCE_DAYS = 30
#: Lifecycle stages in which a regression (satisfied -> stale or missing) is a nonconformity.
LIVE_STAGES = ("deployment", "operation")
#: The word the engine's duty reasons use for discharging a nonconformity.
DISCHARGED = "closed"

OPEN, PLANNED, VERIFIED, CLOSED = "open", "action planned", "verified", "closed"

ERROR_NO_NC = "no nonconformity {id!r} in the register; `aims nonconformities` lists them"
ERROR_AMBIGUOUS_NC = "nonconformity id {id!r} is ambiguous: it starts {count} records; give more"
ERROR_NC_CLOSED = "nonconformity {id} was closed on {on}; open a new one instead"
ERROR_BLANK_FIELD = "--{field} must say something (a blank text is not a {what})"
ERROR_DUE_IN_PAST = "--due {due} is in the past (today is {today})"


class NonconformityError(AimsError):
    """A change to the nonconformity register that cannot be made."""


@dataclass(frozen=True, kw_only=True)
class NcCandidate:
    """Something that should open a nonconformity (unless one is open for it already)."""

    entry: str | None
    system: str | None
    source: str
    reasons: tuple[str, ...]
    title: str = ""
    owner: str | None = None
    evidence: tuple[str, ...] = ()
    statement: str | None = None


@dataclass(frozen=True, kw_only=True)
class SyncPlan:
    """The records a sync writes, and the register they lead to."""

    opened: tuple[EvidenceRecord, ...] = ()
    closed: tuple[EvidenceRecord, ...] = ()
    rows: tuple[dict[str, Any], ...] = field(default=())

    @property
    def records(self) -> tuple[EvidenceRecord, ...]:
        return (*self.opened, *self.closed)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------- records
def opening_record(
    candidate: NcCandidate, *, now: datetime, config_digest: str | None = None
) -> EvidenceRecord:
    """The record that opens a nonconformity, due :data:`DUE_DAYS` later."""
    due = (now + timedelta(days=DUE_DAYS)).date().isoformat()
    what = candidate.entry or "the AIMS"
    return catalog_record(
        kind=KIND,
        system=candidate.system,
        outcome="info",
        collector=COLLECTOR,
        details={
            "entry": candidate.entry,
            "title": candidate.title,
            "source": candidate.source,
            "statement": candidate.statement,
            "reasons": list(candidate.reasons)[:10],
            "evidence": list(candidate.evidence)[:20],
            "owner": candidate.owner,
            "opened_on": now.date().isoformat(),
            "deadline": due,
            "discharged_by_word": DISCHARGED,
            "summary": f"nonconformity on {what} ({candidate.source})",
        },
        config_digest=config_digest,
        collected_at=_iso(now),
    )


def amend_record(
    nc: EvidenceRecord, *, details: Mapping[str, Any], now: datetime
) -> EvidenceRecord:
    """A record that amends ``nc`` (a corrective action planned, or its effectiveness checked)."""
    return catalog_record(
        kind=KIND,
        system=nc.system,
        outcome="info",
        collector=COLLECTOR,
        details={"amends": nc.id, **details},
        collected_at=_iso(now),
    )


def closing_record(
    nc: EvidenceRecord, *, now: datetime, evidence: Sequence[str] = ()
) -> EvidenceRecord:
    return catalog_record(
        kind=KIND,
        system=nc.system,
        outcome="pass",
        collector=COLLECTOR,
        details={
            "closes": nc.id,
            "closed_on": now.date().isoformat(),
            "closing_evidence": list(evidence)[:20],
        },
        collected_at=_iso(now),
    )


# ---------------------------------------------------------------------------------- the fold
def register_rows(records: Iterable[EvidenceRecord], *, now: datetime) -> list[dict[str, Any]]:
    """Every nonconformity with its state, oldest first (the register)."""
    mine = sorted((r for r in records if r.kind == KIND), key=lambda r: (r.collected_at, r.id))
    rows: dict[str, dict[str, Any]] = {}
    for record in mine:
        details = record.details
        if details.get("deadline") and not details.get("amends") and not details.get("closes"):
            rows[record.id] = {
                "id": record.id,
                "short_id": record.id[:8],
                "system": record.system,
                "control": details.get("entry"),
                "title": details.get("title") or "",
                "source": details.get("source"),
                "statement": details.get("statement"),
                "reasons": list(details.get("reasons") or ()),
                "owner": details.get("owner"),
                "opened_at": record.collected_at,
                "due": str(details["deadline"])[:10],
                "root_cause": None,
                "correction": None,
                "corrective_action": None,
                "verified_by": None,
                "verified_on": None,
                "effectiveness_note": None,
                "closed_at": None,
                "state": OPEN,
                "status": "open",
                "overdue": False,
                "history": [record.id],
            }
    for record in mine:
        details = record.details
        target = details.get("amends") or details.get("closes")
        row = rows.get(str(target)) if target else None
        if row is None:
            continue
        row["history"].append(record.id)
        if details.get("closes"):
            row.update(closed_at=details.get("closed_on"), state=CLOSED, status="closed")
            continue
        for key, column in (
            ("root_cause", "root_cause"),
            ("correction", "correction"),
            ("action", "corrective_action"),
            ("owner", "owner"),
            ("due", "due"),
            ("verified_by", "verified_by"),
            ("verified_on", "verified_on"),
            ("note", "effectiveness_note"),
        ):
            if details.get(key):
                row[column] = details[key]
        if row["state"] != CLOSED:
            row["state"] = VERIFIED if row["verified_by"] else PLANNED
    today = now.date().isoformat()
    for row in rows.values():
        row["overdue"] = row["state"] != CLOSED and today > str(row["due"])
    return list(rows.values())


def find_nc(records: Iterable[EvidenceRecord], ident: str) -> EvidenceRecord:
    """The opening record of nonconformity ``ident`` (its id or an unambiguous prefix)."""
    openings = [
        r
        for r in records
        if r.kind == KIND and r.details.get("deadline") and not r.details.get("amends")
    ]
    found = [r for r in openings if r.id.startswith(ident.strip())] if ident.strip() else []
    if not found:
        raise NonconformityError(ERROR_NO_NC.format(id=ident))
    if len(found) > 1:
        raise NonconformityError(ERROR_AMBIGUOUS_NC.format(id=ident, count=len(found)))
    return found[0]


def _text(value: str | None, field_name: str, what: str) -> str:
    if value is None or not value.strip():
        raise NonconformityError(ERROR_BLANK_FIELD.format(field=field_name, what=what))
    return " ".join(value.split())


def update_record(
    records: Sequence[EvidenceRecord],
    ident: str,
    *,
    root_cause: str,
    correction: str,
    action: str,
    owner: str,
    due: date,
    now: datetime,
    by: str | None = None,
) -> EvidenceRecord:
    """The record of a corrective action for nonconformity ``ident`` (``by``: who records it,
    the person whose key signs it)."""
    nc = find_nc(records, ident)
    row = next(r for r in register_rows(records, now=now) if r["id"] == nc.id)
    if row["state"] == CLOSED:
        raise NonconformityError(ERROR_NC_CLOSED.format(id=nc.id[:8], on=row["closed_at"]))
    if due < now.date():
        raise NonconformityError(
            ERROR_DUE_IN_PAST.format(due=due.isoformat(), today=now.date().isoformat())
        )
    return amend_record(
        nc,
        details={
            "root_cause": _text(root_cause, "root-cause", "root cause"),
            "correction": _text(correction, "correction", "correction"),
            "action": _text(action, "action", "corrective action"),
            "owner": _text(owner, "owner", "named owner"),
            "due": due.isoformat(),
            **({"acted_by": by} if by else {}),
        },
        now=now,
    )


def verify_record(
    records: Sequence[EvidenceRecord], ident: str, *, by: str, note: str, now: datetime
) -> EvidenceRecord:
    """The record of the check that the corrective action of ``ident`` was effective."""
    nc = find_nc(records, ident)
    row = next(r for r in register_rows(records, now=now) if r["id"] == nc.id)
    if row["state"] == CLOSED:
        raise NonconformityError(ERROR_NC_CLOSED.format(id=nc.id[:8], on=row["closed_at"]))
    return amend_record(
        nc,
        details={
            "verified_by": _text(by, "by", "named person"),
            "acted_by": _text(by, "by", "named person"),
            "verified_on": now.date().isoformat(),
            "note": _text(note, "note", "note on effectiveness"),
        },
        now=now,
    )


# ------------------------------------------------------------------------------- candidates
def _verdicts(assessment: Assessment) -> dict[tuple[str | None, str], ControlStatus]:
    found: dict[tuple[str | None, str], ControlStatus] = {}
    for system, sa in assessment.systems.items():
        for status in sa.controls:
            key = (None if status.scope == "organization" else system, status.id)
            found.setdefault(key, status)
    return found


def candidates(judgement: PackJudgement, previous: Assessment | None = None) -> list[NcCandidate]:
    """What should open a nonconformity now: failing entries, and entries that regressed from
    satisfied (in ``previous``) to stale or missing for a system in deployment or operation."""
    config = judgement.config
    now_verdicts = _verdicts(judgement.assessment)
    before = _verdicts(previous) if previous is not None else {}
    live = {s.id for s in config.in_scope_systems if s.lifecycle_stage in LIVE_STAGES}
    found: list[NcCandidate] = []
    for (system, entry), verdict in sorted(
        now_verdicts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        if verdict.status == "failing":
            source = "failing"
        elif (
            verdict.status in ("stale", "missing")
            and before.get((system, entry)) is not None
            and before[(system, entry)].status == "satisfied"
            and ((system in live) if system is not None else bool(live))
        ):
            source = "regression"
        else:
            continue
        reasons = list(verdict.reasons)
        if source == "regression":
            reasons.insert(0, f"{entry} was satisfied and is now {verdict.status}")
        found.append(
            NcCandidate(
                entry=entry,
                system=system,
                source=source,
                reasons=tuple(reasons),
                title=verdict.title,
                owner=verdict.owner,
                evidence=tuple(verdict.evidence),
            )
        )
    return found


def integrity_candidates(findings: Iterable[Any]) -> list[NcCandidate]:
    """The hook for integrity findings: each finding (a store read's problem text, or an object
    with ``record_id`` / ``system`` / ``fault`` or ``reason``) opens a nonconformity."""
    found = []
    for finding in findings:
        if isinstance(finding, str):
            text, system, record_id = finding, None, None
        else:
            text = str(getattr(finding, "fault", None) or getattr(finding, "reason", finding))
            system = getattr(finding, "system", None)
            record_id = getattr(finding, "record_id", None)
        found.append(
            NcCandidate(
                entry=None,
                system=system,
                source="integrity",
                reasons=(text,),
                title="evidence integrity",
                evidence=(record_id,) if record_id else (),
                statement=text,
            )
        )
    return found


def previous_assessment(judgement: PackJudgement, since: datetime) -> Assessment:
    """The verdicts re-performed at ``since`` (each system by its latest run then: the registry
    keeps no alias history)."""
    return assess(
        judgement.catalog,
        judgement.config,
        records_as_of(judgement.records, since),
        current_models={},
        now=since,
        systems=list(judgement.assessment.systems),
    )


def last_sync(records: Iterable[EvidenceRecord]) -> datetime | None:
    times = [r.collected for r in records if r.kind == KIND]
    return max(times) if times else None


def plan_sync(
    judgement: PackJudgement,
    *,
    previous: Assessment | None = None,
    extra: Iterable[NcCandidate] = (),
) -> SyncPlan:
    """The records that bring the register up to date with ``judgement`` (see the module
    docstring); ``previous`` defaults to the verdicts re-performed at the last sync (else
    :data:`DEFAULT_SINCE_DAYS` ago)."""
    now = parse_timestamp(judgement.assessment.evaluated_at)
    records = list(judgement.records)
    if previous is None:
        since = last_sync(records) or now - timedelta(days=DEFAULT_SINCE_DAYS)
        previous = previous_assessment(judgement, min(since, now))
    rows = register_rows(records, now=now)
    open_keys = {(r["system"], r["control"]) for r in rows if r["state"] != CLOSED}
    # a record that failed verification is raised once, whatever the later syncs see
    raised_for = {
        str(evidence)
        for r in records
        if r.kind == KIND and r.details.get("source") == "integrity"
        for evidence in (r.details.get("evidence") or ())
    }
    digest = judgement.assessment.config_digest
    opened = []
    for candidate in [*candidates(judgement, previous), *extra]:
        key = (candidate.system, candidate.entry)
        if candidate.entry is not None and key in open_keys:
            continue
        if candidate.entry is None and candidate.evidence:
            if candidate.evidence[0] in raised_for:
                continue
            raised_for.add(candidate.evidence[0])
        open_keys.add(key)
        opened.append(opening_record(candidate, now=now, config_digest=digest))
    verdicts = _verdicts(judgement.assessment)
    assessed = set(judgement.assessment.systems)
    by_id = {r.id: r for r in records}
    closed = []
    for row in rows:
        if row["state"] != VERIFIED:
            continue
        if row["system"] is not None and row["system"] not in assessed:
            continue
        verdict = verdicts.get((row["system"], row["control"])) if row["control"] else None
        if row["control"] is not None and (verdict is None or verdict.status != "satisfied"):
            continue
        closed.append(
            closing_record(by_id[row["id"]], now=now, evidence=verdict.evidence if verdict else ())
        )
    final = register_rows([*records, *opened, *closed], now=now)
    return SyncPlan(opened=tuple(opened), closed=tuple(closed), rows=tuple(final))
