"""Every content of aims.yaml is recorded before capture uses it.

:func:`record_configuration` writes the working copy's ``configuration`` record (its text and the
public keys it names, signed with the pipeline key) unless the store already holds that content.
A session does it once, when it first gives a capture context (:meth:`Session.context`);
``aims config approve`` records what it approves. What the record is worth for verdicts is
decided by approvals (:mod:`aims_mlops.ledger`).
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from aims_mlops._errors import AimsError, AimsWarning, StoreError
from aims_mlops.ledger import KIND_CONFIGURATION, configuration_record, snapshot_of

if TYPE_CHECKING:
    from aims_mlops.evidence import EvidenceRecord, SigningKey
    from aims_mlops.store import EvidenceStore

WARNING_NOT_RECORDED = (
    "aims_mlops: the configuration {path} could not be recorded in the store ({error}); "
    "capture goes on, and `aims config approve` records it"
)


def _recorded(store: EvidenceStore, identity: str) -> bool:
    """Whether the store holds a configuration record of ``identity``; False when it cannot be
    read (an unreachable store: the record is spooled, and a second copy of the same content
    is harmless: the ledger keys contents by identity)."""
    try:
        read = store.read(
            system=None, kinds=[KIND_CONFIGURATION], include_org=True, experiment_ids=[]
        )
    except StoreError:
        return False
    return any(
        r.kind == KIND_CONFIGURATION and r.details.get("identity") == identity
        for r in read.records
    )


def record_configuration(
    store: EvidenceStore,
    config_path: str | os.PathLike[str],
    *,
    key: SigningKey | None,
    strict: bool = False,
) -> EvidenceRecord | None:
    """Record the content of ``config_path`` (signed with ``key``) unless the store holds it;
    the record written (or spooled), or None. Never breaks a run: a failure warns (raises when
    ``strict``)."""
    try:
        working = snapshot_of(config_path)
        if _recorded(store, working.identity):
            return None
        record = configuration_record(working)
        record = record.signed(key) if key is not None else record
        store.write(record)  # an unreachable store spools it
        return record
    except AimsError as exc:
        if strict:
            raise
        warnings.warn(
            AimsWarning(WARNING_NOT_RECORDED.format(path=config_path, error=exc)), stacklevel=3
        )
        return None
