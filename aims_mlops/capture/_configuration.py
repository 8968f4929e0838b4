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
from aims_mlops.capture._writer import emit
from aims_mlops.ledger import KIND_CONFIGURATION, configuration_record, snapshot_of

if TYPE_CHECKING:
    from aims_mlops.capture._context import CaptureContext
    from aims_mlops.evidence import EvidenceRecord
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
        read = store.read(kinds=[KIND_CONFIGURATION], experiment_ids=[], organization_only=True)
    except StoreError:
        return False
    return any(
        r.kind == KIND_CONFIGURATION and r.details.get("identity") == identity for r in read.records
    )


def record_configuration(
    context: CaptureContext, config_path: str | os.PathLike[str]
) -> EvidenceRecord | None:
    """Record the content of ``config_path`` in the context's store through the one writer
    (signed with the context's pipeline key) unless the store holds it; the record written (or
    spooled), or None. Never breaks a run: a failure warns (raises when the context is
    strict)."""
    try:
        working = snapshot_of(config_path)
        if _recorded(context.store, working.identity):
            return None
        return emit(context, configuration_record(working))  # unreachable: spooled
    except AimsError as exc:
        if context.strict:
            raise
        warnings.warn(
            AimsWarning(WARNING_NOT_RECORDED.format(path=config_path, error=exc)), stacklevel=3
        )
        return None
