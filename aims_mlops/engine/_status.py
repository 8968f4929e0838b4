"""Control status: how one catalog entry is judged for one system (or once for the organization).

Which records count
    A system-scope entry is judged per system on the records with ``record.system`` equal to that
    system. An organization-scope entry is judged once on the records with ``system`` None and the
    same verdict is used for every system. An ``error`` record counts as a record of the kind it
    tried to produce (``details["collector_kind"]``).

Current, or stale
    A run-level record (its subject names a run, a model version, or, for ``data_quality``,
    dataset digests) is CURRENT for a system with a current model when
    ``subject.model_version == current.version`` (and the model names match when both are set), or
    ``subject.run_id == current.run_id``, or (``data_quality`` only) its dataset digests intersect
    the current model's. A record about another model version, run or dataset is stale, and the
    reason names both. With no current model the system's current run is the run of its most
    recent record that names a run; records of other runs are stale (the same holds for a
    current model that names no version, run or dataset). Records without run or model
    (attestations, impact assessments, ...) are current unless expired.
    Any record is stale when older than the rule's ``fresh_days`` (for rules that follow the
    monitoring interval: the system's ``monitoring.interval_days`` when declared) or past its
    ``valid_until``.

Paths of a rule
    kinds
        For each kind take the latest current record (by ``collected_at``). A latest ``fail`` →
        failing; a latest ``error`` → missing (the collector failed); all kinds ``pass``/``info`` →
        satisfied; a kind with only non-current records → stale; a kind with no record → missing.
    attestation
        A current ``attestation`` record of the same scope whose ``controls`` include the entry
        satisfies it.
    config_check
        A declaration in ``aims.yaml``, checked purely from the configuration (evidence id
        ``config:<digest[:12]>#<path>``, e.g. ``config:ab12cd34ef56#systems[0].owner``):
        ``owner_named`` (the system names an owner), ``scope_declared`` (``aims_scope`` and at
        least one in-scope system), ``intended_use_declared``, ``requirements_declared`` (intended
        use and performance, fairness or data-quality requirements), ``thresholds_declared``
        (performance or fairness thresholds), ``impact_assessment`` (declared, and assessed
        within ``fresh_days`` of now, else stale), ``risk_register`` (at least one risk),
        ``risk_treatment`` (every risk above appetite has a treatment other than accept, a
        mitigated one names controls; else failing; no risks: missing), ``soa_decided``
        (always: the configuration validated, so every exclusion is justified) and
        ``monitoring_declared``. For an organization-scope entry a per-system check must hold
        for every in-scope system (``risk_treatment``: every risk of the register).
    derived_from
        Satisfied when every named entry is satisfied or not applicable; else the worst of them.

Duties with a deadline
    A record whose details carry a ``deadline`` (``YYYY-MM-DD``; a serious incident to report)
    is a duty. It is closed by its own ``closed_on`` or by a later record of the same kind whose
    ``closes`` names it. When a kind's records are duties, they are judged together, whatever
    their age: an open duty past its deadline → failing (naming each one); else satisfied when
    at least one was closed, and missing when all are still open within their deadline (a duty
    never passes before it is done). An organization-scope verdict sees the duties of every
    system assessed with it: an unreported incident of any system is the organization's failure.

Combination
    An entry excluded in the Statement of Applicability is ``not_applicable`` with the
    justification as its reason. Otherwise it is ``satisfied`` when any path satisfies it and the
    kinds path is not failing (automated evidence saying no is not overridden by a signature);
    else the worst path status, ``failing`` > ``stale`` > ``missing``. Every path's reasons are
    reported, with the ids of the records behind them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import CatalogError
from aims_mlops.catalog import CONFIG_CHECKS
from aims_mlops.engine._results import (
    FAILING,
    MISSING,
    NOT_APPLICABLE,
    SATISFIED,
    STALE,
    ControlStatus,
    CurrentModel,
)
from aims_mlops.evidence import EvidenceRecord, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.catalog import CatalogEntry
    from aims_mlops.config import AimsConfig, SystemConfig

#: Passing checks listed in a satisfied reason (the rest are counted).
MAX_LISTED_CHECKS = 10

#: Rank of the non-satisfied path statuses: the highest rank wins when no path satisfies.
_SEVERITY: dict[str, int] = {MISSING: 1, STALE: 2, FAILING: 3}

ERROR_UNKNOWN_CONFIG_CHECK = "the engine implements no config check named {name!r}"


def worst(statuses: Iterable[str]) -> str:
    """The most severe of non-satisfied statuses: failing > stale > missing."""
    ranked = [s for s in statuses if s in _SEVERITY]
    return max(ranked, key=_SEVERITY.__getitem__) if ranked else MISSING


def short_id(record_id: str) -> str:
    return record_id[:8]


def _day(timestamp: str) -> str:
    return timestamp[:10]


@dataclass(frozen=True, slots=True)
class PathResult:
    """The verdict of one path of a rule."""

    status: str
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """The evidence one verdict is based on: a system's records (or the organization's)."""

    system: str | None
    records: tuple[EvidenceRecord, ...]
    current: CurrentModel | None
    latest_run: str | None
    monitoring_days: int | None = None

    @classmethod
    def build(
        cls,
        *,
        system: str | None,
        records: Iterable[EvidenceRecord],
        current: CurrentModel | None,
        monitoring_days: int | None = None,
    ) -> Scope:
        mine = tuple(r for r in records if r.system == system or (system is None and is_duty(r)))
        with_run = [r for r in mine if r.subject.run_id]
        latest = max(with_run, key=_order).subject.run_id if with_run else None
        return cls(
            system=system,
            records=mine,
            current=current,
            latest_run=latest,
            monitoring_days=monitoring_days,
        )

    @property
    def label(self) -> str:
        return self.system if self.system is not None else "the organization"


def _order(record: EvidenceRecord) -> tuple[datetime, str]:
    return (record.collected, record.id)


def record_kind(record: EvidenceRecord) -> str:
    """The kind a record speaks for: an ``error`` record speaks for the kind it failed to make."""
    if record.kind == "error":
        return str(record.details.get("collector_kind") or "error")
    return record.kind


def record_label(record: EvidenceRecord) -> str:
    """``fairness record 3f2a1b2c (2026-11-20)``."""
    kind = record_kind(record)
    noun = "collector error" if record.kind == "error" else "record"
    return f"{kind} {noun} {short_id(record.id)} ({_day(record.collected_at)})"


# --------------------------------------------------------------------------- relevance / staleness
def _is_run_level(record: EvidenceRecord) -> bool:
    subject = record.subject
    return bool(
        subject.run_id
        or subject.model_version is not None
        or (record_kind(record) == "data_quality" and subject.dataset_digests)
    )


def _digests(values: Sequence[str]) -> str:
    return ", ".join(d[:12] for d in values)


def _model_mismatch(record: EvidenceRecord, current: CurrentModel) -> str | None:
    """None when the record is about the current model; else why it is not."""
    subject = record.subject
    names_match = not (subject.model_name and current.name) or subject.model_name == current.name
    if (
        current.version is not None
        and subject.model_version is not None
        and subject.model_version == current.version
        and names_match
    ):
        return None
    if current.run_id and subject.run_id == current.run_id:
        return None
    if (
        record_kind(record) == "data_quality"
        and current.dataset_digests
        and set(subject.dataset_digests) & set(current.dataset_digests)
    ):
        return None
    label = record_label(record)
    if subject.model_version is not None and current.version is not None:
        other = f"{subject.model_name or current.name} version {subject.model_version}"
        return f"{label} is about {other}, not the current {current.describe()}"
    if subject.run_id and current.run_id:
        return (
            f"{label} is about run {subject.run_id[:8]}, not run {current.run_id[:8]} of the "
            f"current {current.describe()}"
        )
    if subject.dataset_digests and current.dataset_digests:
        return (
            f"{label} is about dataset {_digests(subject.dataset_digests)}, not the dataset "
            f"{_digests(current.dataset_digests)} of the current {current.describe()}"
        )
    return f"{label} is not about the current {current.describe()}"


def _has_identity(current: CurrentModel) -> bool:
    return bool(current.version is not None or current.run_id or current.dataset_digests)


def staleness(
    record: EvidenceRecord, scope: Scope, *, now: datetime, fresh_days: int
) -> str | None:
    """None when ``record`` is current for ``scope``; else the reason it is stale."""
    if _is_run_level(record):
        current = scope.current
        if current is not None and _has_identity(current):
            mismatch = _model_mismatch(record, current)
            if mismatch is not None:
                return mismatch
        elif (
            record.subject.run_id
            and scope.latest_run is not None
            and record.subject.run_id != scope.latest_run
        ):
            return (
                f"{record_label(record)} is about run {record.subject.run_id[:8]}, not the latest "
                f"run {scope.latest_run[:8]} of {scope.label}"
            )
    if record.valid_until:
        until = parse_timestamp(record.valid_until)
        if until <= now:
            return f"{record_label(record)} expired on {_day(record.valid_until)}"
    age = now - record.collected
    if age > timedelta(days=fresh_days):
        return (
            f"{record_label(record)} is {age.days} days old, older than the {fresh_days}-day "
            f"freshness limit"
        )
    return None


def fresh_days_for(entry: CatalogEntry, scope: Scope) -> int:
    if entry.rule.follows_monitoring_interval and scope.monitoring_days:
        return int(scope.monitoring_days)
    return int(entry.rule.fresh_days)


# ----------------------------------------------------------------------------------- kinds path
def _checks(record: EvidenceRecord) -> list[Mapping[str, Any]]:
    checks = record.details.get("checks")
    if not isinstance(checks, Sequence) or isinstance(checks, str):
        return []
    return [c for c in checks if isinstance(c, Mapping)]


def _check_passed(check: Mapping[str, Any]) -> bool | None:
    value = check.get("passed", check.get("success"))
    return None if value is None else bool(value)


def _metric_text(record: EvidenceRecord, limit: int = 4) -> str:
    items = list(record.metrics.items())[:limit]
    return ", ".join(f"{name} = {value:.4g}" for name, value in items)


def describe_record(record: EvidenceRecord) -> list[str]:
    """Human reasons for one record's outcome, taken from its checks when it has them."""
    label = record_label(record)
    if record.kind == "error" or record.outcome == "error":
        error = record.details.get("error") or "no error message recorded"
        return [f"the {record_kind(record)} collector failed: {error} ({label})"]
    checks = _checks(record)
    if record.outcome == "fail":
        failed = [c for c in checks if _check_passed(c) is False and c.get("reason")]
        if failed:
            return [f"{label}: {c['reason']}" for c in failed]
        summary = (
            record.details.get("summary") or record.details.get("reason") or _metric_text(record)
        )
        return [f"{label} failed" + (f": {summary}" if summary else "")]
    verb = "passed" if record.outcome == "pass" else "recorded"
    reasons = [str(c["reason"]) for c in checks if c.get("reason")]
    if len(reasons) > MAX_LISTED_CHECKS:
        more = len(reasons) - MAX_LISTED_CHECKS
        reasons = [*reasons[:MAX_LISTED_CHECKS], f"and {more} more checks"]
    if reasons:
        return [f"{label} {verb}: " + "; ".join(reasons)]
    summary = record.details.get("summary") or _metric_text(record)
    return [f"{label} {verb}" + (f" ({summary})" if summary else "")]


