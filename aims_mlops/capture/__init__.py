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
    ERROR_NO_SYSTEM,
    ERROR_UNKNOWN_CONTROL,
    WARNING_NO_EXPERIMENT,
    WARNING_NOT_MIRRORED,
    assess_fairness,
    attest,
    autolog,
    check_data,
    init,
    monitor,
    validate_performance,
)
from aims_mlops.capture._context import (
    ENV_STRICT,
    ENV_SYSTEM,
    WARNING_CONFIG_UNUSABLE,
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
    ERROR_RECORD_LOST,
    WARNING_CAPTURE_FAILED,
    WARNING_RECORD_LOST,
    WARNING_SPOOLED,
    WARNING_STORE_FAILED,
    CaptureTask,
    capture,
    capture_many,
    emit,
    emit_many,
    error_record,
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
    "CaptureContext",
    "CaptureTask",
    "DocumentError",
    "Session",
    "assess_fairness",
    "attest",
    "autolog",
    "capture",
    "capture_many",
    "check_data",
    "default_session",
    "emit",
    "emit_many",
    "error_record",
    "get_session",
    "init",
    "make_store",
    "monitor",
    "records_must_be_kept",
    "reset_session",
    "resolve_system",
    "signing_key",
    "validate_performance",
]
