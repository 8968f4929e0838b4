"""Capture: how evidence gets from the work where models are built into the store.

A collector produces an :class:`~aims_mlops.evidence.EvidenceRecord`; capture runs it inside an
explicit :class:`CaptureContext` (the store, the AI system, strict mode, the row-value rule, the
config and the signing key), turns a collector failure into an ``error`` record and a warning
(capture never breaks a run unless strict), signs the record and writes it, spooling when the
store is unreachable. Which controls a kind of evidence speaks to is the catalog's answer only.

The :class:`Session` is what ``aims_mlops.init(...)`` binds for the process (or what the
environment gives); the public capture functions (:func:`check_data`, :func:`assess_fairness`,
:func:`validate_performance`, :func:`monitor`, :func:`attest`) build their context from it, or
from the config they are given, and never replace or change it. Code that holds its own config
and store (the release gate, reports) builds its own context with
:meth:`CaptureContext.from_config`.
"""

from aims_mlops.capture._api import (
    ERROR_ATTEST_SCOPE,
    ERROR_BLANK,
    ERROR_NO_METRICS,
    ERROR_UNKNOWN_CONTROL,
    assess_fairness,
    attest,
    autolog,
    check_data,
    init,
    monitor,
    validate_performance,
)
from aims_mlops.capture._approve import (
    Approval,
    ApprovalError,
    accept_risk,
    approve_configuration,
)
from aims_mlops.capture._context import (
    ENV_STRICT,
    ENV_SYSTEM,
    ERROR_NO_SYSTEM,
    WARNING_CONFIG_UNUSABLE,
    WARNING_NO_EXPERIMENT,
    WARNING_NOT_MIRRORED,
    WARNING_SIGNING_KEY_UNUSABLE,
    CaptureContext,
    Session,
    default_session,
    get_session,
    make_store,
    reset_session,
    resolve_system,
    signing_key,
)
from aims_mlops.capture._emit import (
    ERROR_RECORDS_ITSELF,
    WARNING_CAPTURE_FAILED,
    CaptureTask,
    capture,
    capture_many,
    collect,
    error_record,
)
from aims_mlops.capture._gate import GateRun, run_gate, set_alias
from aims_mlops.capture._genai import (
    assess_genai,
    collect_ended_run,
    genai_evaluation_from_run,
    monitor_traces,
)
from aims_mlops.capture._incidents import record_incident, report_incident
from aims_mlops.capture._people import record_acknowledgement, record_training
from aims_mlops.capture._process import (
    ProcessRecordError,
    RecordedAudit,
    record_internal_audit,
    record_management_review,
    sync_register,
    update_nonconformity,
    verify_nonconformity,
)
from aims_mlops.capture._writer import (
    ERROR_RECORD_LOST,
    WARNING_RECORD_LOST,
    WARNING_SPOOLED,
    WARNING_STORE_FAILED,
    emit,
    emit_many,
    records_must_be_kept,
)
from aims_mlops.evidence._documents import DocumentError

__all__ = [
    "ENV_STRICT",
    "ENV_SYSTEM",
    "ERROR_ATTEST_SCOPE",
    "ERROR_BLANK",
    "ERROR_NO_METRICS",
    "ERROR_NO_SYSTEM",
    "ERROR_RECORDS_ITSELF",
    "ERROR_RECORD_LOST",
    "ERROR_UNKNOWN_CONTROL",
    "WARNING_CAPTURE_FAILED",
    "WARNING_CONFIG_UNUSABLE",
    "WARNING_NOT_MIRRORED",
    "WARNING_NO_EXPERIMENT",
    "WARNING_RECORD_LOST",
    "WARNING_SIGNING_KEY_UNUSABLE",
    "WARNING_SPOOLED",
    "WARNING_STORE_FAILED",
    "Approval",
    "ApprovalError",
    "CaptureContext",
    "CaptureTask",
    "DocumentError",
    "GateRun",
    "ProcessRecordError",
    "RecordedAudit",
    "Session",
    "accept_risk",
    "approve_configuration",
    "assess_fairness",
    "assess_genai",
    "attest",
    "autolog",
    "capture",
    "capture_many",
    "check_data",
    "collect",
    "collect_ended_run",
    "default_session",
    "emit",
    "emit_many",
    "error_record",
    "genai_evaluation_from_run",
    "get_session",
    "init",
    "make_store",
    "monitor",
    "monitor_traces",
    "record_acknowledgement",
    "record_incident",
    "record_internal_audit",
    "record_management_review",
    "record_training",
    "records_must_be_kept",
    "report_incident",
    "reset_session",
    "resolve_system",
    "run_gate",
    "set_alias",
    "signing_key",
    "sync_register",
    "update_nonconformity",
    "validate_performance",
    "verify_nonconformity",
]
