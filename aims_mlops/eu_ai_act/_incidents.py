"""Serious incidents (EU AI Act Art. 73; ISO/IEC 42001 A.8.4): records with a reporting deadline.

An incident is an ``incident`` evidence record whose details carry the reporting ``deadline``
that follows from its kind; the engine treats it as a duty (an open incident past its deadline
fails the entries that name the kind). Reporting it later writes a second ``incident`` record
that ``closes`` the first: records are immutable.

Deadlines (Art. 73, counted in calendar days from the day the provider became aware): the
general case not later than 15 days (73(2)); a death not later than 10 days (73(4)); a
widespread infringement or a serious and irreversible disruption of critical infrastructure not
later than 2 days (73(3)). Every case is to be reported immediately; these are the outer limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aims_mlops._errors import AimsError
from aims_mlops.catalog import catalog_record
from aims_mlops.engine import duty_states
from aims_mlops.evidence import EvidenceRecord, Subject

KIND = "incident"
COLLECTOR = "aims_mlops.record_incident"

INCIDENT_KINDS: tuple[str, ...] = (
    "death",
    "serious-harm",
    "critical-infrastructure",
    "fundamental-rights",
    "widespread",
    "other",
)
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")

ERROR_INCIDENT_KIND = "unknown incident kind {got!r}; use one of: {known}"
ERROR_SEVERITY = "unknown severity {got!r}; use one of: {known}"
ERROR_BLANK_SUMMARY = "an incident needs a summary: say what happened, in a sentence"
ERROR_AWARE_IN_FUTURE = "--aware-on {aware} is in the future (today is {today})"
ERROR_REPORTED_BEFORE_AWARE = "reported on {reported}, before becoming aware of it on {aware}"
ERROR_NO_INCIDENT = "no incident record {id!r} in the store; `aims status` lists none by that id"
ERROR_AMBIGUOUS_INCIDENT = "incident id {id!r} is ambiguous: it starts {count} records; give more"
ERROR_ALREADY_REPORTED = "incident {id} was already reported on {on}"
ERROR_BAD_DATE = "{value!r} is not a date; write it YYYY-MM-DD"


class IncidentError(AimsError):
    """An incident that cannot be recorded as given."""


@dataclass(frozen=True, kw_only=True)
class DeadlineRule:
    """How long after awareness an incident of a kind must be reported, and where that is said."""

    days: int
    basis: str


DEADLINES: Mapping[str, DeadlineRule] = {
    "death": DeadlineRule(days=10, basis="Art. 73(4): death of a person"),
    "critical-infrastructure": DeadlineRule(
        days=2, basis="Art. 73(3): serious and irreversible disruption of critical infrastructure"
    ),
    "widespread": DeadlineRule(days=2, basis="Art. 73(3): widespread infringement"),
    "serious-harm": DeadlineRule(
        days=15, basis="Art. 73(2): serious harm to health, property or the environment"
    ),
    "fundamental-rights": DeadlineRule(
        days=15, basis="Art. 73(2): infringement of obligations protecting fundamental rights"
    ),
    "other": DeadlineRule(days=15, basis="Art. 73(2): any other serious incident"),
}


def parse_date(value: str | dt.date) -> dt.date:
    """A ``YYYY-MM-DD`` date (``IncidentError`` otherwise)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise IncidentError(ERROR_BAD_DATE.format(value=value)) from exc


def reporting_deadline(kind: str, aware_on: dt.date) -> dt.date:
    """The last day an incident of ``kind`` known since ``aware_on`` may be reported."""
    if kind not in DEADLINES:
        raise IncidentError(ERROR_INCIDENT_KIND.format(got=kind, known=", ".join(INCIDENT_KINDS)))
    return aware_on + dt.timedelta(days=DEADLINES[kind].days)