def is_duty(record: EvidenceRecord) -> bool:
    """Whether a record is a duty with a deadline (see "Duties with a deadline")."""
    return bool(record.details.get("deadline")) or bool(record.details.get("closes"))


def duty_states(
    records: Iterable[EvidenceRecord], *, now: datetime
) -> list[tuple[EvidenceRecord, str, str | None]]:
    """``(duty, state, closed_on)`` for each duty of ``records``, oldest first; ``state`` is
    ``closed``, ``open`` (deadline not passed) or ``overdue``."""
    duties = sorted((r for r in records if is_duty(r)), key=_order)
    closing: dict[str, str] = {}
    for record in duties:
        target = record.details.get("closes")
        if isinstance(target, str):
            closing.setdefault(target, str(record.details.get("closed_on") or "")[:10])
    states: list[tuple[EvidenceRecord, str, str | None]] = []
    for record in duties:
        if record.details.get("closes"):
            continue
        closed_on = record.details.get("closed_on") or closing.get(record.id)
        if closed_on:
            states.append((record, "closed", str(closed_on)[:10]))
        elif now.date().isoformat() > str(record.details["deadline"])[:10]:
            states.append((record, "overdue", None))
        else:
            states.append((record, "open", None))
    return states


def _duty_verdict(
    kind: str, records: Sequence[EvidenceRecord], *, now: datetime
) -> tuple[str, list[str], str | None]:
    states = duty_states(records, now=now)

    def who(record: EvidenceRecord) -> str:
        return f"{record_label(record)} of {record.system or 'the organization'}"

    overdue = [r for r, state, _ in states if state == "overdue"]
    if overdue:
        reasons = [
            f"{who(r)} is not reported and its deadline {r.details['deadline']} has passed"
            for r in overdue
        ]
        return FAILING, reasons, overdue[-1].id
    closed = [(r, on) for r, state, on in states if state == "closed"]
    still_open = [r for r, state, _ in states if state == "open"]
    reasons = [f"{who(r)} is open, due by {r.details['deadline']}" for r in still_open]
    reasons += [
        f"{who(r)} reported on {on} (deadline {r.details['deadline']}"
        + (", late)" if on > str(r.details["deadline"]) else ")")
        for r, on in closed
    ]
    if closed:
        return SATISFIED, reasons, closed[-1][0].id
    return MISSING, reasons, (still_open[-1].id if still_open else None)


