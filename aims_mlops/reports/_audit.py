"""Internal audit (clause 9.2), management review (9.3) and the nonconformity register (10.2).

- :func:`audit_plan`: a checklist per clause and control: what to inspect, the evidence rule, the
  status now, and a random but reproducible sample of evidence records (id and content hash) to
  re-inspect. The same judgement, ``seed`` and ``sample_size`` always give the same sample.
- :func:`review_pack`: the inputs of a management review: open actions with owners, evidence
  collected since the last review, trends (conformity score, demographic parity difference,
  data-quality success percent), nonconformities and opportunities for improvement.
- :func:`nonconformities`: the register. A ``failing`` entry opens a nonconformity (owner,
  corrective action, due 30 days later); it closes when the entry is ``satisfied`` again.
  :func:`update_nonconformity_register` keeps it in ``.aims/nonconformities.json`` next to the
  configuration.

Everything here reads the engine's verdicts; nothing decides a status of its own.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops._escape import md_escape as e
from aims_mlops._files import write_atomically
from aims_mlops.evidence import EvidenceRecord, parse_timestamp
from aims_mlops.presentation import percent
from aims_mlops.reports._content import is_record_id
from aims_mlops.reports._pack import PackJudgement, json_bytes

if TYPE_CHECKING:
    from aims_mlops.catalog import CatalogEntry
    from aims_mlops.engine import ControlStatus

#: Days a corrective action is given before it is due.
NONCONFORMITY_DUE_DAYS = 30
#: Register location, relative to the folder of aims.yaml.
REGISTER_PATH = Path(".aims") / "nonconformities.json"
#: The kind of record that marks a management review (the default start of "changes since"; an
#: attestation of an entry whose rule names the kind counts too).
REVIEW_KIND = "management_review"
#: Without a recorded management review, changes are counted over this many days.
DEFAULT_REVIEW_DAYS = 90
#: Attestations expiring within this many days are listed as improvement opportunities.
RENEWAL_DAYS = 30
ORGANIZATION = "organization"

ERROR_BAD_DATE = "{value!r} is not a date; give YYYY-MM-DD or an ISO 8601 timestamp"
ERROR_REGISTER_UNREADABLE = (
    "{path} is not a nonconformity register ({error}); fix or move it, then run "
    "`aims nonconformities` again"
)


class RegisterError(AimsError):
    """The nonconformity register on disk cannot be read."""


# ------------------------------------------------------------------------------------ helpers
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_moment(value: str | date | datetime) -> datetime:
    """A date (midnight UTC) or timestamp as an aware UTC datetime; ``AimsError`` otherwise."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return parse_timestamp(str(value).strip())
    except ValueError as exc:
        raise AimsError(ERROR_BAD_DATE.format(value=value)) from exc


def _record_index(judgement: PackJudgement) -> dict[str, EvidenceRecord]:
    return {r.id: r for r in judgement.records}


def _verdicts(judgement: PackJudgement) -> dict[tuple[str | None, str], ControlStatus]:
    """Each (system, entry) verdict once; organization-scope entries under system ``None``."""
    found: dict[tuple[str | None, str], ControlStatus] = {}
    for system, sa in judgement.assessment.systems.items():
        for status in sa.controls:
            key = (None if status.scope == "organization" else system, status.id)
            found.setdefault(key, status)
    return found


def _brief(record: EvidenceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "system": record.system,
        "collected_at": record.collected_at,
        "outcome": record.outcome,
        "content_hash": record.content_hash,
    }


# --------------------------------------------------------------------------------- audit plan
def _inspect(entry: CatalogEntry) -> list[str]:
    rule = entry.rule
    steps = []
    for kind in rule.kinds:
        steps.append(
            f"the latest {kind} record of each system: passing, at most {rule.fresh_days} days "
            "old, about the model version and data in use"
        )
    if rule.config_check:
        steps.append(f"the declaration in aims.yaml that `{rule.config_check}` checks")
    if rule.derived_from:
        steps.append("the verdicts of " + ", ".join(rule.derived_from))
    if rule.attestation:
        steps.append(
            f"the attested document ({rule.attestation}): who vouched, the document's hash, "
            "and that it is still valid"
        )
    steps.append("for each sampled record, that its content hash verifies (`aims verify`)")
    return steps


def draw_seed() -> int:
    """A fresh seed for an auditor who names none (the plan states it, so it can be redrawn)."""
    import secrets

    return secrets.randbelow(2**31)


