"""The EU AI Act (Regulation (EU) 2024/1689) on top of the ISO/IEC 42001 evidence.

A system's classification is declared in ``aims.yaml`` (``systems[].eu_ai_act``: role, risk
class, Annex III point or Annex I product, GPAI). The articles, whom they bind and from when,
are data: the catalog's ``eu-ai-act`` crosswalk. :func:`obligation_rows` selects the articles
that bind a system and judges each from the engine's verdicts on the catalog entries it maps to.
Serious incidents (Art. 73) are ``incident`` evidence records with a reporting deadline
(:func:`record_incident`, :func:`report_incident`); an unreported one past its deadline fails
the entries the catalog names for the kind.
"""

from aims_mlops.eu_ai_act._api import (
    FRAMEWORK,
    framework_status,
    record_incident,
    report_incident,
)
from aims_mlops.eu_ai_act._incidents import (
    DEADLINES,
    INCIDENT_KINDS,
    SEVERITIES,
    DeadlineRule,
    IncidentError,
    incident_record,
    incident_rows,
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
    "SEVERITIES",
    "DeadlineRule",
    "IncidentError",
    "applies",
    "classification",
    "framework_status",
    "incident_record",
    "incident_rows",
    "obligation_rows",
    "record_incident",
    "report_incident",
    "report_record",
    "reporting_deadline",
    "summary_line",
    "system_line",
]