def _kind_verdict(
    kind: str, scope: Scope, *, now: datetime, fresh: int
) -> tuple[str, list[str], str | None]:
    """(status, reasons, evidence id) of one evidence kind: its latest current record decides
    (duties: every one counts, see "Duties with a deadline")."""
    candidates = sorted(
        (r for r in scope.records if record_kind(r) == kind), key=_order, reverse=True
    )
    if not candidates:
        return MISSING, [f"no {kind} evidence recorded for {scope.label}"], None
    if any(is_duty(r) for r in candidates):
        return _duty_verdict(kind, candidates, now=now)
    first_stale: tuple[EvidenceRecord, str] | None = None
    for record in candidates:
        why = staleness(record, scope, now=now, fresh_days=fresh)
        if why is None:
            if record.kind == "error" or record.outcome == "error":
                status = MISSING
            elif record.outcome == "fail":
                status = FAILING
            else:
                status = SATISFIED
            return status, list(describe_record(record)), record.id
        if first_stale is None:
            first_stale = (record, why)
    assert first_stale is not None
    return STALE, [f"no current {kind} evidence: {first_stale[1]}"], first_stale[0].id


def _group_verdict(
    group: Sequence[str], scope: Scope, *, now: datetime, fresh: int
) -> tuple[str, list[str], list[str]]:
    """A group of alternative kinds: satisfied when any kind is; else the worst kind that has
    evidence (a missing alternative never hides a failing or stale one)."""
    verdicts = [_kind_verdict(kind, scope, now=now, fresh=fresh) for kind in group]
    if len(verdicts) == 1:
        status, reasons, record_id = verdicts[0]
        return status, reasons, [record_id] if record_id else []
    chosen = [v for v in verdicts if v[0] == SATISFIED]
    if not chosen:
        present = [v for v in verdicts if v[2] is not None]
        status = worst(v[0] for v in present) if present else MISSING
        chosen = [v for v in present if v[0] == status] or verdicts
    status = chosen[0][0]
    if status == MISSING and all(v[2] is None for v in verdicts):
        return MISSING, [f"no {' or '.join(group)} evidence recorded for {scope.label}"], []
    return (
        status,
        [r for v in chosen for r in v[1]],
        [v[2] for v in chosen if v[2] is not None],
    )


