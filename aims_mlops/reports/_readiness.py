"""Certification readiness: where the whole AIMS stands per clause and Annex A objective, how fresh
its evidence is, and what to fix first.

- Counts per group take each organization-scope entry once and each system-scope entry once per
  assessed system (the engine's readiness rule); the share satisfied is the engine's.
- Freshness looks at the latest record per (system, kind) (an attestation: per attested control;
  ``error`` records are not evidence and are left out). It expires ``fresh_days`` after collection
  (the smallest limit of the catalog entries that accept the kind; for ``monitoring`` the
  system's monitoring interval when declared; 365 days otherwise), or at its ``valid_until`` if
  sooner. Past that it is ``stale``; within ``expiring_within_days`` it is ``expiring``; else
  ``fresh``. Age alone: the engine may still call a fresh record stale when it is about another
  model version.
- The remediation list is the engine's prioritised gap list with a priority label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aims_mlops.evidence import parse_timestamp
from aims_mlops.presentation import percent

if TYPE_CHECKING:
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.reports._content import JudgementLike

FRESH = "fresh"
EXPIRING = "expiring"
STALE = "stale"
FRESHNESS_STATES: tuple[str, ...] = (FRESH, EXPIRING, STALE)

#: Evidence expiring within this many days counts as ``expiring``.
EXPIRING_WITHIN_DAYS = 30
#: Freshness limit for kinds no catalog entry names.
DEFAULT_FRESH_DAYS = 365
#: Age buckets (upper bound in days, inclusive; None: no bound) of the age distribution.
AGE_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (7, "0-7 days"),
    (30, "8-30 days"),
    (90, "31-90 days"),
    (365, "91-365 days"),
    (None, "over 365 days"),
)
_STATUSES = ("satisfied", "failing", "stale", "missing", "not_applicable")
_PRIORITY_LABELS = {
    0: "failing",
    1: "treats a risk above appetite",
    2: "stale",
    3: "missing",
}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _share(satisfied: int, applicable: int) -> float:
    return 1.0 if applicable == 0 else round(satisfied / applicable, 4)


def _group_rows(judgement: JudgementLike) -> tuple[list[dict[str, Any]], dict[str, int]]:
    assessment = judgement.assessment
    catalog = judgement.catalog
    counts: dict[str, dict[str, int]] = {g: dict.fromkeys(_STATUSES, 0) for g in catalog.groups()}
    systems = list(assessment.systems.values())
    for entry in catalog.entries:
        if entry.scope == "organization":
            verdicts = [systems[0].control(entry.id)] if systems else []
        else:
            verdicts = [sa.control(entry.id) for sa in systems]
        bucket = counts.setdefault(entry.group, dict.fromkeys(_STATUSES, 0))
        for verdict in verdicts:
            bucket[verdict.status] += 1
    titles = catalog.groups()
    per_group = assessment.readiness.per_group
    rows = []
    totals = dict.fromkeys(_STATUSES, 0)
    for group, by_status in counts.items():
        applicable = sum(n for s, n in by_status.items() if s != "not_applicable")
        for status, n in by_status.items():
            totals[status] += n
        rows.append(
            {
                "group": group,
                "title": titles.get(group, group),
                "share_satisfied": per_group.get(group, _share(by_status["satisfied"], applicable)),
                "applicable": applicable,
                "satisfied": by_status["satisfied"],
                "counts": by_status,
            }
        )
    return rows, totals


def fresh_days_for(judgement: JudgementLike, record: EvidenceRecord, control: str | None) -> int:
    """The freshness limit (days) of a record (for an attestation: of the attested control)."""
    catalog = judgement.catalog
    if record.kind == "attestation" and control is not None and control in catalog:
        return catalog.get(control).rule.fresh_days
    if record.kind == "monitoring" and record.system is not None:
        for system in judgement.config.systems:
            if system.id == record.system and system.monitoring is not None:
                return system.monitoring.interval_days
    days = [e.rule.fresh_days for e in catalog.entries if record.kind in e.rule.kinds]
    return min(days) if days else DEFAULT_FRESH_DAYS


def _latest_per_kind(
    records: Iterable[EvidenceRecord], systems: Iterable[str]
) -> dict[tuple[str | None, str, str | None], EvidenceRecord]:
    wanted = set(systems)
    latest: dict[tuple[str | None, str, str | None], EvidenceRecord] = {}
    for record in records:
        if record.kind == "error" or (record.system is not None and record.system not in wanted):
            continue
        controls: Iterable[str | None] = (
            record.controls if record.kind == "attestation" and record.controls else (None,)
        )
        for control in controls:
            key = (record.system, record.kind, control)
            held = latest.get(key)
            if held is None or (record.collected_at, record.id) > (held.collected_at, held.id):
                latest[key] = record
    return latest


def _bucket(age_days: int) -> str:
    for bound, label in AGE_BUCKETS:
        if bound is None or age_days <= bound:
            return label
    return AGE_BUCKETS[-1][1]


def freshness(
    judgement: JudgementLike, *, now: datetime, expiring_within_days: int = EXPIRING_WITHIN_DAYS
) -> dict[str, Any]:
    """Age and expiry of the latest record per (system, kind) at ``now``."""
    items = []
    latest = _latest_per_kind(judgement.records, judgement.assessment.systems)
    for (system, kind, control), record in sorted(
        latest.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2] or "")
    ):
        collected = record.collected
        days = fresh_days_for(judgement, record, control)
        expires = collected + timedelta(days=days)
        if record.valid_until:
            expires = min(expires, parse_timestamp(record.valid_until))
        if expires <= now:
            state = STALE
        elif expires - now <= timedelta(days=expiring_within_days):
            state = EXPIRING
        else:
            state = FRESH
        age = max(0, int((now - collected).total_seconds() // 86400))
        items.append(
            {
                "system": system,
                "kind": kind if control is None else f"{kind} {control}",
                "record": record.id,
                "collected_at": record.collected_at,
                "age_days": age,
                "fresh_days": days,
                "expires_at": _iso(expires),
                "status": state,
            }
        )
    counts = {state: sum(1 for i in items if i["status"] == state) for state in FRESHNESS_STATES}
    ages = {label: 0 for _, label in AGE_BUCKETS}
    for item in items:
        ages[_bucket(item["age_days"])] += 1
    return {
        "expiring_within_days": expiring_within_days,
        "counts": counts,
        "age_distribution": ages,
        "items": items,
    }


def remediation(judgement: JudgementLike) -> list[dict[str, Any]]:
    """The engine's prioritised gaps, numbered, with why each is where it is in the list."""
    assessment = judgement.assessment
    urgent: dict[str | None, set[str]] = {}
    for sid, sa in assessment.systems.items():
        urgent[sid] = {c for r in sa.risks if r.above_appetite for c in r.controls}
    urgent[None] = set().union(*urgent.values()) if urgent else set()
    rows = []
    for rank, gap in enumerate(assessment.readiness.gaps, 1):
        if gap.status == "failing":
            bucket = 0
        elif gap.control in urgent.get(gap.system, set()):
            bucket = 1
        elif gap.status == "stale":
            bucket = 2
        else:
            bucket = 3
        rows.append(
            {
                "rank": rank,
                "priority": _PRIORITY_LABELS[bucket],
                "system": gap.system,
                "control": gap.control,
                "title": gap.title,
                "status": gap.status,
                "owner": gap.owner,
                "how_to_close": gap.how_to_close,
                "reason": gap.reasons[0] if gap.reasons else "",
            }
        )
    return rows


