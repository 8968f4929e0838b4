"""Recording incidents and reading framework obligations: the calls the CLI and users make."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from aims_mlops.eu_ai_act import _bridge
from aims_mlops.eu_ai_act._incidents import (
    KIND,
    find_incident,
    incident_record,
    parse_date,
    report_record,
)
from aims_mlops.eu_ai_act._obligations import FRAMEWORK, classification, obligation_rows
from aims_mlops.evidence import EvidenceRecord


def _digest(config: Any) -> str | None:
    if config is None:
        return None
    from aims_mlops.config import config_digest

    return str(config_digest(config))


def _controls() -> tuple[str, ...]:
    from aims_mlops.catalog import load_catalog

    return load_catalog().controls_for_kind(KIND)


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
    context = _bridge.capture_context(config)
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
        controls=_controls(),
        config_digest=_digest(cfg),
    )
    return _bridge.emit(context.with_system(system), record)


def report_incident(
    incident_id: str,
    *,
    on: str | dt.date,
    config: str | os.PathLike[str] | None = None,
    by: str | None = None,
    key: Any = None,
) -> EvidenceRecord:
    """Mark the incident ``incident_id`` (or an unambiguous prefix) as reported on ``on``: the
    act of ``by`` (default: the holder of ``key``), signed with their own key (a key object or
    a private key file; default ``$AIMS_PERSON_KEY``)."""
    name, context = _bridge.act_context(config, by=by, key=key)
    records = context.store.records(kinds=[KIND])
    incident = find_incident(records, incident_id)
    record = report_record(
        incident,
        on=parse_date(on),
        controls=_controls(),
        config_digest=_digest(context.config),
        by=name,
    )
    return _bridge.emit(context.with_system(incident.system), record)


def framework_status(judgement: Any, framework: str = FRAMEWORK) -> list[dict[str, Any]]:
    """Per assessed system, the items of ``framework`` that bind it, met or not (from the
    judgement's verdicts): one row per (system, item)."""
    crosswalk = judgement.catalog.crosswalk(framework)
    rows: list[dict[str, Any]] = []
    for system_id, assessment in judgement.assessment.systems.items():
        system = judgement.config.system(system_id)
        rows.extend(obligation_rows(crosswalk, assessment, classification(system)))
    return rows
