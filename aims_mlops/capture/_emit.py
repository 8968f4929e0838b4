"""The one path records take to the store: emit, capture, and the ``error`` record of a failure.

Every function takes an explicit :class:`~aims_mlops.capture.CaptureContext`. Collectors return
records; :func:`capture` runs one, turns its failure into an ``error`` record (capture never
breaks a training run unless the context is strict) and emits what it got. The controls an
``error`` record speaks to are the catalog's for the kind that failed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aims_mlops._errors import AimsError, AimsWarning, CaptureError
from aims_mlops.capture._context import CaptureContext
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.store._spool import SpoolError

ERROR_KIND = "error"
WARNING_CHECKPOINT_FAILED = (
    "aims_mlops: the evidence is stored, but no checkpoint was written ({error}); "
    "`aims checkpoint` lists it later"
)
WARNING_CAPTURE_FAILED = (
    "aims_mlops: {kind} capture failed ({error}); recorded as error record {record_id}. "
    "The run goes on; pass strict=True to aims_mlops.init() to raise instead."
)
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
ERROR_STORE_FAILED = "storing {kind} record {record_id} failed: {error}"
ERROR_STORE_MANY_FAILED = "storing {count} records on run {run_id} failed: {error}"
ERROR_CAPTURE_FAILED = "{kind} capture failed: {error}"

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


def _catalog_controls(kind: str) -> tuple[str, ...]:
    """The catalog ids evidence of ``kind`` speaks to (the catalog is the only answer)."""
    from aims_mlops.catalog import load_catalog

    return load_catalog().controls_for_kind(kind)


def _note_spooled(results: Iterable[Any], context: CaptureContext) -> None:
    """Warn once per spool folder that records are waiting there (the run goes on)."""
    for result in results:
        if getattr(result, "spooled", False):
            spool = str(context.store.spool_dir)
            if spool not in _warned_spool_dirs:
                _warned_spool_dirs.add(spool)
                warnings.warn(
                    AimsWarning(WARNING_SPOOLED.format(reason=result.reason, spool=spool)),
                    stacklevel=4,
                )
            return


def _sign(context: CaptureContext, record: EvidenceRecord) -> EvidenceRecord:
    """The record naming its store (:meth:`EvidenceStore.stamp`), signed with the context's key."""
    key = context.act_key or context.signing_key  # a person's act: their key, never the pipeline's
    if record.signature is None:
        record = context.store.stamp(record)
    return record.signed(key) if key is not None and record.signature is None else record


def _keep_in_spool(
    context: CaptureContext,
    record: EvidenceRecord,
    error: Exception,
    *,
    run_id: str | None,
    artifacts: Mapping[str, bytes] | None,
) -> None:
    """The store refused a record for a reason it does not spool itself: keep it locally, warn.

    Only when even the spool cannot take it (a full or read-only disk, a missing folder) is the
    record lost: then :class:`CaptureError` when the context is strict or inside
    :func:`records_must_be_kept`, else a warning holding the record's JSON, never silently.
    """
    try:
        if isinstance(error, SpoolError):  # the store was unreachable and spooling failed
            raise error
        where: object = context.store.spool(
            record, run_id=run_id, artifacts=artifacts, reason=str(error)
        )
    except Exception as spool_error:
        fields = {
            "kind": record.kind,
            "record_id": record.id,
            "error": "unreachable" if spool_error is error else _one_line(error),
            "spool_error": _one_line(spool_error),
        }
        if context.strict or _MUST_KEEP.get():
            raise CaptureError(ERROR_RECORD_LOST.format(**fields)) from spool_error
        warnings.warn(
            AimsWarning(WARNING_RECORD_LOST.format(**fields, record_json=record.to_json())),
            stacklevel=3,
        )
        return
    warnings.warn(
        AimsWarning(
            WARNING_STORE_FAILED.format(
                kind=record.kind, record_id=record.id, error=error, spool=where
            )
        ),
        stacklevel=3,
    )


def emit(
    context: CaptureContext,
    record: EvidenceRecord,
    *,
    run_id: str | None = None,
    artifacts: Mapping[str, bytes] | None = None,
) -> EvidenceRecord:
    """Store a record in the context's store, signed with its key. Unreachable stores spool.

    Never raises unless the context is strict (then :class:`CaptureError`)."""
    record = _sign(context, record)
    try:
        result = context.store.write(record, run_id=run_id, artifacts=artifacts)
    except Exception as exc:
        # The store spools connection failures itself; anything else still must not lose the
        # record or break the caller's run.
        if context.strict:
            raise CaptureError(
                ERROR_STORE_FAILED.format(kind=record.kind, record_id=record.id, error=exc)
            ) from exc
        _keep_in_spool(context, record, exc, run_id=run_id, artifacts=artifacts)
        return record
    _note_spooled([result], context)
    _checkpoint(context, [record], [result])
    return record


