"""The one writer: every record enters the store here, and only here is it decided how.

:func:`emit` and :func:`emit_many` sign a record with the context's key (unless it is signed
already), store it (:meth:`EvidenceStore.put`, which never spools), and when the store cannot
be reached, or refuses the record for another reason, keep it in the local spool for ``aims
sync``. A record neither stored nor spooled raises :class:`CaptureError` when the context is
strict or inside :func:`records_must_be_kept` (the CLI), else a warning holds its JSON: never
silently lost. Collectors, attestations, process records, incidents, deployments, GenAI
evidence and the webhook all come through here; views, reports, judgement and the engine never
import it (``tests/unit/test_write_path.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aims_mlops._errors import AimsError, AimsWarning, CaptureError
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.store import Unavailable

if TYPE_CHECKING:
    from aims_mlops.capture._context import CaptureContext

WARNING_SPOOLED = (
    "aims_mlops: the tracking store is unreachable ({reason}); evidence is kept in the spool at "
    "{spool} and nothing is lost. Run `aims sync` once the store is back."
)
WARNING_STORE_FAILED = (
    "aims_mlops: storing {kind} record {record_id} failed ({error}); it was kept in the spool at "
    "{spool} for `aims sync`."
)
WARNING_RECORD_LOST = (
    "aims_mlops: {kind} record {record_id} was NOT recorded: the store refused it ({error}) and "
    "the spool could not keep it ({spool_error}); the record was {record_json}"
)
ERROR_RECORD_LOST = (
    "{kind} record {record_id} was not recorded: the store refused it ({error}) and the spool "
    "could not keep it ({spool_error})"
)
WARNING_CHECKPOINT_FAILED = (
    "aims_mlops: the evidence is stored, but no checkpoint was written ({error}); "
    "`aims checkpoint` lists it later"
)
ERROR_STORE_FAILED = "storing {kind} record {record_id} failed: {error}"
ERROR_STORE_MANY_FAILED = "storing {count} records on run {run_id} failed: {error}"

#: Spool folders already announced in this process (warn once per folder, not per record).
_warned_spool_dirs: set[str] = set()

#: Set by :func:`records_must_be_kept`: a record neither stored nor spooled then raises.
_MUST_KEEP: ContextVar[bool] = ContextVar("aims_mlops_records_must_be_kept", default=False)


@contextmanager
def records_must_be_kept() -> Iterator[None]:
    """Within this block a record that neither the store nor the spool could take raises
    :class:`CaptureError` (as in strict mode) instead of only warning. The CLI runs every
    command in it, so it never says "recorded" about a record that was lost."""
    token = _MUST_KEEP.set(True)
    try:
        yield
    finally:
        _MUST_KEEP.reset(token)


def _one_line(error: object) -> str:
    return " ".join(str(error).split())


def _sign(context: CaptureContext, record: EvidenceRecord) -> EvidenceRecord:
    """The record naming its store (:meth:`EvidenceStore.stamp`), signed with the context's key."""
    key = context.act_key or context.signing_key  # a person's act: their key, never the pipeline's
    if record.signature is None:
        record = context.store.stamp(record)
    return record.signed(key) if key is not None and record.signature is None else record


def _checkpoint(context: CaptureContext, stored: list[tuple[EvidenceRecord, str]]) -> None:
    """Append the records just stored (with their runs) to a new checkpoint (best effort: a
    checkpoint that cannot be written is a warning; the records are stored and the next
    checkpoint lists them)."""
    checkpoint = getattr(context.store, "checkpoint", None)
    if not stored or checkpoint is None:
        return
    try:
        checkpoint(key=context.signing_key, added=stored)
    except (AimsError, OSError) as exc:
        warnings.warn(
            AimsWarning(WARNING_CHECKPOINT_FAILED.format(error=_one_line(exc))), stacklevel=3
        )


def _spool(
    context: CaptureContext,
    record: EvidenceRecord,
    error: Exception,
    *,
    run_id: str | None,
    artifacts: Mapping[str, bytes] | None,
) -> None:
    """Keep a record the store did not take in the spool, and say so (once per folder when the
    store is away; per record when it refused). A spool that cannot take it either: lost,
    raised when strict or inside :func:`records_must_be_kept`, else a warning with its JSON."""
    unreachable = isinstance(error, Unavailable)
    try:
        where = context.store.spool(record, run_id=run_id, artifacts=artifacts, reason=str(error))
    except Exception as spool_error:
        fields = {
            "kind": record.kind,
            "record_id": record.id,
            "error": "unreachable" if unreachable else _one_line(error),
            "spool_error": _one_line(spool_error),
        }
        if context.strict or _MUST_KEEP.get():
            raise CaptureError(ERROR_RECORD_LOST.format(**fields)) from spool_error
        warnings.warn(
            AimsWarning(WARNING_RECORD_LOST.format(**fields, record_json=record.to_json())),
            stacklevel=4,
        )
        return
    if unreachable:
        folder = str(context.store.spool_dir)
        if folder not in _warned_spool_dirs:
            _warned_spool_dirs.add(folder)
            warnings.warn(
                AimsWarning(WARNING_SPOOLED.format(reason=error, spool=folder)), stacklevel=4
            )
        return
    warnings.warn(
        AimsWarning(
            WARNING_STORE_FAILED.format(
                kind=record.kind, record_id=record.id, error=error, spool=where
            )
        ),
        stacklevel=4,
    )


def emit(
    context: CaptureContext,
    record: EvidenceRecord,
    *,
    run_id: str | None = None,
    artifacts: Mapping[str, bytes] | None = None,
) -> EvidenceRecord:
    """Sign ``record`` with the context's key and store it (on ``run_id``, else in a run of its
    own); an unreachable store spools it. Returns the record as stored (signed).

    Never raises unless the context is strict (then :class:`CaptureError`; an unreachable
    store still only spools) or the record was lost inside :func:`records_must_be_kept`."""
    record = _sign(context, record)
    try:
        stored_on = context.store.put(record, run_id=run_id, artifacts=artifacts)
    except Unavailable as exc:
        _spool(context, record, exc, run_id=run_id, artifacts=artifacts)
    except Exception as exc:
        # Anything else still must not lose the record or break the caller's run.
        if context.strict:
            raise CaptureError(
                ERROR_STORE_FAILED.format(kind=record.kind, record_id=record.id, error=exc)
            ) from exc
        _spool(context, record, exc, run_id=run_id, artifacts=artifacts)
    else:
        _checkpoint(context, [(record, stored_on)] if stored_on else [])
    return record


def emit_many(
    context: CaptureContext, records: Sequence[EvidenceRecord], *, run_id: str
) -> list[EvidenceRecord]:
    """Sign and store several records about one run in one batched write (spooling as
    :func:`emit`)."""
    batch = [_sign(context, record) for record in records]
    if not batch:
        return []
    try:
        context.store.put_many(batch, run_id=run_id)
    except Exception as exc:
        if context.strict and not isinstance(exc, Unavailable):
            raise CaptureError(
                ERROR_STORE_MANY_FAILED.format(count=len(batch), run_id=run_id, error=exc)
            ) from exc
        for record in batch:
            _spool(context, record, exc, run_id=run_id, artifacts=None)
        return batch
    _checkpoint(context, [(record, run_id) for record in batch])
    return batch