def _in_period(
    records: Iterable[EvidenceRecord], start: datetime | None, end: datetime | None
) -> list[EvidenceRecord]:
    return [
        r
        for r in records
        if (start is None or r.collected >= start) and (end is None or r.collected <= end)
    ]


def _serves(judgement: PackJudgement, record: EvidenceRecord, entry: CatalogEntry) -> bool:
    """Whether ``record`` speaks to ``entry``: it names it, or its kind is one the entry's rule
    names (the catalog's answer, ``controls_for_kind``), for a system the entry is judged for."""
    from aims_mlops.engine._status import record_kind

    if entry.id not in record.controls and entry.id not in judgement.catalog.controls_for_kind(
        record_kind(record)
    ):
        return False
    if entry.scope == "organization":
        return True
    return record.system in judgement.assessment.systems


def audit_plan(
    judgement: PackJudgement,
    *,
    sample_size: int = 3,
    seed: int = 0,
    population: Iterable[EvidenceRecord] | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
) -> dict[str, Any]:
    """The internal audit checklist (clause 9.2): one item per clause and Annex A control.

    The sample is the auditor's own: per entry, up to ``sample_size`` records drawn with
    ``seed`` from every record collected between ``start`` and ``end`` (default: all) that
    speaks to the entry, not only the records the verdict cites. ``population``: the records to
    draw from (default: the judgement's; the CLI reads every run of each system). The same
    population and seed always give the same plan."""
    assessment = judgement.assessment
    records = _record_index(judgement)
    begin = parse_moment(start) if start is not None else None
    finish = parse_moment(end) if end is not None else None
    drawn_from = sorted(
        _in_period(judgement.records if population is None else population, begin, finish),
        key=lambda r: r.id,
    )
    records.update({r.id: r for r in drawn_from})
    verdicts = _verdicts(judgement)
    items = []
    for entry in judgement.catalog.entries:
        statuses = {
            ORGANIZATION if system is None else system: status
            for (system, entry_id), status in verdicts.items()
            if entry_id == entry.id
        }
        cited = {e for s in statuses.values() for e in s.evidence}
        pool = sorted(r.id for r in drawn_from if _serves(judgement, r, entry))
        rng = random.Random(f"{seed}:{entry.id}")
        sample = sorted(rng.sample(pool, min(sample_size, len(pool))))
        items.append(
            {
                "id": entry.id,
                "title": entry.title,
                "kind": entry.kind,
                "group": entry.group,
                "group_title": entry.group_title,
                "scope": entry.scope,
                "description": entry.description,
                "inspect": _inspect(entry),
                "evidence_rule": entry.rule.to_dict(),
                "status": {k: s.status for k, s in statuses.items()},
                "reasons": {k: list(s.reasons) for k, s in statuses.items()},
                "owners": {k: s.owner for k, s in statuses.items()},
                "declarations": sorted(e for e in cited if not is_record_id(e)),
                "population": len(pool),
                "sample": [
                    {
                        **_brief(records[rid]),
                        "cited_by_verdict": rid in cited,
                        **_attested_document(records[rid]),
                    }
                    for rid in sample
                ],
                "conclusion": None,
            }
        )
    from aims_mlops.engine import evidence_digest

    return {
        "title": "Internal audit plan (ISO/IEC 42001 clause 9.2)",
        "organization": judgement.config.organization.name,
        "evaluated_at": assessment.evaluated_at,
        "config_digest": assessment.config_digest,
        "evidence_digest": evidence_digest(assessment.config_digest, judgement.records),
        "population_digest": evidence_digest(assessment.config_digest, drawn_from),
        "period": {
            "from": _iso(begin) if begin is not None else None,
            "to": _iso(finish) if finish is not None else None,
        },
        "population_size": len(drawn_from),
        "systems": list(assessment.systems),
        "sample_size": sample_size,
        "seed": seed,
        "items": items,
    }


def _attested_document(record: EvidenceRecord) -> dict[str, Any]:
    """For a sampled attestation, the document the auditor must read: where it is, its content
    hash (to compare with what they are shown), who attested it and what it is said to show."""
    if record.kind != "attestation":
        return {}
    details = record.details
    return {
        "document": details.get("document"),
        "document_sha256": details.get("document_sha256"),
        "attested_by": details.get("by"),
        "statement": details.get("statement"),
    }


