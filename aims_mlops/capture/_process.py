"""Recording the AIMS's own processes: internal audits (9.2), management reviews (9.3) and the
nonconformity register's changes (10.2), each an evidence record in the store.

- :func:`record_internal_audit`: the auditor may not own a system or entry in the audit's scope
  (refused, naming the conflict); the report is hashed and attached; each finding opens a
  nonconformity.
- :func:`record_management_review`: the minutes are hashed; the review pack of that moment (the
  inputs, :func:`aims_mlops.reports.review_pack`) is attached and hashed; the decisions are kept.
- :func:`sync_register`, :func:`update_nonconformity`, :func:`verify_nonconformity`: the
  register's changes (see :mod:`aims_mlops.reports._register`).

Each function takes ``config`` (a path or an :class:`~aims_mlops.config.AimsConfig`) and an
optional ``store``, builds its records purely (the builders here and in
:mod:`aims_mlops.reports._register`) and hands them to the one writer through a capture context
of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from aims_mlops._errors import AimsError
from aims_mlops.capture._acts import act_signing_key
from aims_mlops.capture._context import CaptureContext
from aims_mlops.capture._writer import emit
from aims_mlops.catalog import catalog_record, load_catalog
from aims_mlops.config import AimsConfig, config_digest, default_config_path, load_config
from aims_mlops.engine._programme import (
    approver_problem,
    auditor_problem,
    conflicts,
    covers,
)
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.evidence._documents import TEMPLATE_MARKERS
from aims_mlops.judgement import judge
from aims_mlops.reports._audit import review_pack
from aims_mlops.reports._pack import json_bytes
from aims_mlops.reports._register import (
    NcCandidate,
    SyncPlan,
    integrity_candidates,
    opening_record,
    plan_sync,
    register_rows,
    update_record,
    verify_record,
)
from aims_mlops.store import make_store

if TYPE_CHECKING:
    from aims_mlops.evidence import SigningKey
    from aims_mlops.store import EvidenceStore

AUDIT_KIND = "internal_audit"
REVIEW_KIND = "management_review"
AUDIT_COLLECTOR = "aims_mlops.record_internal_audit"
REVIEW_COLLECTOR = "aims_mlops.record_management_review"
#: The review pack sections a management review takes as its inputs (clause 9.3.2).
REVIEW_INPUTS = (
    "actions",
    "changes",
    "context",
    "trends",
    "incidents",
    "nonconformities",
    "monitoring",
    "audits",
    "opportunities",
    "readiness",
    "systems",
)
#: Texts that are no document at all.
DUMMY_TEXTS = frozenset({"-", "--", ".", "n/a", "na", "none", "null", "tbd", "todo", "x", "xxx"})

ERROR_NOT_INDEPENDENT = (
    "{auditor} may not audit {item}: {auditor} {what}; an internal audit needs an auditor "
    "independent of what is audited"
)
ERROR_NOT_AN_AUDITOR = "{auditor} may not perform internal audits: {problem}"
ERROR_UNKNOWN_SCOPE = (
    "--scope {item!r} is neither a system of aims.yaml ({systems}) nor a catalog entry or group"
)
ERROR_EMPTY_SCOPE = "--scope names nothing: give systems and/or catalog entries, comma-separated"
ERROR_NO_FILE = "{option} {path}: no such file (give the document itself: it is hashed)"
ERROR_BLANK_FILE = "{option} {path} is empty or a placeholder: give the real document"
ERROR_BLANK_NAME = "{option} must name a person or role"
ERROR_SMALL_FILE = (
    "{option} {path} holds {size} bytes, below the {minimum} a record of the AIMS needs "
    "(capture.min_document_bytes): give the real document"
)
ERROR_TEMPLATE_FILE = "{option} {path} still holds the template placeholder {marker!r}"
ERROR_BAD_LIST = (
    "{path}: {option} must be a YAML or JSON list of mappings each with {key!r}; {problem}"
)
ERROR_FUTURE_DATE = "--date {day} is in the future (today is {today})"
ERROR_NOT_APPROVER = "{problem} (approvers in aims.yaml)"


class ProcessRecordError(AimsError):
    """An audit, review or register change that cannot be recorded as given."""


@dataclass(frozen=True, kw_only=True)
class RecordedAudit:
    """An internal audit and the nonconformities its findings opened."""

    record: EvidenceRecord
    nonconformities: tuple[EvidenceRecord, ...] = ()


# ------------------------------------------------------------------------------- helpers
def _config(config: str | os.PathLike[str] | AimsConfig | None) -> tuple[AimsConfig, Path]:
    if isinstance(config, AimsConfig):
        return config, Path("aims.yaml")
    path = Path(config) if config is not None else default_config_path()
    return load_config(path), path


def _judged(
    given: str | os.PathLike[str] | AimsConfig | None, cfg: AimsConfig, path: Path
) -> AimsConfig | Path:
    """What to judge with: the file (so the approved configuration counts), or the object given."""
    return cfg if isinstance(given, AimsConfig) else path


def is_placeholder(text: str) -> bool:
    """Whether ``text`` says nothing (blank, ``-``, ``n/a``, ``TBD``, ...)."""
    return " ".join(text.split()).casefold() in DUMMY_TEXTS or not text.strip()


def document_bytes(
    path: str | os.PathLike[str], *, option: str, min_bytes: int = 1
) -> tuple[Path, bytes]:
    """The bytes of a document that must exist and say something: not a placeholder, at least
    ``min_bytes`` (``capture.min_document_bytes`` for a report or minutes), no template
    placeholder left."""

    if is_placeholder(str(path)):
        raise ProcessRecordError(ERROR_BLANK_FILE.format(option=option, path=path))
    file = Path(path)
    if not file.is_file():
        raise ProcessRecordError(ERROR_NO_FILE.format(option=option, path=path))
    data = file.read_bytes()
    text = data.decode("utf-8", errors="replace")
    if is_placeholder(text):
        raise ProcessRecordError(ERROR_BLANK_FILE.format(option=option, path=path))
    if len(data) < min_bytes:
        raise ProcessRecordError(
            ERROR_SMALL_FILE.format(option=option, path=path, size=len(data), minimum=min_bytes)
        )
    marker = next((m for m in TEMPLATE_MARKERS if m.casefold() in text.casefold()), None)
    if min_bytes > 1 and marker is not None:
        raise ProcessRecordError(
            ERROR_TEMPLATE_FILE.format(option=option, path=path, marker=marker)
        )
    return file, data


def _name(value: str | None, option: str) -> str:
    if value is None or is_placeholder(value):
        raise ProcessRecordError(ERROR_BLANK_NAME.format(option=option))
    return " ".join(value.split())


def read_items(
    path: str | os.PathLike[str] | None, *, option: str, key: str
) -> list[dict[str, Any]]:
    """A YAML or JSON list of mappings, each with a non-blank ``key`` (None: empty)."""
    if path is None:
        return []
    _, data = document_bytes(path, option=option)
    try:
        items = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProcessRecordError(
            ERROR_BAD_LIST.format(path=path, option=option, key=key, problem=exc)
        ) from exc
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get(key), str) and i[key].strip() for i in items
    ):
        raise ProcessRecordError(
            ERROR_BAD_LIST.format(
                path=path, option=option, key=key, problem="an item lacks it or is not a mapping"
            )
        )
    return [json.loads(json.dumps(i, default=str)) for i in items]


def _day(value: str | dt.date | None, today: dt.date) -> dt.date:
    if value is None:
        return today
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    if day > today:
        raise ProcessRecordError(
            ERROR_FUTURE_DATE.format(day=day.isoformat(), today=today.isoformat())
        )
    return day


def _write(
    config: AimsConfig,
    store: EvidenceStore | None,
    record: EvidenceRecord,
    artifacts: dict[str, bytes] | None = None,
    *,
    key: SigningKey | None = None,
    config_path: Path | None = None,
) -> EvidenceRecord:
    """Store ``record`` through the one writer: a person's act signed with their ``key``, else
    with the pipeline's."""
    context = CaptureContext.from_config(
        config, store=store, system=record.system, config_path=config_path
    )
    return emit(replace(context, act_key=key), record, artifacts=artifacts)