def kinds_path(entry: CatalogEntry, scope: Scope, *, now: datetime) -> PathResult:
    """Judge the automated evidence kinds of ``entry`` for ``scope``: every group of kinds needs
    a current passing record (of any kind of the group)."""
    fresh = fresh_days_for(entry, scope)
    verdicts = [
        _group_verdict(group, scope, now=now, fresh=fresh) for group in entry.rule.kind_groups
    ]
    statuses = [v[0] for v in verdicts]
    if FAILING in statuses:
        status = FAILING
    elif all(s == SATISFIED for s in statuses):
        status = SATISFIED
    else:
        status = worst(statuses)
    # the decisive reasons first: what fails, then what is stale or missing, then what holds
    rank = {FAILING: 0, STALE: 1, MISSING: 2, SATISFIED: 3}
    reasons = [r for v in sorted(verdicts, key=lambda v: rank[v[0]]) for r in v[1]]
    evidence = [e for v in verdicts for e in v[2]]
    return PathResult(status, tuple(reasons), tuple(evidence))


# ----------------------------------------------------------------------------- attestation path
def attestation_path(entry: CatalogEntry, scope: Scope, *, now: datetime) -> PathResult:
    """Judge the attestations of ``entry`` in ``scope`` (same system, or organization-level)."""
    fresh = fresh_days_for(entry, scope)
    document = entry.rule.attestation or "the required document"
    candidates = sorted(
        (r for r in scope.records if r.kind == "attestation" and entry.id in r.controls),
        key=_order,
        reverse=True,
    )
    if not candidates:
        return PathResult(
            MISSING, (f"no attestation of {document} recorded for {scope.label}",), ()
        )
    for record in candidates:
        why = staleness(record, scope, now=now, fresh_days=fresh)
        if why is not None:
            continue
        by = record.details.get("by") or "an unnamed person"
        where = record.details.get("document")
        until = f", valid until {_day(record.valid_until)}" if record.valid_until else ""
        text = (
            f"{document} attested by {by} on {_day(record.collected_at)}"
            f"{f' ({where})' if where else ''}{until} (attestation {short_id(record.id)})"
        )
        if record.outcome in ("pass", "info"):
            return PathResult(SATISFIED, (text,), (record.id,))
        return PathResult(FAILING, (f"{text} records outcome {record.outcome}",), (record.id,))
    latest = candidates[0]
    why = staleness(latest, scope, now=now, fresh_days=fresh)
    return PathResult(STALE, (f"no current attestation of {document}: {why}",), (latest.id,))


