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

Parts of a rule (every part must hold)
    evidence
        For each kind of the part take the latest current record (by ``collected_at``). A latest
        ``fail`` → failing; a latest ``error`` → missing (the collector failed); a ``pass`` or
        ``info`` record that does not hold what its kind requires (``requires`` in the kinds
        registry: a code version, full dataset digests, checks against thresholds, ...) → missing,
        the reason naming what it lacks; else satisfied. Only records that are not current →
        stale; none → missing (a ``duty`` kind with none recorded: satisfied, nothing is due). Of
        alternative kinds a failing one is never overridden; else any satisfied one satisfies;
        else the worst that has evidence.
    attestation
        A current ``attestation`` record of the same scope whose ``controls`` include the entry.
    declared
        A declaration in ``aims.yaml`` (``engine/_checks.py``); ``risk_treatment`` is derived from
        the risk evaluation instead (``engine/_engine.py``).
    derived
        Every named entry satisfied or not applicable; else the worst of them.
    any_of
        One of its options (judged like alternative kinds).

Integrity findings
    A stored record that failed verification (:class:`~aims_mlops.evidence.IntegrityFinding`:
    unsigned or wrongly signed under ``trust``, altered, malformed, of an unknown kind or
    outcome, from the future, on another run) is never evidence. Every entry it speaks to (the
    catalog's controls for its kind, and its own ``controls``) is ``failing``: the parts that
    take its kind (else the first part that takes evidence) fail with the reason "record <id>
    failed verification: <why>", whatever else the part's evidence says.

Duties with a deadline
    A record whose details hold a ``deadline`` is a duty (incidents, nonconformities): with none
    recorded nothing is due (satisfied); an open one past its deadline fails the entry; a later
    record with ``closes: <id>`` closes it, one with ``amends: <id>`` and ``due`` moves its
    deadline (a corrective action planned with a new due date). Organization-scope verdicts see
    the duties of every system.

Combination
    An entry excluded in the Statement of Applicability is ``not_applicable`` with the
    justification as its reason. Otherwise it is ``satisfied`` only when every part is; else the
    worst part decides, ``failing`` > ``stale`` > ``missing``. The decisive parts' reasons come
    first, and ``how_to_close`` lists the actions of the parts still open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aims_mlops.engine._results import (
    FAILING,
    MISSING,
    NOT_APPLICABLE,
    SATISFIED,
    STALE,
    ControlStatus,
    CurrentModel,
    PartStatus,
)
from aims_mlops.evidence import EvidenceRecord, IntegrityFinding, load_kinds, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.catalog import CatalogEntry, RulePart

#: Passing checks listed in a satisfied reason (the rest are counted).
MAX_LISTED_CHECKS = 10

#: Rank of the non-satisfied path statuses: the highest rank wins when no path satisfies.
_SEVERITY: dict[str, int] = {MISSING: 1, STALE: 2, FAILING: 3}



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
    #: satisfied by captured evidence or an attestation (not by aims.yaml text alone)
    evidenced: bool = False
    #: satisfied because an assessment was done, though its result fails (``done`` parts)
    result_fails: bool = False


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


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {} and value != ()


def _resolve(value: Any, path: Sequence[str]) -> list[Any] | None:
    """The values at ``path`` (``name[*]`` steps into every element of a list); None when a step
    is absent or not of the expected shape."""
    if not path:
        return [value]
    step, rest = path[0], path[1:]
    each = step.endswith("[*]")
    key = step[:-3] if each else step
    if not isinstance(value, Mapping) or key not in value:
        return None
    inner = value[key]
    if not each:
        return _resolve(inner, rest)
    if not isinstance(inner, Sequence) or isinstance(inner, str) or not inner:
        return None
    found: list[Any] = []
    for element in inner:
        values = _resolve(element, rest)
        if values is None:
            return None
        found.extend(values)
    return found


def _flat(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def holds(details: Mapping[str, Any], requirement: str) -> bool:
    """Whether ``details`` holds one of the ``|``-separated paths of ``requirement``, every value
    present and not empty (``path>=a,b``: the list at ``path`` holds each of ``a``, ``b``)."""
    for alternative in requirement.split("|"):
        path, _, wanted = alternative.partition(">=")
        values = _resolve(details, path.strip().split("."))
        if wanted:  # ``path>=a,b``: the list at path holds every one of a, b
            held = {str(v) for value in values or () for v in _flat(value)}
            if all(w.strip() in held for w in wanted.split(",")):
                return True
            continue
        if values and all(_present(v) for v in values):
            return True
    return False


def lacking(record: EvidenceRecord) -> list[str]:
    """What a record of its kind must hold (the kind's ``requires``) and does not."""
    kinds = load_kinds()
    kind = record_kind(record)
    if record.kind == "error" or kind not in kinds:
        return []
    return [r for r in kinds.get(kind).requires if not holds(record.details, r)]


def how_to_hold(record: EvidenceRecord) -> str:
    """What a user logs so that a record of this kind holds what the kind requires ("" if the
    kind does not say)."""
    kinds = load_kinds()
    kind = record_kind(record)
    return kinds.get(kind).how_to_hold if kind in kinds else ""


def _requirement_text(requirement: str) -> str:
    return " or ".join(part.strip() for part in requirement.split("|"))


def is_duty(record: EvidenceRecord) -> bool:
    """Whether a record is a duty with a deadline, or closes or amends one (see "Duties with a
    deadline")."""
    details = record.details
    return bool(details.get("deadline") or details.get("closes") or details.get("amends"))


def moved_deadlines(records: Iterable[EvidenceRecord]) -> dict[str, str]:
    """Duty id -> the deadline its latest amendment (``amends`` with ``due``) set."""
    moved: dict[str, str] = {}
    for record in sorted(records, key=_order):
        amended = record.details.get("amends")
        if isinstance(amended, str) and record.details.get("due"):
            moved[amended] = str(record.details["due"])[:10]
    return moved


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
    moved = moved_deadlines(duties)
    states: list[tuple[EvidenceRecord, str, str | None]] = []
    for record in duties:
        if record.details.get("closes") or record.details.get("amends"):
            continue
        closed_on = record.details.get("closed_on") or closing.get(record.id)
        deadline = moved.get(record.id) or str(record.details["deadline"])[:10]
        if closed_on:
            states.append((record, "closed", str(closed_on)[:10]))
        elif now.date().isoformat() > deadline:
            states.append((record, "overdue", None))
        else:
            states.append((record, "open", None))
    return states


def _duty_verdict(
    kind: str, records: Sequence[EvidenceRecord], *, now: datetime
) -> tuple[str, list[str], str | None]:
    states = duty_states(records, now=now)
    moved = moved_deadlines(records)

    def deadline(record: EvidenceRecord) -> str:
        return moved.get(record.id) or str(record.details["deadline"])[:10]

    def who(record: EvidenceRecord) -> str:
        return f"{record_label(record)} of {record.system or 'the organization'}"

    def done(record: EvidenceRecord) -> str:
        # what discharges the duty, as the record says (an incident is reported, an NC closed)
        return str(record.details.get("discharged_by_word") or "reported")

    overdue = [r for r, state, _ in states if state == "overdue"]
    if overdue:
        reasons = [
            f"{who(r)} is not {done(r)} and its deadline {deadline(r)} has passed" for r in overdue
        ]
        return FAILING, reasons, overdue[-1].id
    closed = [(r, on) for r, state, on in states if state == "closed"]
    still_open = [r for r, state, _ in states if state == "open"]
    reasons = [f"{who(r)} is open, due by {deadline(r)}" for r in still_open]
    reasons += [
        f"{who(r)} {done(r)} on {on} (deadline {deadline(r)}"
        + (", late)" if on > str(deadline(r)) else ")")
        for r, on in closed
    ]
    if closed:
        return SATISFIED, reasons, closed[-1][0].id
    kinds = load_kinds()
    if still_open and kind in kinds and kinds.get(kind).open_within_deadline_counts:
        # raised and none past its deadline: the process is working, nothing is overdue
        return SATISFIED, reasons, still_open[-1].id
    return MISSING, reasons, (still_open[-1].id if still_open else None)


def _kind_verdict(
    kind: str, scope: Scope, *, now: datetime, fresh: int, holding: Sequence[str] = ()
) -> tuple[str, list[str], str | None]:
    """(status, reasons, evidence id) of one evidence kind: its latest current record decides
    (duties: every one counts, see "Duties with a deadline").

    A passing or ``info`` record that lacks what its kind requires (a code version, full dataset
    digests, checks against thresholds, ...) does not count: the reason says what it lacks."""
    candidates = sorted(
        (r for r in scope.records if record_kind(r) == kind), key=_order, reverse=True
    )
    if not candidates:
        if _is_duty_kind(kind):
            return SATISFIED, [f"no {kind} recorded for {scope.label}: none is due"], None
        return MISSING, [f"no {kind} evidence recorded for {scope.label}"], None
    if any(is_duty(r) for r in candidates):
        return _duty_verdict(kind, candidates, now=now)
    first_stale: tuple[EvidenceRecord, str] | None = None
    for record in candidates:
        why = staleness(record, scope, now=now, fresh_days=fresh)
        if why is None:
            if record.kind == "error" or record.outcome == "error":
                return MISSING, list(describe_record(record)), record.id
            if record.outcome == "fail":
                return FAILING, list(describe_record(record)), record.id
            missing = lacking(record) + [h for h in holding if not holds(record.details, h)]
            if missing:
                needs = "; ".join(_requirement_text(m) for m in missing)
                hint = how_to_hold(record)
                needs += f": {hint}" if hint else ""
                return (
                    MISSING,
                    [f"{record_label(record)} does not hold what the control needs: {needs}"],
                    record.id,
                )
            return SATISFIED, list(describe_record(record)), record.id
        if first_stale is None:
            first_stale = (record, why)
    assert first_stale is not None
    return STALE, [f"no current {kind} evidence: {first_stale[1]}"], first_stale[0].id


def _is_duty_kind(kind: str) -> bool:
    kinds = load_kinds()
    return kind in kinds and kinds.get(kind).role == "duty"


def _best_of(results: Sequence[PathResult], *, missing_text: str) -> PathResult:
    """Alternatives: failing automated evidence is never overridden by another alternative;
    otherwise satisfied when any is; else the worst alternative that has evidence (a missing
    alternative never hides a stale one); all missing: missing."""
    failing = [r for r in results if r.status == FAILING and r.evidence]
    if failing:
        return PathResult(
            FAILING,
            tuple(x for r in failing for x in r.reasons),
            tuple(e for r in failing for e in r.evidence),
        )
    satisfied = [r for r in results if r.status == SATISFIED]
    if satisfied:
        return satisfied[0]
    present = [r for r in results if r.evidence]
    if not present:
        return PathResult(MISSING, (missing_text,), ())
    status = worst(r.status for r in present)
    chosen = [r for r in present if r.status == status]
    return PathResult(
        status,
        tuple(x for r in chosen for x in r.reasons),
        tuple(e for r in chosen for e in r.evidence),
    )


def evidence_part(
    kinds: Sequence[str],
    scope: Scope,
    *,
    now: datetime,
    fresh: int,
    holding: Sequence[str] = (),
) -> PathResult:
    """A current passing record of any one of ``kinds`` (holding ``holding`` too)."""
    results = []
    for kind in kinds:
        status, reasons, record_id = _kind_verdict(
            kind, scope, now=now, fresh=fresh, holding=holding
        )
        results.append(
            PathResult(
                status,
                tuple(reasons),
                (record_id,) if record_id else (),
                evidenced=status == SATISFIED,
            )
        )
    if len(results) == 1:
        return results[0]
    return _best_of(
        results, missing_text=f"no {' or '.join(kinds)} evidence recorded for {scope.label}"
    )


def any_of_part(results: Sequence[PathResult], *, scope: Scope) -> PathResult:
    """One of several parts."""
    return _best_of(results, missing_text=f"none of the alternatives is recorded for {scope.label}")


# ----------------------------------------------------------------------------- attestation path
def attestation_part(
    entry: CatalogEntry, document: str, scope: Scope, *, now: datetime
) -> PathResult:
    """Judge the attestations of ``entry`` in ``scope`` (same system, or organization-level)."""
    fresh = fresh_days_for(entry, scope)
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
            return PathResult(SATISFIED, (text,), (record.id,), evidenced=True)
        return PathResult(FAILING, (f"{text} records outcome {record.outcome}",), (record.id,))
    latest = candidates[0]
    why = staleness(latest, scope, now=now, fresh_days=fresh)
    return PathResult(STALE, (f"no current attestation of {document}: {why}",), (latest.id,))


# ------------------------------------------------------------------------------- derived path
def derived_part(parts: Sequence[ControlStatus]) -> PathResult:
    """Satisfied when every entry is satisfied or not applicable; else the worst entry status."""
    text = ", ".join(f"{p.id} {p.status}" for p in parts)
    evidence = tuple(dict.fromkeys(e for p in parts for e in p.evidence))
    bad = [p.status for p in parts if p.status not in (SATISFIED, NOT_APPLICABLE)]
    if not bad:
        evidenced = all(p.evidenced or p.status == NOT_APPLICABLE for p in parts) and any(
            p.evidenced for p in parts
        )
        return PathResult(
            SATISFIED, (f"derived from {text}: all satisfied",), evidence, evidenced=evidenced
        )
    return PathResult(worst(bad), (f"derived from {text}",), evidence)


# -------------------------------------------------------------------------------- combination
_RANK = {FAILING: 0, STALE: 1, MISSING: 2, SATISFIED: 3}


def _part_kinds(part: RulePart) -> set[str]:
    """The evidence kinds a part (or any of its options) takes."""
    kinds: set[str] = set()
    for step in part.walk():
        if step.kind == "evidence":
            kinds.update(step.kinds)
        elif step.kind == "attestation":
            kinds.add("attestation")
    return kinds


def with_findings(
    parts: Sequence[tuple[RulePart, PathResult]], findings: Sequence[IntegrityFinding]
) -> list[tuple[RulePart, PathResult]]:
    """The parts with each finding's reason on the parts taking its kind (else on the first
    part taking evidence, else the first part), those parts ``failing``: a record that failed
    verification is never overridden by other evidence."""
    result = list(parts)
    if not findings or not result:
        return result
    takes = [_part_kinds(part) for part, _ in result]
    fallback = next((i for i, kinds in enumerate(takes) if kinds), 0)
    hit: dict[int, list[str]] = {}
    for finding in findings:
        targets = [i for i, kinds in enumerate(takes) if finding.kind in kinds] or [fallback]
        for i in targets:
            hit.setdefault(i, []).append(finding.reason)
    for i, reasons in hit.items():
        part, before = result[i]
        result[i] = (
            part,
            PathResult(FAILING, tuple(dict.fromkeys(reasons)) + before.reasons, before.evidence),
        )
    return result


def combine(
    *,
    entry: CatalogEntry,
    owner: str,
    parts: Sequence[tuple[RulePart, PathResult]],
    findings: Sequence[IntegrityFinding] = (),
) -> ControlStatus:
    """Every part must hold: satisfied only when all are; else the worst part decides
    (failing > stale > missing). The decisive parts' reasons come first. ``findings`` (records
    that failed verification and speak to the entry) make it failing (:func:`with_findings`)."""
    parts = with_findings(parts, findings)
    statuses = [result.status for _, result in parts]
    if not parts and findings:
        reasons = list(dict.fromkeys(f.reason for f in findings))
        return _status(entry, owner, FAILING, reasons, ())
    if not parts:
        status = MISSING
    elif all(s == SATISFIED for s in statuses):
        status = SATISFIED
    else:
        status = worst(s for s in statuses if s != SATISFIED)
    ordered = sorted(parts, key=lambda p: _RANK.get(p[1].status, 3))
    reasons = [r for _, result in ordered for r in result.reasons]
    if not parts:
        reasons = [f"the catalog names no evidence for {entry.id}"]
    evidence = tuple(dict.fromkeys(e for _, result in parts for e in result.evidence))
    part_statuses = tuple(
        PartStatus(
            requirement=part.requirement(),
            kind=part.json_kind,  # type: ignore[arg-type]
            status=result.status,  # type: ignore[arg-type]
            reasons=result.reasons,
            evidence=result.evidence,
            evidenced=result.evidenced and result.status == SATISFIED,
            result_fails=result.result_fails,
        )
        for part, result in parts
    )
    open_parts = [i for i, (_, result) in enumerate(parts) if result.status != SATISFIED]
    how = entry.rule.actions_for(open_parts) if open_parts else entry.rule.how_to_close
    return _status(entry, owner, status, reasons, evidence, part_statuses, how_to_close=how)


def not_applicable(entry: CatalogEntry, *, owner: str, justification: str) -> ControlStatus:
    reason = f"not applicable (Statement of Applicability): {justification}"
    return _status(entry, owner, NOT_APPLICABLE, [reason], ())


def _status(
    entry: CatalogEntry,
    owner: str,
    status: str,
    reasons: Sequence[str],
    evidence: Sequence[str],
    parts: tuple[PartStatus, ...] = (),
    *,
    how_to_close: str | None = None,
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
        how_to_close=entry.rule.how_to_close if how_to_close is None else how_to_close,
        scope=entry.scope,
        parts=parts,
    )