def readiness_report(
    judgement: JudgementLike,
    *,
    now: datetime | None = None,
    expiring_within_days: int = EXPIRING_WITHIN_DAYS,
) -> dict[str, Any]:
    """Readiness for certification as JSON-ready data (``now`` default: the assessment's time).

    Keys: ``evaluated_at``, ``organization``, ``overall``, ``applicable``, ``satisfied``,
    ``counts``, ``per_system``, ``clauses`` and ``annex_a`` (per group: ``share_satisfied``,
    ``applicable``, ``satisfied``, ``counts`` by status), ``freshness``, ``remediation``,
    ``gaps_by_owner``, ``ready`` (no blockers), ``blockers`` (``id``, ``reason``, ``system``,
    ``owner``, ``status``: every applicable entry not satisfied, unaccepted risks above the
    appetite, records that fail verification, unsigned evidence, unapproved configuration
    changes), ``basis`` (satisfied entries resting on ``captured`` evidence, on
    ``attestation_only``, on ``declaration_only``), ``excluded`` (entries excluded
    in the Statement of Applicability, shown next to the share) and ``findings`` (exclusions
    contradicted by evidence).
    """
    assessment = judgement.assessment
    moment = now or parse_timestamp(assessment.evaluated_at)
    rows, totals = _group_rows(judgement)
    gaps = remediation(judgement)
    by_owner: dict[str, int] = {}
    for gap in gaps:
        by_owner[gap["owner"]] = by_owner.get(gap["owner"], 0) + 1
    applicable = sum(n for s, n in totals.items() if s != "not_applicable")
    readiness = assessment.readiness
    return {
        "evaluated_at": assessment.evaluated_at,
        "organization": judgement.config.organization.name,
        "config_digest": assessment.config_digest,
        "ready": readiness.ready,
        "blockers": [b.to_dict() for b in readiness.blockers],
        "excluded": readiness.excluded,
        "findings": [f.to_dict() for f in readiness.findings],
        "basis": dict(readiness.basis),
        "overall": assessment.readiness.overall,
        "applicable": applicable,
        "satisfied": totals["satisfied"],
        "counts": totals,
        "per_system": dict(assessment.readiness.per_system),
        "clauses": [r for r in rows if not r["group"].startswith("A.")],
        "annex_a": [r for r in rows if r["group"].startswith("A.")],
        "freshness": freshness(judgement, now=moment, expiring_within_days=expiring_within_days),
        "remediation": gaps,
        "gaps_by_owner": dict(sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _bar(share: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, share)) * width)
    return "█" * filled + "·" * (width - filled)