# ------------------------------------------------------------------------------- derived path
def derived_path(entry: CatalogEntry, parts: Sequence[ControlStatus]) -> PathResult:
    """Satisfied when every part is satisfied or not applicable; else the worst part status."""
    text = ", ".join(f"{p.id} {p.status}" for p in parts)
    evidence = tuple(dict.fromkeys(e for p in parts for e in p.evidence))
    bad = [p.status for p in parts if p.status not in (SATISFIED, NOT_APPLICABLE)]
    if not bad:
        return PathResult(SATISFIED, (f"derived from {text}: all satisfied",), evidence)
    return PathResult(worst(bad), (f"derived from {text}",), evidence)


# -------------------------------------------------------------------------------- combination
def combine(
    *,
    entry: CatalogEntry,
    owner: str,
    kinds: PathResult | None,
    others: Sequence[PathResult],
    attestation: PathResult | None,
) -> ControlStatus:
    """Combine path verdicts into the entry's status (see the module docstring)."""
    paths = [p for p in (kinds, *others, attestation) if p is not None]
    reasons = [r for p in paths for r in p.reasons]
    evidence = tuple(dict.fromkeys(e for p in paths for e in p.evidence))
    kinds_failing = kinds is not None and kinds.status == FAILING
    if not paths:
        status = MISSING
        reasons = [f"the catalog names no evidence for {entry.id}"]
    elif any(p.status == SATISFIED for p in paths) and not kinds_failing:
        status = SATISFIED
    else:
        status = worst(p.status for p in paths)
        if kinds_failing and attestation is not None and attestation.status == SATISFIED:
            reasons.append("an attestation does not override failing automated evidence")
    return _status(entry, owner, status, reasons, evidence)


