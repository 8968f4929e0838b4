"""The evidence store: MLflow as the system of record for evidence, with a local spool.

Evidence lives with what it is about. A run-level record is a tag ``aims.evidence.<id>`` (the
record's JSON, or a pointer when large) plus the artifact ``aims/evidence/<kind>/<id>.json`` on
its run; an organization- or system-level record gets a run of its own in the evidence
experiment (``aims-evidence``). Reading searches runs by the ``aims.system`` tag and parses the
tags, so it scales with MLflow itself; :meth:`EvidenceStore.verify` also checks every artifact.
When MLflow is unreachable a record is written atomically to the spool directory and
:meth:`EvidenceStore.sync` uploads it later, exactly once.

MLflow is imported on first use, not by ``import aims_mlops.store``.
"""

from aims_mlops.store._mlflow_store import (
    BUSY_RETRY_SECONDS,
    MAX_TAG_JSON_CHARS,
    EvidenceStore,
    SyncReport,
    VerifyReport,
    WriteResult,
    artifact_path,
    classify_failure,
    tag_value,
)
from aims_mlops.store._spool import STALE_CLAIM_SECONDS, Spool, SpoolEntry, SpoolError

__all__ = [
    "BUSY_RETRY_SECONDS",
    "MAX_TAG_JSON_CHARS",
    "STALE_CLAIM_SECONDS",
    "EvidenceStore",
    "Spool",
    "SpoolEntry",
    "SpoolError",
    "SyncReport",
    "VerifyReport",
    "WriteResult",
    "artifact_path",
    "classify_failure",
    "tag_value",
]