def audit_plan_markdown(plan: Mapping[str, Any]) -> str:
    """The audit plan as a Markdown checklist (every value escaped: no HTML, no links)."""
    lines = [
        f"# {e(plan['title'])}",
        "",
        f"Organization: {e(plan['organization'])}  ",
        f"Systems: {e(', '.join(plan['systems']) or 'none')}  ",
        f"Judged at {e(plan['evaluated_at'])} (configuration {e(plan['config_digest'][:12])}); "
        f"sample of up to {plan['sample_size']} records per item, seed {plan['seed']}.  ",
        f"Population: {plan['population_size']} records collected from "
        f"{e(plan['period']['from'] or 'the first record')} to {e(plan['period']['to'] or 'now')} "
        f"(digest `{e(plan['population_digest'])}`); evidence digest of the verdict "
        f"`{e(plan['evidence_digest'])}`.",
    ]
    group = None
    for item in plan["items"]:
        if item["group"] != group:
            group = item["group"]
            lines += ["", f"## {e(group)} {e(item['group_title'])}"]
        status = ", ".join(f"{k}: {v}" for k, v in item["status"].items()) or "not judged"
        lines += ["", f"### {e(item['id'])} {e(item['title'])}", "", f"Status now: {e(status)}", ""]
        lines += [f"- [ ] inspect {e(step)}" for step in item["inspect"]]
        for ref in item["declarations"]:
            lines.append(f"- [ ] check declaration `{e(ref)}`")
        if item["sample"]:
            lines += ["", f"Sample ({len(item['sample'])} of {item['population']} records):", ""]
            lines += [
                f"- [ ] `{e(s['id'])}` {e(s['kind'])} ({e(s['system'] or ORGANIZATION)}, "
                f"{e(s['collected_at'])}, {e(s['outcome'])}) sha256 `{e(s['content_hash'])}`"
                + ("" if s["cited_by_verdict"] else " (not cited by the verdict)")
                + (
                    f"\n  - [ ] read the document {e(str(s['document']))} (sha256 "
                    f"`{e(str(s['document_sha256'] or 'not verifiable by hash: a URL'))}`), "
                    f"attested by {e(str(s['attested_by']))}: does it show "
                    f"{e(str(s['statement']))}?"
                    if s.get("document")
                    else ""
                )
                for s in item["sample"]
            ]
        lines += ["", "Conclusion: ______"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ nonconformity register
def _next_number(register: Sequence[Mapping[str, Any]]) -> int:
    numbers = [0]
    for entry in register:
        ident = str(entry.get("id", ""))
        if ident.startswith("NC-") and ident[3:].isdigit():
            numbers.append(int(ident[3:]))
    return max(numbers) + 1


def nonconformities(
    judgement: PackJudgement, previous: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The register after this judgement (clause 10.2).

    A ``failing`` entry with no open nonconformity opens one; an open one closes when its entry
    is ``satisfied``. Entries of systems this judgement did not assess are left as they were.
    Previous entries keep their order; new ones follow, sorted by system and entry id.
    """
    assessment = judgement.assessment
    now = parse_moment(assessment.evaluated_at)
    verdicts = _verdicts(judgement)
    register = [dict(entry) for entry in previous or ()]
    open_keys: set[tuple[str | None, str]] = set()
    for entry in register:
        key = (entry.get("system"), str(entry.get("control")))
        if entry.get("status") != "open":
            continue
        verdict = verdicts.get(key)
        if verdict is not None and verdict.status == "satisfied":
            entry["status"] = "closed"
            entry["closed_at"] = _iso(now)
            entry["closing_evidence"] = list(verdict.evidence)
        else:
            open_keys.add(key)
    number = _next_number(register)
    failing = sorted(
        (key for key, v in verdicts.items() if v.status == "failing" and key not in open_keys),
        key=lambda k: (k[0] or "", k[1]),
    )
    for system, control in failing:
        verdict = verdicts[(system, control)]
        register.append(
            {
                "id": f"NC-{number:04d}",
                "system": system,
                "control": control,
                "title": verdict.title,
                "opened_at": _iso(now),
                "owner": verdict.owner,
                "reasons": list(verdict.reasons),
                "evidence": list(verdict.evidence),
                "corrective_action": verdict.how_to_close,
                "due": _iso(now + timedelta(days=NONCONFORMITY_DUE_DAYS)),
                "status": "open",
                "closed_at": None,
            }
        )
        number += 1
    return register


def default_register_path(judgement: PackJudgement) -> Path:
    """``.aims/nonconformities.json`` in the folder of the judged aims.yaml."""
    return Path(judgement.config_path).parent / REGISTER_PATH


def read_register(path: Path) -> list[dict[str, Any]]:
    """The register stored at ``path`` (empty when there is none yet)."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RegisterError(ERROR_REGISTER_UNREADABLE.format(path=path, error=exc)) from exc
    if not isinstance(data, list) or not all(
        isinstance(e, dict) and "control" in e and "status" in e for e in data
    ):
        raise RegisterError(
            ERROR_REGISTER_UNREADABLE.format(
                path=path, error="expected a list of entries with control and status"
            )
        )
    return data


def update_nonconformity_register(
    judgement: PackJudgement, path: Path | None = None
) -> list[dict[str, Any]]:
    """Read the register at ``path`` (default :func:`default_register_path`), update it with this
    judgement, write it back atomically and return it."""
    target = Path(path) if path is not None else default_register_path(judgement)
    register = nonconformities(judgement, read_register(target))
    write_atomically(target, json_bytes(register))
    return register


# ------------------------------------------------------------------------- management review
def _direction(first: float, last: float, *, higher_is_better: bool) -> str:
    if abs(last - first) < 1e-12:
        return "unchanged"
    return "improving" if (last > first) == higher_is_better else "worsening"


def _series(points: list[dict[str, Any]], *, higher_is_better: bool) -> dict[str, Any]:
    series: dict[str, Any] = {"points": points}
    if points:
        first, last = points[0]["value"], points[-1]["value"]
        series.update(
            first=first,
            last=last,
            change=round(last - first, 6),
            direction=_direction(first, last, higher_is_better=higher_is_better),
        )
    else:
        series.update(first=None, last=None, change=None, direction="no data")
    return series


def _metric_points(
    history: Sequence[EvidenceRecord], system: str, kind: str, metric: str
) -> list[dict[str, Any]]:
    chosen = sorted(
        (r for r in history if r.system == system and r.kind == kind and metric in r.metrics),
        key=lambda r: (r.collected_at, r.id),
    )
    return [
        {
            "at": r.collected_at,
            "value": r.metrics[metric],
            "record": r.id,
            "outcome": r.outcome,
            "model_version": r.subject.model_version,
        }
        for r in chosen
    ]


def conformity_trend(
    judgement: PackJudgement, history: Sequence[EvidenceRecord], *, checkpoints: int = 6
) -> dict[str, list[dict[str, Any]]]:
    """Each system's conformity score at ``checkpoints`` moments from its first evidence to now.

    Past points re-run the engine on the evidence collected by then, with today's aims.yaml and
    catalog, judging each system by its latest run at the time (the history of registry aliases is
    not recorded); the last point is the judgement's own score.
    """
    from aims_mlops.engine import assess

    assessment = judgement.assessment
    now = parse_moment(assessment.evaluated_at)
    systems = list(assessment.systems)
    times = sorted(r.collected for r in history)
    trend: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
    if times and checkpoints > 1 and times[0] < now:
        start, step = times[0], (now - times[0]) / (checkpoints - 1)
        for index in range(checkpoints - 1):
            moment = start + step * index
            past = assess(
                judgement.catalog,
                judgement.config,
                [r for r in history if r.collected <= moment],
                current_models={},
                now=moment,
                systems=systems,
            )
            for system in systems:
                trend[system].append({"at": _iso(moment), "value": past.systems[system].score})
    for system in systems:
        trend[system].append({"at": _iso(now), "value": assessment.systems[system].score})
    return trend


def _last_review(history: Iterable[EvidenceRecord]) -> EvidenceRecord | None:
    from aims_mlops.catalog import load_catalog

    clauses = set(load_catalog().controls_for_kind(REVIEW_KIND))
    reviews = [
        r
        for r in history
        if r.kind == REVIEW_KIND
        or (r.kind == "attestation" and any(c in clauses for c in r.controls))
    ]
    return max(reviews, key=lambda r: (r.collected_at, r.id)) if reviews else None


def _opportunities(
    judgement: PackJudgement, records: Mapping[str, EvidenceRecord], now: datetime
) -> list[dict[str, Any]]:
    catalog = judgement.catalog
    found: list[dict[str, Any]] = []
    for (system, control), verdict in sorted(
        _verdicts(judgement).items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
    ):
        if verdict.status != "satisfied":
            continue
        cited = [records[e] for e in verdict.evidence if e in records]
        only_attested = bool(cited) and len(cited) == len(verdict.evidence)
        only_attested = only_attested and all(r.kind == "attestation" for r in cited)
        entry = catalog.get(control)
        if only_attested and catalog.is_automatable(control):
            ways = list(entry.rule.kinds) or (
                [f"the aims.yaml declaration `{entry.rule.config_check}`"]
                if entry.rule.config_check
                else [f"the verdicts of {', '.join(entry.rule.derived_from)}"]
            )
            found.append(
                {
                    "type": "automate",
                    "system": system,
                    "control": control,
                    "title": verdict.title,
                    "detail": "satisfied only by a person's attestation; automated evidence "
                    f"({', '.join(ways)}) could keep it current without one",
                }
            )
        for record in cited:
            if record.kind == "attestation" and record.valid_until:
                left = parse_timestamp(record.valid_until) - now
                if left <= timedelta(days=RENEWAL_DAYS):
                    found.append(
                        {
                            "type": "renew",
                            "system": system,
                            "control": control,
                            "title": verdict.title,
                            "detail": f"attestation {record.id[:8]} by "
                            f"{record.details.get('by')} expires {record.valid_until}",
                        }
                    )
    seen: set[tuple[str | None, str]] = set()
    for sa in judgement.assessment.systems.values():
        for risk in sa.risks:
            if risk.above_appetite and (risk.system, risk.id) not in seen:
                seen.add((risk.system, risk.id))
                found.append(
                    {
                        "type": "treat-risk",
                        "system": risk.system,
                        "control": None,
                        "title": f"risk {risk.id}",
                        "detail": f"residual score {risk.residual} is above the appetite "
                        f"{risk.appetite}; owner {risk.owner}",
                    }
                )
    return found


def _incidents(records: Iterable[EvidenceRecord], now: datetime) -> list[dict[str, Any]]:
    """Every serious incident with its state (open, overdue, closed): see aims_mlops.eu_ai_act."""
    from aims_mlops.eu_ai_act import incident_rows

    return incident_rows(records, now=now)


def review_pack(
    judgement: PackJudgement,
    history: Iterable[EvidenceRecord] | None = None,
    *,
    since: str | date | datetime | None = None,
    register: list[dict[str, Any]] | None = None,
    checkpoints: int = 6,
) -> dict[str, Any]:
    """The inputs of a management review (clause 9.3.2), as JSON-ready data.

    ``history``: the evidence to compute trends and changes from (default: the judgement's
    records). ``since``: the start of "changes since the last review" (default: the latest
    attestation of a management review, clauses 9.3.x; else 90 days before the judgement).
    ``register``: the nonconformity register (default: :func:`nonconformities` of this judgement
    alone).
    """
    assessment = judgement.assessment
    now = parse_moment(assessment.evaluated_at)
    records = list(history) if history is not None else list(judgement.records)
    index = {r.id: r for r in [*judgement.records, *records]}
    last_review = _last_review(records)
    if since is not None:
        start, source = parse_moment(since), "given"
    elif last_review is not None:
        start = last_review.collected
        source = f"last management review {last_review.kind} {last_review.id}"
    else:
        start = now - timedelta(days=DEFAULT_REVIEW_DAYS)
        source = f"default: {DEFAULT_REVIEW_DAYS} days before the judgement"
    new = sorted((r for r in records if r.collected > start), key=lambda r: (r.collected_at, r.id))
    nc = register if register is not None else nonconformities(judgement, None)
    open_nc = {(e.get("system"), e.get("control")): e["id"] for e in nc if e["status"] == "open"}
    actions = []
    for gap in assessment.readiness.gaps:
        action = gap.to_dict()
        action["nonconformity"] = open_nc.get((gap.system, gap.control))
        actions.append(action)
    systems = list(assessment.systems)
    scores = conformity_trend(judgement, records, checkpoints=checkpoints)
    return {
        "title": "Management review inputs (ISO/IEC 42001 clause 9.3)",
        "organization": judgement.config.organization.name,
        "evaluated_at": assessment.evaluated_at,
        "config_digest": assessment.config_digest,
        "since": _iso(start),
        "since_source": source,
        "systems": [
            {
                "system": sa.system,
                "name": sa.name,
                "owner": sa.owner,
                "score": sa.score,
                "counts": sa.counts(),
                "risks_above_appetite": [r.id for r in sa.risks_above_appetite],
            }
            for sa in assessment.systems.values()
        ],
        "readiness": assessment.readiness.overall,
        "actions": actions,
        "changes": {
            "records": len(new),
            "by_kind": dict(sorted(Counter(r.kind for r in new).items())),
            "by_system": dict(sorted(Counter(r.system or ORGANIZATION for r in new).items())),
            "failing_or_error": [_brief(r) for r in new if r.outcome in ("fail", "error")],
            "new_records": [_brief(r) for r in new],
        },
        "trends": {
            "conformity_score": {s: _series(scores[s], higher_is_better=True) for s in systems},
            "demographic_parity_difference": {
                s: _series(
                    _metric_points(records, s, "fairness", "demographic_parity_difference"),
                    higher_is_better=False,
                )
                for s in systems
            },
            "data_quality_success_percent": {
                s: _series(
                    _metric_points(records, s, "data_quality", "success_percent"),
                    higher_is_better=True,
                )
                for s in systems
            },
        },
        "incidents": _incidents(records, now),
        "nonconformities": {
            "open": [e for e in nc if e["status"] == "open"],
            "closed_since": [
                e
                for e in nc
                if e["status"] == "closed"
                and e.get("closed_at")
                and parse_moment(e["closed_at"]) > start
            ],
        },
        "opportunities": _opportunities(judgement, index, now),
        "context": _context(judgement, records, start, last_review),
        "monitoring": _monitoring(records, systems),
        "audits": _audits(records, start),
    }


#: the catalog group whose documents describe the organization's context and interested parties
CONTEXT_GROUP = "4"
#: the kinds whose records are monitoring results
MONITORING_KINDS = ("monitoring", "monitoring.traces")


def _context(
    judgement: PackJudgement,
    records: Iterable[EvidenceRecord],
    start: datetime,
    last_review: EvidenceRecord | None,
) -> dict[str, Any]:
    """Changes in external and internal issues and in interested parties (9.3.2 b, c): the
    attested context documents (clause 4) with whether each changed since ``start``, and whether
    aims.yaml changed since the last review."""
    catalog = judgement.catalog
    ids = {e.id for e in catalog.entries if e.group == CONTEXT_GROUP}
    documents = []
    for entry_id in sorted(ids):
        attested = [r for r in records if r.kind == "attestation" and entry_id in r.controls]
        latest = max(attested, key=lambda r: (r.collected_at, r.id)) if attested else None
        documents.append(
            {
                "entry": entry_id,
                "title": catalog.get(entry_id).title,
                "attestation": latest.id if latest else None,
                "document": latest.details.get("document") if latest else None,
                "document_sha256": latest.details.get("document_sha256") if latest else None,
                "changed_since": bool(latest and latest.collected > start),
            }
        )
    previous = last_review.config_digest if last_review is not None else None
    current = judgement.assessment.config_digest
    return {
        "documents": documents,
        "configuration": {
            "digest": current,
            "at_last_review": previous,
            "changed": previous is not None and previous != current,
        },
    }


def _monitoring(records: Iterable[EvidenceRecord], systems: Iterable[str]) -> dict[str, Any]:
    """The latest monitoring result of each system (9.3.2 d: monitoring results)."""
    listed = [r for r in records if r.kind in MONITORING_KINDS]
    found: dict[str, Any] = {}
    for system in systems:
        own = [r for r in listed if r.system == system]
        latest = max(own, key=lambda r: (r.collected_at, r.id)) if own else None
        found[system] = (
            None
            if latest is None
            else {**_brief(latest), "metrics": dict(latest.metrics), "batches": len(own)}
        )
    return found


def _audits(records: Iterable[EvidenceRecord], start: datetime) -> list[dict[str, Any]]:
    """The internal audits since ``start`` with their findings (9.3.2 d: audit results)."""
    return [
        {
            **_brief(r),
            "auditor": r.details.get("auditor"),
            "scope": list(r.details.get("scope") or ()),
            "audited_on": r.details.get("audited_on"),
            "findings": len(r.details.get("findings") or ()),
        }
        for r in sorted(records, key=lambda r: (r.collected_at, r.id))
        if r.kind == "internal_audit" and r.collected > start
    ]


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def review_pack_markdown(pack: Mapping[str, Any]) -> str:
    """The management review inputs as Markdown (every value escaped: no HTML, no links)."""
    lines = [
        f"# {e(pack['title'])}",
        "",
        f"Organization: {e(pack['organization'])}  ",
        f"Judged at {e(pack['evaluated_at'])} (configuration {e(pack['config_digest'][:12])}); "
        f"changes since {e(pack['since'])} ({e(pack['since_source'])}).",
        "",
        "## Systems",
        "",
        "| system | owner | score | risks above appetite |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {e(s['system'])} | {e(s['owner'])} | {percent(s['score'])} | "
        f"{e(', '.join(s['risks_above_appetite']) or 'none')} |"
        for s in pack["systems"]
    ]
    lines += ["", f"## Status of actions ({len(pack['actions'])} open gaps)", ""]
    lines += [
        f"- {e(a['control'])} ({e(a['system'] or ORGANIZATION)}, {e(a['status'])}), owner "
        f"{e(a['owner'])}"
        + (f", nonconformity {e(a['nonconformity'])}" if a["nonconformity"] else "")
        + f": {e(a['how_to_close'])}"
        for a in pack["actions"]
    ] or ["- none"]
    changes = pack["changes"]
    lines += ["", "## Changes since the last review", "", f"{changes['records']} records collected"]
    lines += [f"- {e(kind)}: {n}" for kind, n in changes["by_kind"].items()]
    lines += ["", "## Trends", ""]
    for name, per_system in pack["trends"].items():
        for system, series in per_system.items():
            lines.append(
                f"- {e(name)} of {e(system)}: {e(_fmt(series['first']))} → "
                f"{e(_fmt(series['last']))} ({e(series['direction'])}, "
                f"{len(series['points'])} points)"
            )
    nc = pack["nonconformities"]
    lines += ["", f"## Nonconformities ({len(nc['open'])} open)", ""]
    lines += [
        f"- {e(n['id'])} {e(n['control'])} ({e(n['system'] or ORGANIZATION)}), owner "
        f"{e(n['owner'])}, due {e(n['due'])}: {e(n['corrective_action'])}"
        for n in nc["open"]
    ] or ["- none open"]
    lines += [
        f"- closed: {e(n['id'])} {e(n['control'])} on {e(n['closed_at'])}"
        for n in nc["closed_since"]
    ]
    incidents = pack.get("incidents") or []
    lines += ["", f"## Serious incidents ({len(incidents)})", ""]
    lines += [
        f"- {e(i['id'][:8])} {e(i['system'])}: {e(i['incident_kind'])}, {e(i['state'])}, "
        f"deadline {e(i['deadline'])}"
        + (f", reported {e(i['reported_on'])}" if i["reported_on"] else "")
        for i in incidents
    ] or ["- none recorded"]
    context = pack.get("context") or {"documents": [], "configuration": {}}
    lines += ["", "## Changes in context and interested parties", ""]
    lines += [
        f"- {e(d['entry'])} {e(d['title'])}: "
        + (
            f"{e(d['document'])} (attestation {e(d['attestation'][:8])}"
            f"{', changed since the last review' if d['changed_since'] else ''})"
            if d["attestation"]
            else "no attested document"
        )
        for d in context["documents"]
    ] or ["- none"]
    configuration = context.get("configuration") or {}
    lines.append(
        f"- aims.yaml {e(str(configuration.get('digest', ''))[:12])}: "
        + ("changed since the last review" if configuration.get("changed") else "unchanged")
    )
    lines += ["", "## Monitoring results", ""]
    lines += [
        f"- {e(system)}: "
        + (
            f"latest {e(m['collected_at'])} {e(m['outcome'])} ({m['batches']} batches)"
            if m
            else "no monitoring recorded"
        )
        for system, m in (pack.get("monitoring") or {}).items()
    ] or ["- none"]
    audits = pack.get("audits") or []
    lines += ["", f"## Internal audit results ({len(audits)})", ""]
    lines += [
        f"- {e(a['id'][:8])} by {e(a['auditor'])} on {e(a['audited_on'])} over "
        f"{e(', '.join(a['scope']))}: {a['findings']} findings"
        for a in audits
    ] or ["- none since the last review"]
    lines += ["", "## Opportunities for improvement", ""]
    lines += [
        f"- {e(o['type'])}: {e(o['title'])} ({e(o['system'] or ORGANIZATION)}): {e(o['detail'])}"
        for o in pack["opportunities"]
    ] or ["- none"]
    return "\n".join(lines) + "\n"