def not_applicable(entry: CatalogEntry, *, owner: str, justification: str) -> ControlStatus:
    reason = f"not applicable (Statement of Applicability): {justification}"
    return _status(entry, owner, NOT_APPLICABLE, [reason], ())


def _status(
    entry: CatalogEntry, owner: str, status: str, reasons: Sequence[str], evidence: Sequence[str]
) -> ControlStatus:
    return ControlStatus(
        id=entry.id,
        title=entry.title,
        kind=entry.kind,
        group=entry.group,
        status=status,  # type: ignore[arg-type]
        reasons=tuple(reasons),
        evidence=tuple(evidence),
        owner=owner,
        how_to_close=entry.rule.how_to_close,
        scope=entry.scope,
    )


# ------------------------------------------------------------------------------ config checks
# the names rules may use are the catalog's CONFIG_CHECKS; each is a method of ConfigChecks


def _config_id(digest: str, path: str) -> str:
    return f"config:{digest[:12]}#{path}"


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _bounds_text(bounds: Mapping[str, Any]) -> str:
    parts = []
    for metric, threshold in bounds.items():
        if threshold.min is not None:
            parts.append(f"{metric} >= {threshold.min:g}")
        if threshold.max is not None:
            parts.append(f"{metric} <= {threshold.max:g}")
    return ", ".join(parts)