def emit_many(
    context: CaptureContext, records: Iterable[EvidenceRecord], *, run_id: str
) -> list[EvidenceRecord]:
    """Store several records about one run in one batched write (spooling as :func:`emit`)."""
    batch = [_sign(context, record) for record in records]
    try:
        results = context.store.write_many(batch, run_id=run_id)
    except Exception as exc:
        if context.strict:
            raise CaptureError(
                ERROR_STORE_MANY_FAILED.format(count=len(batch), run_id=run_id, error=exc)
            ) from exc
        for record in batch:
            _keep_in_spool(context, record, exc, run_id=run_id, artifacts=None)
        return batch
    _note_spooled(results, context)
    _checkpoint(context, batch, results)
    return batch


def _checkpoint(
    context: CaptureContext, records: list[EvidenceRecord], results: Iterable[Any]
) -> None:
    """Append the records just stored to a new checkpoint (best effort: a checkpoint that cannot
    be written is a warning; the records are stored and the next checkpoint lists them)."""
    stored = [
        (record, result.run_id)
        for record, result in zip(records, results, strict=False)
        if not getattr(result, "spooled", True) and getattr(result, "run_id", None)
    ]
    checkpoint = getattr(context.store, "checkpoint", None)
    if not stored or checkpoint is None:
        return
    try:
        checkpoint(key=context.signing_key, added=stored)
    except (AimsError, OSError) as exc:
        warnings.warn(
            AimsWarning(WARNING_CHECKPOINT_FAILED.format(error=_one_line(exc))), stacklevel=3
        )


def error_record(
    kind: str,
    error: BaseException,
    *,
    system: str | None,
    run_id: str | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The record that says a collector of ``kind`` tried and failed (it never counts as passing).

    It speaks to the controls the catalog names for ``kind``."""
    return new_record(
        kind=ERROR_KIND,
        system=system,
        outcome="error",
        collector=f"aims_mlops.{kind}",
        subject=Subject(run_id=run_id),
        controls=_catalog_controls(kind),
        details={"collector_kind": kind, "error": f"{type(error).__name__}: {error}"[:2000]},
        config_digest=config_digest,
    )


def _produce(
    context: CaptureContext,
    kind: str,
    produce: Callable[[], EvidenceRecord],
    *,
    run_id: str | None,
) -> EvidenceRecord:
    """Run one collector; a failure becomes an ``error`` record and a warning (strict: raises)."""
    try:
        return produce()
    except Exception as exc:
        if context.strict:
            if isinstance(exc, AimsError):
                raise
            raise CaptureError(
                ERROR_CAPTURE_FAILED.format(kind=kind, error=f"{type(exc).__name__}: {exc}")
            ) from exc
        record = error_record(
            kind,
            exc,
            system=context.system,
            run_id=run_id,
            config_digest=context.config_digest,
        )
        warnings.warn(
            AimsWarning(
                WARNING_CAPTURE_FAILED.format(
                    kind=kind, error=f"{type(exc).__name__}: {exc}", record_id=record.id
                )
            ),
            stacklevel=4,
        )
        return record


def capture(
    context: CaptureContext,
    kind: str,
    *,
    produce: Callable[[], EvidenceRecord],
    run_id: str | None = None,
    artifacts: Callable[[EvidenceRecord], Mapping[str, bytes]] | None = None,
) -> EvidenceRecord:
    """Run a collector of ``kind`` and store what it produced, or an ``error`` record when it
    failed. ``artifacts`` (called only for a record of ``kind``) adds files to the record."""
    record = _produce(context, kind, produce, run_id=run_id)
    extra = artifacts(record) if artifacts is not None and record.kind == kind else None
    return emit(context, record, run_id=run_id, artifacts=extra)


@dataclass(frozen=True, kw_only=True)
class CaptureTask:
    """One collector to run: the kind of evidence it produces, and how."""

    kind: str
    produce: Callable[[], EvidenceRecord]


def capture_many(
    context: CaptureContext, tasks: Iterable[CaptureTask], *, run_id: str
) -> list[EvidenceRecord]:
    """Run several collectors about one run and store their records in one batched write.

    Each collector fails on its own (an ``error`` record for it, the others still count).
    """
    records = [_produce(context, task.kind, task.produce, run_id=run_id) for task in tasks]
    return emit_many(context, records, run_id=run_id) if records else []