def _group_lines(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    lines = [
        f"  {'':<6} {'':<52} {'share':>5}  {'':<20}  sat fail stale miss  n/a",
    ]
    for row in rows:
        c = row["counts"]
        share = percent(row["share_satisfied"], digits=0)
        lines.append(
            f"  {row['group']:<6} {str(row['title'])[:52]:<52} {share:>5}  "
            f"{_bar(row['share_satisfied'])}  {c['satisfied']:>3} {c['failing']:>4} "
            f"{c['stale']:>5} {c['missing']:>4} {c['not_applicable']:>4}"
        )
    return lines


def readiness_text(report: Mapping[str, Any], *, limit: int = 25) -> str:
    """A terminal rendering of :func:`readiness_report` (``limit`` remediation items)."""
    verdict = "READY" if report["ready"] else f"NOT READY ({len(report['blockers'])} blockers)"
    lines = [
        f"Certification readiness — {report['organization']} (assessed {report['evaluated_at']})",
        f"{verdict}: {percent(report['overall'])} satisfied ({report['satisfied']} of "
        f"{report['applicable']} applicable entries; {report['excluded']} excluded in the "
        "Statement of Applicability)",
    ]
    basis = report.get("basis") or {}
    if basis:
        lines.append(
            f"Satisfied entries rest on: captured evidence {basis.get('captured', 0)}, "
            f"attestations only {basis.get('attestation_only', 0)}, aims.yaml declarations "
            f"only {basis.get('declaration_only', 0)}"
        )
    for blocker in report["blockers"][:limit]:
        where = f" {blocker['system']}" if blocker["system"] else ""
        owner = f" — owner {blocker['owner']}" if blocker.get("owner") else ""
        lines.append(f"  blocker {blocker['id']}{where}: {blocker['reason']}{owner}")
    if len(report["blockers"]) > limit:
        lines.append(f"  … and {len(report['blockers']) - limit} more blockers")
    for finding in report["findings"]:
        lines.append(f"  finding {finding['id']}: {finding['reason']}")
    if report["per_system"]:
        lines.append(
            "Per system: " + ", ".join(f"{s} {percent(v)}" for s, v in report["per_system"].items())
        )
    lines += ["", "Clauses 4-10:", *_group_lines(report["clauses"])]
    lines += ["", "Annex A objectives:", *_group_lines(report["annex_a"])]
    fresh = report["freshness"]
    counts = fresh["counts"]
    lines += [
        "",
        f"Evidence freshness (latest record per system and kind; expiring = within "
        f"{fresh['expiring_within_days']} days): fresh {counts[FRESH]}, expiring "
        f"{counts[EXPIRING]}, stale {counts[STALE]}",
        "  age: " + ", ".join(f"{k} {v}" for k, v in fresh["age_distribution"].items()),
    ]
    for item in fresh["items"]:
        if item["status"] != FRESH:
            lines.append(
                f"  {item['status']:<8} {item['system'] or 'organization'} {item['kind']} "
                f"(record {item['record'][:8]}, {item['age_days']} days old, "
                f"expires {item['expires_at'][:10]})"
            )
    gaps = report["remediation"]
    lines += ["", f"Remediation ({len(gaps)} gaps, most urgent first):"]
    for gap in gaps[:limit]:
        lines.append(
            f"  {gap['rank']:>3}. [{gap['priority']}] {gap['system'] or 'organization'} "
            f"{gap['control']} {gap['title']} — owner {gap['owner']}"
        )
        lines.append(f"       {gap['how_to_close']}")
    if len(gaps) > limit:
        lines.append(f"  … and {len(gaps) - limit} more (--format json lists all)")
    if report["gaps_by_owner"]:
        lines += ["", "Gaps by owner:"]
        lines += [f"  {n:>3}  {owner}" for owner, n in report["gaps_by_owner"].items()]
    return "\n".join(lines)