class _ConfigChecker:
    """The ``config_check`` declarations, judged purely from the configuration."""

    def __init__(self, config: AimsConfig, *, digest: str, now: datetime) -> None:
        self.config = config
        self.digest = digest
        self.now = now
        self.index = {system.id: i for i, system in enumerate(config.systems)}

    def ref(self, path: str) -> str:
        return _config_id(self.digest, path)

    def sys_path(self, system: SystemConfig, field: str) -> str:
        return f"systems[{self.index[system.id]}].{field}"

    # -- per-system checks -------------------------------------------------------------------
    def owner_named(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "owner")
        if system.owner and system.owner.strip():
            return PathResult(
                SATISFIED,
                (f"{system.id} names its owner: {system.owner} ({path})",),
                (self.ref(path),),
            )
        return PathResult(MISSING, (f"{system.id} names no owner ({path} is not declared)",))

    def intended_use_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "intended_use")
        if system.intended_use and system.intended_use.strip():
            text = f"{system.id} declares its intended use: {_quote(system.intended_use)} ({path})"
            return PathResult(SATISFIED, (text,), (self.ref(path),))
        return PathResult(MISSING, (f"{system.id} declares no intended use ({path})",))

    def requirements_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        declared: list[str] = []
        evidence: list[str] = []
        if system.performance:
            declared.append(f"performance ({_bounds_text(system.performance)})")
            evidence.append(self.ref(self.sys_path(system, "performance")))
        if system.fairness:
            declared.append(f"fairness ({_bounds_text(system.fairness)})")
            evidence.append(self.ref(self.sys_path(system, "fairness")))
        if system.data_quality is not None and system.data_quality.expectations:
            count = len(system.data_quality.expectations)
            declared.append(f"data quality ({count} expectation{'s' if count != 1 else ''})")
            evidence.append(self.ref(self.sys_path(system, "data_quality")))
        has_use = bool(system.intended_use and system.intended_use.strip())
        if has_use and declared:
            evidence.insert(0, self.ref(self.sys_path(system, "intended_use")))
            text = f"{system.id} declares its intended use and requirements: " + "; ".join(declared)
            return PathResult(SATISFIED, (text,), tuple(evidence))
        lacking = []
        if not has_use:
            lacking.append("an intended use")
        if not declared:
            lacking.append("performance, fairness or data-quality requirements")
        return PathResult(
            MISSING, (f"{system.id} declares no " + " and no ".join(lacking),), tuple(evidence)
        )

    def thresholds_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        bounds = {**system.performance, **system.fairness}
        if bounds:
            paths = [
                self.sys_path(system, part)
                for part in ("performance", "fairness")
                if getattr(system, part)
            ]
            text = f"{system.id} declares thresholds: {_bounds_text(bounds)}"
            return PathResult(SATISFIED, (text,), tuple(self.ref(p) for p in paths))
        return PathResult(MISSING, (f"{system.id} declares no performance or fairness thresholds",))

    def impact_assessment(self, system: SystemConfig, fresh_days: int) -> PathResult:
        assessment = self.config.impact_assessment_for(system.id)
        if assessment is None:
            return PathResult(
                MISSING, (f"no impact assessment declared for {system.id} (impact_assessments)",)
            )
        index = self.config.impact_assessments.index(assessment)
        ref = (self.ref(f"impact_assessments[{index}]"),)
        age = (self.now.date() - assessment.assessed_on).days
        head = (
            f"impact assessment of {system.id} by {assessment.assessed_by} on "
            f"{assessment.assessed_on.isoformat()}"
        )
        if age > fresh_days:
            text = f"{head} is {age} days old, older than the {fresh_days}-day freshness limit"
            return PathResult(STALE, (text,), ref)
        text = f"{head} (severity {assessment.severity}, {age} days old)"
        return PathResult(SATISFIED, (text,), ref)

    def risk_register(self, system: SystemConfig, fresh_days: int) -> PathResult:
        risks = self.config.risks_for(system.id)
        if not risks:
            return PathResult(MISSING, (f"no risks registered for {system.id} (risks)",))
        listed = ", ".join(f"{r.id} ({r.likelihood} × {r.impact} = {r.score})" for r in risks)
        return PathResult(
            SATISFIED,
            (
                f"{len(risks)} risk{'s' if len(risks) != 1 else ''} registered for {system.id}: "
                f"{listed}",
            ),
            tuple(self.ref(f"risks[{self.config.risks.index(r)}]") for r in risks),
        )

    def risk_treatment(self, system: SystemConfig, fresh_days: int) -> PathResult:
        return self._treatment(self.config.risks_for(system.id), system.id)

    def monitoring_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "monitoring")
        monitoring = system.monitoring
        if monitoring is None:
            return PathResult(MISSING, (f"{system.id} declares no monitoring ({path})",))
        text = (
            f"{system.id} declares monitoring every {monitoring.interval_days} days "
            f"(PSI <= {monitoring.psi_max:g}, KS p-value >= {monitoring.ks_pvalue_min:g})"
        )
        return PathResult(SATISFIED, (text,), (self.ref(path),))

    # -- shared / organization-level -----------------------------------------------------------
    def _treatment(self, risks: Sequence[Any], label: str) -> PathResult:
        appetite = self.config.risk_criteria.appetite
        if not risks:
            return PathResult(MISSING, (f"no risks registered for {label}, so none is treated",))
        evidence = tuple(f"{self.ref(f'risks[{self.config.risks.index(r)}]')}" for r in risks)
        problems: list[str] = []
        treated: list[str] = []
        for risk in risks:
            if self.config.risk_criteria.accepts(risk.score):
                continue
            if risk.treatment == "accept":
                problems.append(
                    f"{risk.id} ({risk.likelihood} × {risk.impact} = {risk.score}) is above the "
                    f"appetite {appetite} but its treatment is accept"
                )
            elif risk.treatment == "mitigate" and not risk.controls:
                problems.append(f"{risk.id} is mitigated but names no treating controls")
            else:
                controls = f" with {', '.join(risk.controls)}" if risk.controls else ""
                treated.append(f"{risk.id} ({risk.score}: {risk.treatment}{controls})")
        if problems:
            return PathResult(FAILING, tuple(problems), evidence)
        if treated:
            text = f"every risk of {label} above the appetite {appetite} is treated: " + ", ".join(
                treated
            )
        else:
            highest = max(r.score for r in risks)
            text = (
                f"all {len(risks)} risks of {label} are within the appetite {appetite} "
                f"(highest score {highest})"
            )
        return PathResult(SATISFIED, (text,), evidence)

    def scope_declared(self) -> PathResult:
        scope = self.config.organization.aims_scope
        in_scope = self.config.in_scope_systems
        out = [s for s in self.config.systems if not s.in_scope]
        evidence = [self.ref("organization.aims_scope")] if scope and scope.strip() else []
        if scope and scope.strip() and in_scope:
            names = ", ".join(s.id for s in in_scope)
            plural = "s" if len(in_scope) != 1 else ""
            text = (
                f"AIMS scope declared: {_quote(scope)}; {len(in_scope)} system{plural} in scope "
                f"({names})"
            )
            if out:
                text += "; out of scope: " + ", ".join(f"{s.id} ({s.scope_reason})" for s in out)
            evidence.extend(self.ref(self.sys_path(s, "in_scope")) for s in self.config.systems)
            return PathResult(SATISFIED, (text,), tuple(evidence))
        lacking = []
        if not (scope and scope.strip()):
            lacking.append("organization.aims_scope is not declared")
        if not in_scope:
            lacking.append("no system is in scope")
        return PathResult(MISSING, ("; ".join(lacking),), tuple(evidence))

    def soa_decided(self) -> PathResult:
        decisions = self.config.soa
        excluded = [d for d in decisions if not d.applicable]
        text = (
            f"Statement of Applicability decided in aims.yaml: {len(decisions)} explicit "
            f"decision{'s' if len(decisions) != 1 else ''} ({len(excluded)} justified "
            f"exclusion{'s' if len(excluded) != 1 else ''}); every other Annex A control applies"
        )
        return PathResult(SATISFIED, (text,), (self.ref("soa"),))

    def organization(self, name: str, fresh_days: int) -> PathResult:
        """An organization-scope check: per-system checks must hold for every in-scope system."""
        if name == "scope_declared":
            return self.scope_declared()
        if name == "soa_decided":
            return self.soa_decided()
        if name == "risk_treatment":
            return self._treatment(self.config.risks, "the organization")
        systems = self.config.in_scope_systems
        if not systems:
            return PathResult(MISSING, ("no system is in the AIMS scope",))
        results = [self.system(name, s, fresh_days) for s in systems]
        evidence = tuple(e for r in results for e in r.evidence)
        bad = [r for r in results if r.status != SATISFIED]
        if not bad:
            return PathResult(SATISFIED, tuple(x for r in results for x in r.reasons), evidence)
        summary = f"{len(results) - len(bad)} of {len(results)} in-scope systems meet {name}"
        reasons = (summary, *(x for r in bad for x in r.reasons))
        return PathResult(worst(r.status for r in bad), reasons, evidence)

    def system(self, name: str, system: SystemConfig, fresh_days: int) -> PathResult:
        if name == "scope_declared":
            return self.scope_declared()
        if name == "soa_decided":
            return self.soa_decided()
        method = getattr(self, name, None) if name in CONFIG_CHECKS else None
        if method is None:
            raise CatalogError(ERROR_UNKNOWN_CONFIG_CHECK.format(name=name))
        result: PathResult = method(system, fresh_days)
        return result


def config_path(
    entry: CatalogEntry,
    *,
    config: AimsConfig,
    system: SystemConfig | None,
    digest: str,
    now: datetime,
) -> PathResult:
    """Judge the rule's ``config_check`` (``system`` None: organization scope)."""
    name = entry.rule.config_check
    assert name is not None
    checker = _ConfigChecker(config, digest=digest, now=now)
    if system is None:
        return checker.organization(name, entry.rule.fresh_days)
    return checker.system(name, system, entry.rule.fresh_days)
