"""Every content of aims.yaml is recorded before capture uses it.

:func:`record_configuration` writes the working copy's ``configuration`` record (its text and the
public keys it names, signed with the pipeline key) unless the store already holds that content.
``aims_mlops.init`` calls it once per session; ``aims config approve`` records what it approves.
What the record is worth for verdicts is decided by approvals (:mod:`aims_mlops.ledger`).
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from aims_mlops._errors import AimsError, AimsWarning
from aims_mlops.capture._emit import emit
from aims_mlops.ledger import KIND_CONFIGURATION, configuration_record, snapshot_of

if TYPE_CHECKING:
    from aims_mlops.capture._context import CaptureContext
    from aims_mlops.evidence import EvidenceRecord

WARNING_NOT_RECORDED = (
    "aims_mlops: the configuration {path} could not be recorded in the store ({error}); "
    "capture goes on, and `aims config approve` records it"
)


def record_configuration(
    context: CaptureContext, config_path: str | os.PathLike[str]
) -> EvidenceRecord | None:
    """Record the content of ``config_path`` through ``context`` unless the store holds it;
    the record written, or None. Never breaks a run: a failure warns (raises when strict)."""
    try:
        working = snapshot_of(config_path)
        read = context.store.read(
            system=None, kinds=[KIND_CONFIGURATION], include_org=True, experiment_ids=[]
        )
        identity = working.identity
        if any(
            r.kind == KIND_CONFIGURATION and r.details.get("identity") == identity
            for r in read.records
        ):
            return None
        return emit(context.with_system(None), configuration_record(working))
    except AimsError as exc:
        if context.strict:
            raise
        warnings.warn(
            AimsWarning(WARNING_NOT_RECORDED.format(path=config_path, error=exc)), stacklevel=3
        )
        return None
