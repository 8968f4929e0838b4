"""The evidence store: MLflow as the system of record for evidence, with a local spool.

Evidence lives with what it is about. A run-level record is a tag ``aims.evidence.<id>`` (the
record's JSON, or a pointer when large) plus the artifact ``aims/evidence/<kind>/<id>.json`` on
its run; an organization- or system-level record gets a run of its own in the evidence
experiment (``aims-evidence``). Reading searches runs by the ``aims.system`` tag and parses the
tags, so it scales with MLflow itself; :meth:`EvidenceStore.verify` also checks every artifact.
When MLflow is unreachable a record is written atomically to the spool directory and
:meth:`EvidenceStore.sync` uploads it later, exactly once.

The storage contract (tag names, artifact paths, the parse of a stored record) is in
``aims_mlops.store._contract``, which imports no MLflow; its names are re-exported here.
Reads return a :class:`ReadResult` (records and the problems met). MLflow is imported on first
use, not by ``import aims_mlops.store``.
"""

from aims_mlops.store._connection import BUSY_RETRY_SECONDS, Unavailable, classify_failure
from aims_mlops.store._contract import (
    EVIDENCE_ARTIFACT_DIR,
    EXTRA_ARTIFACT_DIR,
    MAX_TAG_JSON_CHARS,
    SCOPE_ORGANIZATION,
    TAG_CONFIG_DIGEST,
    TAG_DATASET_SHA256_PREFIX,
    TAG_EVIDENCE_PREFIX,
    TAG_KIND,
    TAG_SCOPE,
    TAG_SYSTEM,
    StoredRecord,
    artifact_path,
    dataset_sha256_tag,
    evidence_tag,
    parse_stored,
    tag_value,
)
from aims_mlops.store._reader import LOOKBACK_RUNS, ReadResult
from aims_mlops.store._registry import CurrentModels
from aims_mlops.store._spool import STALE_CLAIM_SECONDS, Spool, SpoolEntry, SpoolError
from aims_mlops.store._store import (
    NOTE_NO_STORE,
    AbsentStore,
    EvidenceStore,
    make_store,
    store_exists,
)
from aims_mlops.store._verify import VerifyReport
from aims_mlops.store._writer import SyncReport, WriteResult

__all__ = [
    "BUSY_RETRY_SECONDS",
    "EVIDENCE_ARTIFACT_DIR",
    "EXTRA_ARTIFACT_DIR",
    "LOOKBACK_RUNS",
    "MAX_TAG_JSON_CHARS",
    "NOTE_NO_STORE",
    "SCOPE_ORGANIZATION",
    "STALE_CLAIM_SECONDS",
    "TAG_CONFIG_DIGEST",
    "TAG_DATASET_SHA256_PREFIX",
    "TAG_EVIDENCE_PREFIX",
    "TAG_KIND",
    "TAG_SCOPE",
    "TAG_SYSTEM",
    "AbsentStore",
    "CurrentModels",
    "EvidenceStore",
    "ReadResult",
    "Spool",
    "SpoolEntry",
    "SpoolError",
    "StoredRecord",
    "SyncReport",
    "Unavailable",
    "VerifyReport",
    "WriteResult",
    "artifact_path",
    "classify_failure",
    "dataset_sha256_tag",
    "evidence_tag",
    "make_store",
    "parse_stored",
    "store_exists",
    "tag_value",
]
