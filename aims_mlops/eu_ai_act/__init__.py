"""The EU AI Act (Regulation (EU) 2024/1689) on top of the ISO/IEC 42001 evidence.

A system's classification is declared in ``aims.yaml`` (``systems[].eu_ai_act``: role, risk
class, Annex III point or Annex I product, GPAI). The articles, whom they bind and from when,
are data: the catalog's ``eu-ai-act`` crosswalk. :func:`obligation_rows` selects the articles
that bind a system and judges each from the engine's verdicts on the catalog entries it maps to.
Serious incidents (Art. 73) are ``incident`` evidence records with a reporting deadline
built here (:func:`incident_record`, :func:`report_record`) and recorded by
:func:`aims_mlops.capture.record_incident` / ``report_incident``; an unreported one past its
deadline fails the entries the catalog names for the kind. This package never writes.
"""

from aims_mlops.eu_ai_act._api import FRAMEWORK, framework_status
from aims_mlops.eu_ai_act._incidents import (
    DEADLINES,
    INCIDENT_KINDS,
    KIND,
    SEVERITIES,
    DeadlineRule,
    IncidentError,
    find_incident,
    incident_record,
    incident_rows,
    parse_date,
    report_record,
    reporting_deadline,
)
from aims_mlops.eu_ai_act._obligations import (
    applies,
    classification,
    obligation_rows,
    summary_line,
    system_line,
)

__all__ = [
    "DEADLINES",
    "FRAMEWORK",
    "INCIDENT_KINDS",
    "KIND",
    "SEVERITIES",
    "DeadlineRule",
    "IncidentError",
    "applies",
    "classification",
    "find_incident",
    "framework_status",
    "incident_record",
    "incident_rows",
    "obligation_rows",
    "parse_date",
    "report_record",
    "reporting_deadline",
    "summary_line",
    "system_line",
]
