"""Judgement: where the flow joins — config + catalog + evidence store → the pure engine.

:func:`judge` loads ``aims.yaml``, the control catalog and the evidence of the systems asked for
(with each system's current model version) and runs the conformity engine once; the
:class:`Judgement` it returns holds the assessment together with those inputs, which is what views,
reports and the audit pack read. :func:`summary` and :func:`status` are its JSON-ready answers.

The release gate is a judgement too: :func:`evaluate_gate` is a pure function of one system's
assessment (:class:`GateResult`: passed or not, one reason per line); :func:`deployment_record`
builds the ``deployment`` record of a promotion attempt. Running the gate (promoting, recording)
is :func:`aims_mlops.capture.run_gate`: judgement only reads.

A verdict is judged with the configuration approved and in force (:class:`ConfigurationState`:
approved or draft, the unapproved changes); approving it (``aims config approve``) and
accepting a risk (``aims risk accept``) are a person's acts, recorded by
:mod:`aims_mlops.capture` (:func:`~aims_mlops.capture.approve_configuration`).
"""

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
    default_approver,
    deployment_controls,
    deployment_record,
    evaluate_gate,
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
    "ConfigurationState",
    "GateError",
    "GateResult",
    "Judgement",
    "default_approver",
    "deployment_controls",
    "deployment_record",
    "evaluate_gate",
    "judge",
    "status",
    "summary",
    "summary_json",
    "verification_controls",
]
