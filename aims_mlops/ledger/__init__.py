"""The configuration ledger: aims.yaml counts for verdicts once approved, and trust is anchored
in the chain of approvals (the old approved configuration signs for the new), not in the file.

Pure (config + evidence). See :mod:`aims_mlops.ledger._ledger`.
"""

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

__all__ = [
    "KIND_APPROVAL",
    "KIND_CONFIGURATION",
    "LEDGER_KINDS",
    "Ledger",
    "Link",
    "Snapshot",
    "approval_record",
    "change_controls",
    "configuration_record",
    "key_paths",
    "policy_for",
    "resolve_ledger",
    "snapshot_from_record",
    "snapshot_of",
]