def _act_key(
    cfg: AimsConfig, path: Path, by: str | None, key: SigningKey | str | os.PathLike[str] | None
) -> tuple[str | None, SigningKey | None]:
    """The person acting and their key (:func:`aims_mlops.capture._acts.act_signing_key`)."""
    return act_signing_key(cfg, config_path=path, by=by, key=key)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------- internal audit
def check_scope(
    config: AimsConfig,
    auditor: str,
    scope: Sequence[str],
    records: Iterable[EvidenceRecord] = (),
) -> list[str]:
    """The scope as given, refused when an item is unknown, or ``auditor`` owns, attested,
    accepted or approved something of it (``records``: the acts on record), or may not audit."""
    catalog = load_catalog()
    items = [s.strip() for s in scope if s.strip()]
    if not items:
        raise ProcessRecordError(ERROR_EMPTY_SCOPE)
    systems = {s.id for s in config.systems}
    for item in items:
        if item not in systems and not any(
            covers(item, e.id) or e.group == item for e in catalog.entries
        ):
            raise ProcessRecordError(
                ERROR_UNKNOWN_SCOPE.format(item=item, systems=", ".join(sorted(systems)))
            )
    found = conflicts(config, catalog, auditor, items, records)
    if found:
        item, what = found[0]
        raise ProcessRecordError(
            ERROR_NOT_INDEPENDENT.format(auditor=auditor, item=item, what=what)
        )
    problem = auditor_problem(config, auditor)
    if problem is not None:
        raise ProcessRecordError(ERROR_NOT_AN_AUDITOR.format(auditor=auditor, problem=problem))
    return items


