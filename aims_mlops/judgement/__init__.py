"""Judgement: where the flow joins — config + catalog + evidence store → the pure engine.

:func:`judge` loads ``aims.yaml``, the control catalog and the evidence of the systems asked for
(with each system's current model version) and runs the conformity engine once; the
:class:`Judgement` it returns holds the assessment together with those inputs, which is what views,
reports and the audit pack read. :func:`summary` and :func:`status` are its JSON-ready answers.

The release gate is a judgement too: :func:`evaluate_gate` is a pure function of one system's
assessment (:class:`GateResult`: passed or not, one reason per line); :func:`run_gate` judges a
system at a model version, evaluates the gate and, on request, promotes the version and records
the ``deployment`` evidence through a capture context of its own (never the process's session).

A verdict is judged with the configuration approved and in force (:class:`ConfigurationState`:
approved or draft, the unapproved changes); :func:`approve_configuration` is ``aims config
approve`` and :func:`accept_risk` ``aims risk accept`` (a person's acts, with their own keys).
"""

from aims_mlops.judgement._approve import (
    Approval,
    ApprovalError,
    accept_risk,
    approve_configuration,
)
from aims_mlops.judgement._configuration import ConfigurationState
from aims_mlops.judgement._gate import (
    COLLECTOR,
    DEPLOYMENT_KIND,
    ERROR_BAD_MIN_SCORE,
    ERROR_NO_REGISTERED_MODEL,
    ERROR_NO_VERSION,
    ERROR_NOT_ASSESSED,
    ERROR_PROMOTION_FAILED,
    ERROR_SELF_CONTROL,
    ERROR_UNKNOWN_VERSION,
    MAX_FAILURE_CHARS,
    MAX_FAILURES_IN_RECORD,
    PASSING_STATUSES,
    GateError,
    GateResult,
    GateRun,
    default_approver,
    deployment_controls,
    deployment_record,
    evaluate_gate,
    run_gate,
    set_alias,
    verification_controls,
)
from aims_mlops.judgement._judge import Judgement, judge, status, summary, summary_json

__all__ = [
    "COLLECTOR",
    "DEPLOYMENT_KIND",
    "ERROR_BAD_MIN_SCORE",
    "ERROR_NOT_ASSESSED",
    "ERROR_NO_REGISTERED_MODEL",
    "ERROR_NO_VERSION",
    "ERROR_PROMOTION_FAILED",
    "ERROR_SELF_CONTROL",
    "ERROR_UNKNOWN_VERSION",
    "MAX_FAILURES_IN_RECORD",
    "MAX_FAILURE_CHARS",
    "PASSING_STATUSES",
    "Approval",
    "ApprovalError",
    "ConfigurationState",
    "GateError",
    "GateResult",
    "GateRun",
    "Judgement",
    "accept_risk",
    "approve_configuration",
    "default_approver",
    "deployment_controls",
    "deployment_record",
    "evaluate_gate",
    "judge",
    "run_gate",
    "set_alias",
    "status",
    "summary",
    "summary_json",
    "verification_controls",
]
