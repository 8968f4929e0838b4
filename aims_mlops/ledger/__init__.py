"""The ledger: signed checkpoints that make the store append-only in effect, and store ids.

A checkpoint lists every record in the store (id and content hash, in the order they were
checkpointed) under an RFC 6962 Merkle root, names the previous checkpoint by hash and is
signed with the pipeline key: any two heads can be proven consistent (the later extends the
earlier), and a record listed in a checkpoint that is later gone, altered or only in a deleted
run is a finding. Each store has an id that every record names in its signed content, so a
genuine record copied from another store is a finding too.

Pure (hashlib and the evidence model only); the store side is :mod:`aims_mlops.store._ledger`.

The configuration ledger (:mod:`aims_mlops.ledger._ledger`): every content of aims.yaml recorded
with its key material, and the chain of approvals (the previous approved configuration signs for
the next, as TUF's root does) that decides which configuration counts for verdicts.
"""

from aims_mlops.ledger._checkpoint import (
    CHECKPOINT_KIND,
    ENTRIES_PATH,
    MAX_ENTRIES_BYTES,
    WHY_ALTERED,
    WHY_BROKEN_LINK,
    WHY_DELETED_RUN,
    WHY_ENTRIES_ALTERED,
    WHY_GONE,
    WHY_HEAD_DIFFERS,
    WHY_HEAD_MISSING,
    WHY_INCONSISTENT,
    WHY_SEGMENT_COUNT,
    WHY_SEQUENCE_GAP,
    ChainProblem,
    Checkpoint,
    Copy,
    Entry,
    LedgerError,
    Scope,
    Segment,
    check_chain,
    check_entries,
    check_head,
    check_scoped,
    entries_bytes,
    fresh_entries,
    merged_tail,
    next_checkpoint,
    parse_entries,
    tag_sha256,
)
from aims_mlops.ledger._identity import (
    WHY_NO_STORE,
    WHY_OTHER_STORE,
    WHY_STORE_HAS_NO_ID,
    store_problem,
)
from aims_mlops.ledger._ledger import (
    KIND_APPROVAL,
    KIND_CONFIGURATION,
    LEDGER_KINDS,
    Ledger,
    Link,
    Snapshot,
    approval_record,
    change_controls,
    configuration_record,
    key_paths,
    policy_for,
    resolve_ledger,
    snapshot_from_record,
    snapshot_of,
)
from aims_mlops.ledger._merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    leaf_hash,
    node_hash,
    prefix_roots,
    tree_root,
    verify_consistency,
)

__all__ = [
    "CHECKPOINT_KIND",
    "EMPTY_ROOT",
    "ENTRIES_PATH",
    "KIND_APPROVAL",
    "KIND_CONFIGURATION",
    "LEDGER_KINDS",
    "MAX_ENTRIES_BYTES",
    "WHY_ALTERED",
    "WHY_BROKEN_LINK",
    "WHY_DELETED_RUN",
    "WHY_ENTRIES_ALTERED",
    "WHY_GONE",
    "WHY_HEAD_DIFFERS",
    "WHY_HEAD_MISSING",
    "WHY_INCONSISTENT",
    "WHY_NO_STORE",
    "WHY_OTHER_STORE",
    "WHY_SEGMENT_COUNT",
    "WHY_SEQUENCE_GAP",
    "WHY_STORE_HAS_NO_ID",
    "ChainProblem",
    "Checkpoint",
    "Copy",
    "Entry",
    "Frontier",
    "Ledger",
    "LedgerError",
    "Link",
    "Scope",
    "Segment",
    "Snapshot",
    "approval_record",
    "change_controls",
    "check_chain",
    "check_entries",
    "check_head",
    "check_scoped",
    "configuration_record",
    "consistency_proof",
    "entries_bytes",
    "fresh_entries",
    "key_paths",
    "leaf_hash",
    "merged_tail",
    "next_checkpoint",
    "node_hash",
    "parse_entries",
    "policy_for",
    "prefix_roots",
    "resolve_ledger",
    "snapshot_from_record",
    "snapshot_of",
    "store_problem",
    "tag_sha256",
    "tree_root",
    "verify_consistency",
]
