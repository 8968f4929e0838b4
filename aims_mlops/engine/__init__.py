"""The conformity engine: where each AI system stands against ISO/IEC 42001, and why.

:func:`assess` is a pure function of the control catalog, the configuration (``aims.yaml``), the
evidence records and the current model of each system, at a given moment ``now``. For every
in-scope system it decides the status of every clause and Annex A control (``satisfied``,
``failing``, ``missing``, ``stale``, ``not_applicable``), each with human-readable reasons and the
ids of the records (or ``config:<digest>#<path>`` declarations) behind it; evaluates the risk
register (inherent and residual likelihood × impact against the appetite); lists the gaps in
priority order; and builds the Statement of Applicability and the certification readiness.
Views (widgets, CLI, reports, the gate) read these results and never compute status themselves;
:func:`summary_dict` is the stable JSON form of one system's assessment.
"""

from aims_mlops.engine._audits import (
    ERROR_BAD_AS_OF,
    evidence_digest,
    iso_moment,
    parse_as_of,
    records_as_of,
)
from aims_mlops.engine._engine import (
    ERROR_OUT_OF_SCOPE,
    assess,
    assess_system,
    risk_rows,
    soa_rows,
    status_rows,
    summary_dict,
)
from aims_mlops.engine._lifecycle import (
    LifecycleView,
    NextAction,
    PhaseProgress,
    lifecycle_text,
    lifecycle_view,
)
from aims_mlops.engine._results import (
    FAILING,
    MISSING,
    NOT_APPLICABLE,
    SATISFIED,
    STALE,
    STATUSES,
    Assessment,
    Blocker,
    ControlStatus,
    CurrentModel,
    Gap,
    PartStatus,
    Readiness,
    RiskResult,
    SoaEntry,
    SystemAssessment,
)
from aims_mlops.engine._status import duty_states, is_duty

__all__ = [
    "ERROR_BAD_AS_OF",
    "ERROR_OUT_OF_SCOPE",
    "FAILING",
    "MISSING",
    "NOT_APPLICABLE",
    "SATISFIED",
    "STALE",
    "STATUSES",
    "Assessment",
    "Blocker",
    "ControlStatus",
    "CurrentModel",
    "Gap",
    "LifecycleView",
    "NextAction",
    "PartStatus",
    "PhaseProgress",
    "Readiness",
    "RiskResult",
    "SoaEntry",
    "SystemAssessment",
    "assess",
    "assess_system",
    "duty_states",
    "evidence_digest",
    "is_duty",
    "iso_moment",
    "lifecycle_text",
    "lifecycle_view",
    "parse_as_of",
    "records_as_of",
    "risk_rows",
    "soa_rows",
    "status_rows",
    "summary_dict",
]
