"""Recording serious incidents (EU AI Act Art. 73) and their reports, through the one writer.

The records are built purely by :mod:`aims_mlops.eu_ai_act` (:func:`incident_record`,
:func:`report_record`); a report is a person's act, signed with their own key
(:func:`aims_mlops.capture._acts.act_context`).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from aims_mlops.capture._acts import act_context
from aims_mlops.capture._context import CaptureContext, get_session
from aims_mlops.capture._writer import emit
from aims_mlops.config import AimsConfig, config_digest, load_config
from aims_mlops.eu_ai_act import KIND, find_incident, incident_record, parse_date, report_record
from aims_mlops.evidence import EvidenceRecord

if TYPE_CHECKING:
    from aims_mlops.evidence import SigningKey


def _context(config: str | os.PathLike[str] | None) -> CaptureContext:
    """A capture context for ``config`` (a context of its own: the process's session is left
    alone), else the session's (``aims_mlops.init`` or ``$AIMS_CONFIG`` / ``./aims.yaml``)."""
    if config is None:
        return get_session().context(key_required=True)
    return CaptureContext.from_config(load_config(config))


def _digest(config: AimsConfig | None) -> str | None:
    return None if config is None else str(config_digest(config))


def record_incident(
    system: str,
    *,
    kind: str,
    severity: str,
    summary: str,
    aware_on: str | dt.date,
    reported_on: str | dt.date | None = None,
    config: str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Record a serious incident of ``system`` with its reporting deadline (EU AI Act Art. 73).

    ``kind``: death, serious-harm, critical-infrastructure, fundamental-rights, widespread or
    other; ``reported_on``: when it was reported (else it stays open until
    :func:`report_incident`)."""
    context = _context(config)
    cfg = context.config
    if cfg is not None:
        cfg.system(system)  # unknown ids raise ConfigError naming the known ones
    record = incident_record(
        system=system,
        kind=kind,
        severity=severity,
        summary=summary,
        aware_on=parse_date(aware_on),
        reported_on=parse_date(reported_on) if reported_on is not None else None,
        config_digest=_digest(cfg),
    )
    return emit(context.with_system(system), record)


def report_incident(
    incident_id: str,
    *,
    on: str | dt.date,
    config: str | os.PathLike[str] | None = None,
    by: str | None = None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> EvidenceRecord:
    """Mark the incident ``incident_id`` (or an unambiguous prefix) as reported on ``on``: the
    act of ``by`` (default: the holder of ``key``), signed with their own key (a key object or
    a private key file; default ``$AIMS_PERSON_KEY``)."""
    name, context = act_context(config, by=by, key=key)
    records = context.store.records(kinds=[KIND])
    incident = find_incident(records, incident_id)
    record = report_record(
        incident,
        on=parse_date(on),
        config_digest=_digest(context.config),
        by=name,
    )
    return emit(context.with_system(incident.system), record)
