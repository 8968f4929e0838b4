"""The AIMS's own processes, judged purely: the internal audit programme and its auditors'
independence, who may attest or approve an entry, and how much of the monitoring ran.

- :func:`owners_of`: who owns a system, a catalog entry or a group (the people an auditor of it
  must be independent of): a system's ``owner``; an organization-scope entry's
  ``organization.policy_owner``; a system-scope entry's owners of every in-scope system.
- :func:`conflicts`: the items of an audit's scope its auditor owns.
- :func:`programme_part`: the ``audit_programme`` part (clause 9.2.2): the programme is declared
  and, within its interval, internal audits by independent auditors covered every item of its
  scope (default: every in-scope system).
- :func:`approver_problem`: why a named person may not attest or approve an entry (None: may).
- :func:`coverage_part`: "ran N of M expected intervals in the last D days".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aims_mlops.config._models import ROLE_INTERNAL_AUDITOR
from aims_mlops.engine._results import FAILING, MISSING, SATISFIED, STALE
from aims_mlops.engine._status import PathResult, record_kind, short_id
from aims_mlops.evidence import EvidenceRecord, load_kinds, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig

INTERNAL_AUDIT = "internal_audit"
ERROR_NO_ROLE = "{name} does not hold the {role} role in aims.yaml people: ({holders})"
PROGRAMME_REF = "audit_programme"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def names(text: str) -> set[str]:
    """The ways a person or role is written: the whole text, the part before ``(``, and every
    e-mail address in it, case-folded (``Dana (dana@x.test)`` matches ``dana@x.test``)."""
    found = {" ".join(text.split()).casefold()}
    head = text.split("(", 1)[0].strip()
    if head:
        found.add(" ".join(head.split()).casefold())
    found.update(m.casefold() for m in _EMAIL.findall(text))
    return {n for n in found if n}


def same_person(a: str, b: str) -> bool:
    return bool(names(a) & names(b))


def covers(item: str, target: str) -> bool:
    """Whether scope item ``item`` covers ``target`` (the same id, or a group of it)."""
    return target == item or target.startswith(f"{item}.")


def owners_of(config: AimsConfig, catalog: Catalog, item: str) -> list[str]:
    """The owners of a system id, catalog entry or group (``A.6``, ``9``)."""
    systems = {s.id: s for s in config.in_scope_systems}
    if item in {s.id for s in config.systems}:
        owner = config.system(item).owner
        return [owner] if owner else []
    entries = [e for e in catalog.entries if covers(item, e.id) or e.group == item]
    owners: list[str] = []
    for entry in entries:
        if entry.scope == "organization":
            owners.append(config.organization.policy_owner or "")
        else:
            owners.extend(s.owner for s in systems.values() if s.owner)
    return [o for o in dict.fromkeys(owners) if o]


#: the clauses every audit cycle covers when the programme names no scope (with every system)
DEFAULT_AUDIT_CLAUSES: tuple[str, ...] = ("4", "5", "6", "7", "8", "9", "10")


def default_scope(config: AimsConfig) -> list[str]:
    """The items an audit cycle must cover: the programme's ``scope``, else clauses 4-10 and
    every assessed system (the in-scope ones, or the pilot's)."""
    programme = config.audit_programme
    if programme is not None and programme.scope:
        return list(programme.scope)
    return [*DEFAULT_AUDIT_CLAUSES, *(s.id for s in config.assessed_systems)]


def _touches(item: str, system: str | None, controls: Iterable[str]) -> bool:
    """Whether an act about ``system`` and ``controls`` falls under scope item ``item``."""
    return (system is not None and item == system) or any(covers(item, c) for c in controls)


def involvements(
    config: AimsConfig,
    catalog: Catalog,
    person: str,
    item: str,
    records: Iterable[EvidenceRecord] = (),
) -> list[str]:
    """What ``person`` did or owns within scope item ``item`` (an auditor of it must have done
    nothing of it): owns it (a system, an entry, organization-level entries included), owns or
    accepted one of its risks, attested one of its entries, chaired a review it covers."""
    owners = owners_of(config, catalog, item)
    found = [f"owns {item} ({o})" for o in owners if same_person(person, o)]
    treatment = [e.id for e in catalog.entries if "risk_treatment" in e.rule.config_checks]
    for risk in config.risks:
        if not _touches(item, risk.system, treatment):
            continue
        if risk.owner and same_person(person, risk.owner):
            found.append(f"owns risk {risk.id}")
        if risk.acceptance is not None and same_person(person, risk.acceptance.by):
            found.append(f"accepted risk {risk.id}")
    kinds = load_kinds()
    for record in records:
        kind = kinds.get(record.kind) if record.kind in kinds else None
        field = kind.actor if kind is not None and kind.vouches else None
        if field is None or record.kind == INTERNAL_AUDIT:
            continue
        actor = str(record.details.get(field) or "")
        controls = record.controls or catalog.controls_for_kind(record.kind)
        if actor and same_person(person, actor) and _touches(item, record.system, controls):
            found.append(f"{record.kind.replace('_', ' ')} {short_id(record.id)} is theirs")
    return list(dict.fromkeys(found))


def conflicts(
    config: AimsConfig,
    catalog: Catalog,
    auditor: str,
    scope: Iterable[str],
    records: Iterable[EvidenceRecord] = (),
) -> list[tuple[str, str]]:
    """``(item, what)`` for every item of ``scope`` the auditor owns, attested, accepted or
    approved."""
    listed = list(records)
    return [
        (item, what)
        for item in scope
        for what in involvements(config, catalog, auditor, item, listed)
    ]


def auditor_problem(config: AimsConfig, auditor: str) -> str | None:
    """Why ``auditor`` may not audit at all: the programme names its auditors and not them, or
    ``people:`` names internal auditors and they are not one (None: they may)."""
    programme = config.audit_programme
    allowed = programme.auditors if programme is not None else ()
    if allowed and not any(same_person(auditor, a) for a in allowed):
        return f"the programme names its auditors ({', '.join(allowed)})"
    if config.people_with_role(ROLE_INTERNAL_AUDITOR) and not allowed:
        return role_problem(config, auditor, ROLE_INTERNAL_AUDITOR)
    return None


def _audit_day(record: EvidenceRecord) -> datetime:
    on = record.details.get("audited_on")
    return parse_timestamp(str(on)) if on else record.collected


def programme_part(
    config: AimsConfig,
    catalog: Catalog,
    records: Sequence[EvidenceRecord],
    *,
    now: datetime,
    ref: str,
) -> PathResult:
    """The audit programme declared in aims.yaml, and followed (see the module docstring)."""
    programme = config.audit_programme
    if programme is None:
        return PathResult(
            MISSING,
            ("no internal audit programme declared in aims.yaml (audit_programme)",),
        )
    interval = programme.interval_days
    wanted = default_scope(config)
    audits = sorted(
        (r for r in records if r.kind == INTERNAL_AUDIT and r.outcome != "error"),
        key=_audit_day,
        reverse=True,
    )
    window = now - timedelta(days=interval)
    recent = [a for a in audits if _audit_day(a) >= window]
    problems: list[str] = []
    for audit in recent:
        auditor = str(audit.details.get("auditor") or "")
        scope = audit.details.get("scope") or ()
        for _item, what in conflicts(config, catalog, auditor, scope, records):
            problems.append(
                f"internal audit {short_id(audit.id)} by {auditor} is not independent: "
                f"{auditor} {what}"
            )
        problem = auditor_problem(config, auditor)
        if problem is not None:
            problems.append(f"internal audit {short_id(audit.id)} by {auditor}: {problem}")
    evidence = (ref, *(a.id for a in recent))
    if problems:
        return PathResult(FAILING, tuple(problems), evidence)

    def audited(item: str, among: Iterable[EvidenceRecord]) -> EvidenceRecord | None:
        return next(
            (a for a in among if any(covers(s, item) for s in a.details.get("scope") or ())),
            None,
        )

    uncovered = [item for item in wanted if audited(item, recent) is None]
    head = f"audit programme: every {interval} days over {', '.join(wanted) or 'nothing'}"
    if not uncovered:
        last = ", ".join(
            f"{short_id(a.id)} by {a.details.get('auditor')} on {_audit_day(a).date()}"
            for a in recent
        )
        return PathResult(SATISFIED, (f"{head}; followed: {last}",), evidence)
    older = {item: audited(item, audits) for item in uncovered}
    stale = [f"{item} last audited {_audit_day(a).date()}" for item, a in older.items() if a]
    never = [item for item, a in older.items() if a is None]
    reasons = [f"{head}; not audited within the last {interval} days: " + ", ".join(uncovered)]
    reasons += stale + ([f"never audited: {', '.join(never)}"] if never else [])
    status = STALE if not never else MISSING
    return PathResult(status, tuple(reasons), evidence)


# ----------------------------------------------------------------------------- approvers
def holds_role(config: AimsConfig, name: str, role: str) -> bool:
    """Whether ``name`` is a person of ``people:`` who holds ``role``."""
    return any(same_person(name, p.name) for p in config.people_with_role(role))


def role_problem(config: AimsConfig, name: str, role: str) -> str | None:
    """Why ``name`` lacks the authority of ``role`` (None: a person of ``people:`` holds it)."""
    if holds_role(config, name, role):
        return None
    holders = ", ".join(p.name for p in config.people_with_role(role))
    return ERROR_NO_ROLE.format(
        name=name, role=role, holders=f"held by {holders}" if holders else "no one holds it"
    )


def _allowed(config: AimsConfig, by: str, approver: str) -> bool:
    """``approver`` (a name, or a role of ``people:``) covers ``by``."""
    return same_person(by, approver) or holds_role(config, by, approver)


def approver_problem(
    config: AimsConfig, entry_id: str, by: str, *, role: str | None = None
) -> str | None:
    """Why ``by`` may not attest or approve ``entry_id`` (None: may): ``approvers`` (names or
    roles) must list them, and with ``role`` (the catalog entry's ``authority``) they must hold
    that role in ``people:``."""
    allowed = config.approvers_for(entry_id)
    if allowed is not None and not any(_allowed(config, by, a) for a in allowed):
        return f"{by} may not attest or approve {entry_id}: approvers are {', '.join(allowed)}"
    if role is not None:
        problem = role_problem(config, by, role)
        if problem is not None:
            return f"{by} may not attest or approve {entry_id}: {problem}"
    return None


# ------------------------------------------------------------------------------- coverage
def coverage(
    records: Iterable[EvidenceRecord],
    kinds: Sequence[str],
    *,
    now: datetime,
    interval_days: int,
    period_days: int,
) -> tuple[int, int, datetime]:
    """``(ran, expected, since)``: of the ``interval_days`` intervals from ``since`` (the later
    of ``period_days`` ago and the first record of ``kinds``) to ``now``, how many hold a
    record of one of ``kinds`` (errors do not count)."""
    times = sorted(
        r.collected
        for r in records
        if record_kind(r) in kinds and r.kind != "error" and r.collected <= now
    )
    start = now - timedelta(days=period_days)
    if not times:
        return 0, max(1, math.ceil(period_days / interval_days)), start
    since = max(start, times[0])
    span = timedelta(days=interval_days)
    expected = max(1, math.ceil((now - since) / span))
    ran = len({min(int((t - since) / span), expected - 1) for t in times if t >= since})
    return ran, expected, since


def coverage_part(
    base: PathResult,
    records: Iterable[EvidenceRecord],
    kinds: Sequence[str],
    *,
    now: datetime,
    interval_days: int,
    period_days: int,
    minimum: float | None,
) -> PathResult:
    """``base`` (the evidence part) with the coverage over the period stated, failing below
    ``minimum``."""
    ran, expected, since = coverage(
        records, kinds, now=now, interval_days=interval_days, period_days=period_days
    )
    share = ran / expected
    text = (
        f"monitoring ran {ran} of {expected} expected {interval_days}-day intervals in the last "
        f"{period_days} days (since {since.date()}; {share * 100:.1f} %)"
    )
    if minimum is not None and share < minimum and ran:
        return PathResult(
            FAILING,
            (f"{text}, below the required {minimum * 100:.1f} % (monitoring.min_coverage)",),
            base.evidence,
        )
    if minimum is not None:
        text += f"; at least {minimum * 100:.1f} % required"
    return PathResult(base.status, (*base.reasons, text), base.evidence, evidenced=base.evidenced)