def internal_audit_record(
    *,
    auditor: str,
    scope: Sequence[str],
    report: Path,
    report_bytes: bytes,
    findings: Sequence[dict[str, Any]],
    audited_on: dt.date,
    now: dt.datetime,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``internal_audit`` record (pure)."""
    return catalog_record(
        kind=AUDIT_KIND,
        system=None,
        outcome="pass",
        collector=AUDIT_COLLECTOR,
        details={
            "auditor": auditor,
            "scope": list(scope),
            "report": str(report),
            "report_sha256": hashlib.sha256(report_bytes).hexdigest(),
            "audited_on": audited_on.isoformat(),
            "findings": list(findings),
            "summary": f"internal audit of {', '.join(scope)} by {auditor}: "
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''}",
        },
        config_digest=config_digest,
        collected_at=_iso(now),
    )


def finding_candidates(
    audit: EvidenceRecord, config: AimsConfig, findings: Iterable[dict[str, Any]]
) -> list[NcCandidate]:
    """One nonconformity per finding (its entry and system when it names them)."""
    found = []
    for finding in findings:
        system = finding.get("system")
        system = system if system in {s.id for s in config.systems} else None
        found.append(
            NcCandidate(
                entry=finding.get("entry"),
                system=system,
                source=AUDIT_KIND,
                reasons=(f"finding of internal audit {audit.id[:8]}: {finding['statement']}",),
                title=str(finding.get("title") or finding["statement"])[:120],
                owner=finding.get("owner"),
                evidence=(audit.id,),
                statement=str(finding["statement"]),
            )
        )
    return found


def record_internal_audit(
    *,
    auditor: str,
    scope: Sequence[str],
    report: str | os.PathLike[str],
    findings: str | os.PathLike[str] | None = None,
    date: str | dt.date | None = None,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    store: EvidenceStore | None = None,
    now: dt.datetime | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> RecordedAudit:
    """Record an internal audit (clause 9.2) and open a nonconformity per finding. The audit
    is the auditor's act, signed with their own ``key`` (default ``$AIMS_PERSON_KEY``)."""
    cfg, cfg_path = _config(config)
    moment = now or _now()
    who = _name(auditor, "--auditor")
    named, signing = _act_key(cfg, cfg_path, who, key)
    who = named or who
    evidence_store = store or make_store(cfg)
    acts = evidence_store.records(kinds=["attestation", REVIEW_KIND])
    items = check_scope(cfg, who, scope, acts)
    path, data = document_bytes(report, option="--report", min_bytes=cfg.capture.min_document_bytes)
    listed = read_items(findings, option="--findings", key="statement")
    record = internal_audit_record(
        auditor=who,
        scope=items,
        report=path.resolve(),
        report_bytes=data,
        findings=listed,
        audited_on=_day(date, moment.date()),
        now=moment,
        config_digest=config_digest(cfg),
    )
    stored = _write(
        cfg,
        evidence_store,
        record,
        {f"internal_audit/{path.name}": data},
        key=signing,
        config_path=cfg_path,
    )
    opened = tuple(
        _write(cfg, evidence_store, opening_record(c, now=moment, config_digest=config_digest(cfg)))
        for c in finding_candidates(stored, cfg, listed)
    )
    return RecordedAudit(record=stored, nonconformities=opened)


# ---------------------------------------------------------------------- management review
def management_review_record(
    *,
    chair: str,
    attendees: Sequence[str],
    minutes: Path,
    minutes_bytes: bytes,
    decisions: Sequence[dict[str, Any]],
    pack: dict[str, Any],
    pack_bytes: bytes,
    evidence_digest: str,
    reviewed_on: dt.date,
    now: dt.datetime,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``management_review`` record (pure)."""
    return catalog_record(
        kind=REVIEW_KIND,
        system=None,
        outcome="pass",
        collector=REVIEW_COLLECTOR,
        details={
            "chair": chair,
            "attendees": list(attendees),
            "minutes": str(minutes),
            "minutes_sha256": hashlib.sha256(minutes_bytes).hexdigest(),
            "reviewed_on": reviewed_on.isoformat(),
            "decisions": list(decisions),
            "inputs_sha256": hashlib.sha256(pack_bytes).hexdigest(),
            "inputs": {
                "sections": [s for s in REVIEW_INPUTS if s in pack],
                "evaluated_at": pack.get("evaluated_at"),
                "since": pack.get("since"),
                "readiness": pack.get("readiness"),
                "open_nonconformities": len(pack.get("nonconformities", {}).get("open", ())),
                "evidence_digest": evidence_digest,
            },
            "summary": f"management review chaired by {chair}: {len(decisions)} decision"
            f"{'s' if len(decisions) != 1 else ''}",
        },
        config_digest=config_digest,
        collected_at=_iso(now),
    )


def record_management_review(
    *,
    chair: str,
    minutes: str | os.PathLike[str],
    attendees: Sequence[str] = (),
    decisions: str | os.PathLike[str] | None = None,
    date: str | dt.date | None = None,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    store: EvidenceStore | None = None,
    now: dt.datetime | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Record a management review (clause 9.3) with the review pack of this moment attached;
    the chair's act, signed with their own ``key`` (default ``$AIMS_PERSON_KEY``)."""
    cfg, path = _config(config)
    moment = now or _now()
    who = _name(chair, "--chair")
    named, signing = _act_key(cfg, path, who, key)
    who = named or who

    catalog = load_catalog()
    for entry in catalog.controls_for_kind(REVIEW_KIND):
        problem = approver_problem(cfg, entry, who, role=catalog.get(entry).authority)
        if problem is not None:
            raise ProcessRecordError(ERROR_NOT_APPROVER.format(problem=problem))
    minutes_path, data = document_bytes(
        minutes, option="--minutes", min_bytes=cfg.capture.min_document_bytes
    )
    listed = read_items(decisions, option="--decisions", key="decision")
    # from a file: judged with the approved configuration (the ledger), as every verdict is
    judgement = judge(config=_judged(config, cfg, path), store=store, now=moment)
    judgement = _with_path(judgement, path)
    register = register_rows(judgement.records, now=moment)
    pack = review_pack(judgement, register=register)
    pack_bytes = json_bytes(pack)
    record = management_review_record(
        chair=who,
        attendees=[a.strip() for a in attendees if a.strip()],
        minutes=minutes_path.resolve(),
        minutes_bytes=data,
        decisions=listed,
        pack=pack,
        pack_bytes=pack_bytes,
        evidence_digest=judgement.evidence_digest,
        reviewed_on=_day(date, moment.date()),
        now=moment,
        config_digest=config_digest(cfg),
    )
    return _write(
        cfg,
        store or judgement.store,
        record,
        {
            "management_review/inputs.json": pack_bytes,
            f"management_review/{minutes_path.name}": data,
        },
        key=signing,
        config_path=path,
    )


def _with_path(judgement: Any, path: Path) -> Any:
    return replace(judgement, config_path=path)


# ------------------------------------------------------------------------------ register
def sync_register(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    store: EvidenceStore | None = None,
    extra: Iterable[NcCandidate] = (),
    now: dt.datetime | None = None,
) -> SyncPlan:
    """Bring the nonconformity register up to date (open and close) and write its records."""
    cfg, cfg_path = _config(config)
    judgement = judge(
        config=_judged(config, cfg, cfg_path), store=store, now=now, full_history=True
    )
    # every record that failed verification opens a nonconformity (once)
    found = integrity_candidates(judgement.integrity_findings)
    plan = plan_sync(judgement, extra=[*found, *extra])
    for record in plan.records:
        _write(cfg, judgement.store, record)
    return plan


def _register_records(cfg: AimsConfig, store: EvidenceStore | None) -> tuple[Any, list[Any]]:
    evidence_store = store or make_store(cfg)
    return evidence_store, list(evidence_store.records(kinds=["nonconformity"]))


def update_nonconformity(
    ident: str,
    *,
    root_cause: str,
    correction: str,
    action: str,
    owner: str,
    due: str | dt.date,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    store: EvidenceStore | None = None,
    now: dt.datetime | None = None,
    by: str | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Record the corrective action of nonconformity ``ident`` (id or unambiguous prefix):
    ``by``'s act (default: the holder of ``key``), signed with their own key."""
    cfg, cfg_path = _config(config)
    named, signing = _act_key(cfg, cfg_path, by, key)
    evidence_store, records = _register_records(cfg, store)
    day = due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due).strip())
    record = update_record(
        records,
        ident,
        root_cause=root_cause,
        correction=correction,
        action=action,
        owner=owner,
        due=day,
        now=now or _now(),
        by=named,
    )
    return _write(cfg, evidence_store, record, key=signing, config_path=cfg_path)


def verify_nonconformity(
    ident: str,
    *,
    by: str,
    note: str,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    store: EvidenceStore | None = None,
    now: dt.datetime | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Record that the corrective action of ``ident`` was checked and found effective: ``by``'s
    act, signed with their own ``key`` (default ``$AIMS_PERSON_KEY``)."""
    cfg, cfg_path = _config(config)
    named, signing = _act_key(cfg, cfg_path, by, key)
    evidence_store, records = _register_records(cfg, store)
    record = verify_record(records, ident, by=named or by, note=note, now=now or _now())
    return _write(cfg, evidence_store, record, key=signing, config_path=cfg_path)