def incident_record(
    *,
    system: str,
    kind: str,
    severity: str,
    summary: str,
    aware_on: dt.date,
    reported_on: dt.date | None = None,
    today: dt.date | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The ``incident`` record of a serious incident of ``system``, with its deadline."""
    today = today or dt.datetime.now(dt.UTC).date()
    if severity not in SEVERITIES:
        raise IncidentError(ERROR_SEVERITY.format(got=severity, known=", ".join(SEVERITIES)))
    deadline = reporting_deadline(kind, aware_on)
    if not summary or not summary.strip():
        raise IncidentError(ERROR_BLANK_SUMMARY)
    if aware_on > today:
        raise IncidentError(ERROR_AWARE_IN_FUTURE.format(aware=aware_on, today=today))
    if reported_on is not None and reported_on < aware_on:
        raise IncidentError(
            ERROR_REPORTED_BEFORE_AWARE.format(reported=reported_on, aware=aware_on)
        )
    return catalog_record(
        kind=KIND,
        system=system,
        outcome="info",
        collector=COLLECTOR,
        subject=Subject(),
        details={
            "incident_kind": kind,
            "severity": severity,
            "summary": " ".join(summary.split()),
            "aware_on": aware_on.isoformat(),
            "deadline": deadline.isoformat(),
            "deadline_days": DEADLINES[kind].days,
            "deadline_basis": DEADLINES[kind].basis,
            "closed_on": reported_on.isoformat() if reported_on is not None else None,
        },
        config_digest=config_digest,
    )


def report_record(
    incident: EvidenceRecord,
    *,
    on: dt.date,
    config_digest: str | None = None,
    by: str | None = None,
) -> EvidenceRecord:
    """The record that marks ``incident`` as reported on ``on`` (it ``closes`` the incident;
    ``by``: the person whose act it is)."""
    closed = incident.details.get("closed_on")
    if closed:
        raise IncidentError(ERROR_ALREADY_REPORTED.format(id=incident.id, on=closed))
    aware = parse_date(str(incident.details.get("aware_on")))
    if on < aware:
        raise IncidentError(ERROR_REPORTED_BEFORE_AWARE.format(reported=on, aware=aware))
    copied = {k: incident.details.get(k) for k in ("incident_kind", "severity", "summary")}
    return catalog_record(
        kind=KIND,
        system=incident.system,
        outcome="info",
        collector=COLLECTOR,
        subject=Subject(),
        details={
            **copied,
            "closes": incident.id,
            "closed_on": on.isoformat(),
            "deadline": incident.details.get("deadline"),
            **({"acted_by": by} if by else {}),
        },
        config_digest=config_digest,
    )


def find_incident(records: Iterable[EvidenceRecord], incident_id: str) -> EvidenceRecord:
    """The incident (not a report of one) whose id is or starts with ``incident_id`` (a blank
    id names none)."""
    records = list(records)  # read twice: the incident, then its report
    prefix = incident_id.strip()
    found = [
        r
        for r in records
        if prefix and r.kind == KIND and not r.details.get("closes") and r.id.startswith(prefix)
    ]
    if not found:
        raise IncidentError(ERROR_NO_INCIDENT.format(id=incident_id))
    if len(found) > 1:
        raise IncidentError(ERROR_AMBIGUOUS_INCIDENT.format(id=incident_id, count=len(found)))
    incident = found[0]
    for record in records:
        if record.kind == KIND and record.details.get("closes") == incident.id:
            raise IncidentError(
                ERROR_ALREADY_REPORTED.format(id=incident.id, on=record.details.get("closed_on"))
            )
    return incident


def incident_rows(
    records: Iterable[EvidenceRecord], *, now: dt.datetime, system: str | None = None
) -> list[dict[str, Any]]:
    """Every incident (of ``system``, or all), with its state: open, overdue or reported."""
    mine = [r for r in records if r.kind == KIND and (system is None or r.system == system)]
    return [
        {
            "id": record.id,
            "system": record.system,
            "incident_kind": record.details.get("incident_kind"),
            "severity": record.details.get("severity"),
            "summary": record.details.get("summary"),
            "aware_on": record.details.get("aware_on"),
            "deadline": record.details.get("deadline"),
            "deadline_basis": record.details.get("deadline_basis"),
            "state": state,
            "reported_on": closed_on,
            "content_hash": record.content_hash,
        }
        for record, state, closed_on in duty_states(mine, now=now)
    ]
