"""Running collectors: capture, and the ``error`` record of a failure.

Every function takes an explicit :class:`~aims_mlops.capture.CaptureContext`. Collectors return
records; :func:`capture` runs one, turns its failure into an ``error`` record (capture never
breaks a training run unless the context is strict) and hands what it got to the one writer
(:mod:`aims_mlops.capture._writer`). The controls an ``error`` record speaks to are the
catalog's for the kind that failed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aims_mlops._errors import AimsError, AimsWarning, CaptureError
from aims_mlops.capture._context import CaptureContext
from aims_mlops.capture._writer import emit, emit_many
from aims_mlops.catalog import catalog_record
from aims_mlops.evidence import EvidenceRecord, KindRegistry, Subject, load_kinds

ERROR_KIND = "error"
WARNING_CAPTURE_FAILED = (
    "aims_mlops: {kind} capture failed ({error}); recorded as error record {record_id}. "
    "The run goes on; pass strict=True to aims_mlops.init() to raise instead."
)
ERROR_CAPTURE_FAILED = "{kind} capture failed: {error}"
ERROR_RECORDS_ITSELF = (
    "evidence kind {kind!r} is recorded by its producer {producer} itself: call that instead"
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
    return catalog_record(
        kind=ERROR_KIND,
        controls_of=kind,
        system=system,
        outcome="error",
        collector=f"aims_mlops.{kind}",
        subject=Subject(run_id=run_id),
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


def collect(
    context: CaptureContext,
    kind: str,
    /,
    *args: Any,
    run_id: str | None = None,
    registry: KindRegistry | None = None,
    **inputs: Any,
) -> EvidenceRecord:
    """Run the registered collector of ``kind`` and store its record through the one writer.

    The collector is the kind's producer in the registry (default: this installation's kinds,
    built in and entry points): a pure function called with ``args``, ``inputs`` and the
    context's ``system`` and ``config_digest``, returning the record. Its failure becomes an
    ``error`` record (capture never breaks a run unless strict)."""
    entry = (registry if registry is not None else load_kinds()).get(kind)
    if entry.records_itself:
        raise AimsError(ERROR_RECORDS_ITSELF.format(kind=kind, producer=entry.producer))
    producer = entry.load_producer()
    return capture(
        context,
        kind,
        produce=lambda: producer(
            *args, system=context.system, config_digest=context.config_digest, **inputs
        ),
        run_id=run_id,
    )
