"""The capture layer: the session, system resolution, and the one path records take to the store.

Collectors return records; this module adds the session's context, turns collector failures into
``error`` records (capture never breaks a training run unless strict mode is on) and writes them.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError, AimsWarning, CaptureError, ConfigError
from aims_mlops.evidence import EvidenceRecord, Subject, new_record

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.store import EvidenceStore

ENV_SYSTEM = "AIMS_SYSTEM"
ENV_STRICT = "AIMS_STRICT"
ENV_SIGNING_KEY = "AIMS_SIGNING_KEY"

WARNING_CAPTURE_FAILED = (
    "aims_mlops: {kind} capture failed ({error}); recorded as error record {record_id}. "
    "The run goes on; pass strict=True to aims_mlops.init() to raise instead."
)
WARNING_CONFIG_UNUSABLE = (
    "aims_mlops: {path} could not be loaded, capture runs without it:\n{error}"
)
WARNING_SPOOLED = (
    "aims_mlops: the tracking store is unreachable ({reason}); evidence is kept in the spool at "
    "{spool} and nothing is lost. Run `aims sync` once the store is back."
)
WARNING_STORE_FAILED = (
    "aims_mlops: storing {kind} record {record_id} failed ({error}); it was kept in the spool at "
    "{spool} for `aims sync`."
)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def signing_key() -> bytes | None:
    """The HMAC key records are signed with, from ``$AIMS_SIGNING_KEY`` (None when unset)."""
    from aims_mlops.evidence import signing_key_from_env  # the one reader of the variable

    return signing_key_from_env()


@dataclass
class Session:
    """What capture knows in this process: the config, the bound system, the store."""

    config_path: Path | None = None
    config: AimsConfig | None = None
    system: str | None = None
    strict: bool = False
    include_values: bool = False
    tracking_uri: str | None = None
    _store: EvidenceStore | None = field(default=None, repr=False)

    @property
    def config_digest(self) -> str | None:
        if self.config is None:
            return None
        from aims_mlops.config import config_digest

        return config_digest(self.config)

    @property
    def store(self) -> EvidenceStore:
        if self._store is None:
            self._store = make_store(self.config, tracking_uri=self.tracking_uri)
        return self._store

    def thresholds(self, section: str, system: str | None) -> dict[str, dict[str, float]]:
        """The declared ``fairness`` or ``performance`` thresholds of a system, as plain dicts."""
        system_config = self.system_config(system)
        if system_config is None:
            return {}
        declared = getattr(system_config, section, None) or {}
        return {
            name: {k: v for k, v in bound.model_dump().items() if v is not None}
            for name, bound in declared.items()
        }

    def system_config(self, system: str | None) -> Any:
        if self.config is None or system is None:
            return None
        return next((s for s in self.config.systems if s.id == system), None)


def make_store(config: AimsConfig | None, *, tracking_uri: str | None = None) -> EvidenceStore:
    """The evidence store the config (or MLflow's own defaults) points at."""
    from aims_mlops.store import EvidenceStore

    settings = config.store if config is not None else None
    return EvidenceStore(
        tracking_uri=tracking_uri or (settings.tracking_uri if settings else None),
        evidence_experiment=settings.evidence_experiment if settings else "aims-evidence",
        spool_dir=settings.spool_dir if settings else ".aims/spool",
    )


_lock = threading.Lock()
_session: Session | None = None
_warned_spool_dirs: set[str] = set()


def _note_spooled(results: Iterable[Any], session: Session) -> None:
    """Warn once per spool folder that records are waiting there (the run goes on)."""
    for result in results:
        if getattr(result, "spooled", False):
            spool = str(session.store.spool_dir)
            if spool not in _warned_spool_dirs:
                _warned_spool_dirs.add(spool)
                warnings.warn(
                    AimsWarning(WARNING_SPOOLED.format(reason=result.reason, spool=spool)),
                    stacklevel=4,
                )
            return


def _load_config_quietly(path: Path) -> AimsConfig | None:
    from aims_mlops.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        warnings.warn(
            AimsWarning(WARNING_CONFIG_UNUSABLE.format(path=path, error=exc)), stacklevel=3
        )
        return None


def default_session() -> Session:
    """A session from the environment: ``$AIMS_CONFIG`` / ``./aims.yaml`` and ``$AIMS_SYSTEM``."""
    from aims_mlops.config import default_config_path

    path = default_config_path()
    config = _load_config_quietly(path) if path.is_file() else None
    capture = config.capture if config is not None else None
    return Session(
        config_path=path if config is not None else None,
        config=config,
        system=os.environ.get(ENV_SYSTEM) or None,
        strict=_truthy(os.environ.get(ENV_STRICT)) or bool(capture and capture.strict),
        include_values=bool(capture and capture.include_values),
    )


def get_session() -> Session:
    global _session
    with _lock:
        if _session is None:
            _session = default_session()
        return _session


def set_session(session: Session | None) -> None:
    """Replace the process-wide session (``None`` forgets it; the next use rebuilds it)."""
    global _session
    with _lock:
        _session = session


def resolve_system(
    explicit: str | None = None, *, experiment_name: str | None = None
) -> str | None:
    """The AI system evidence belongs to: explicit > ``init`` > ``$AIMS_SYSTEM`` > the config's
    experiment-to-system mapping."""
    if explicit:
        return explicit
    session = get_session()
    if session.system:
        return session.system
    from_env = os.environ.get(ENV_SYSTEM)
    if from_env:
        return from_env
    if experiment_name and session.config is not None:
        return session.config.system_for_experiment(experiment_name)
    return None


def _sign(record: EvidenceRecord) -> EvidenceRecord:
    key = signing_key()
    return record.signed(key) if key is not None and record.signature is None else record


def _keep_in_spool(
    session: Session,
    record: EvidenceRecord,
    error: Exception,
    *,
    run_id: str | None,
    artifacts: Mapping[str, bytes] | None,
) -> None:
    """The store refused a record for a reason it does not spool itself: keep it locally, warn.

    Only when even the spool cannot take it (a broken store configuration, a read-only disk) is
    the record lost, and then the warning says so with the record's JSON, never silently.
    """
    try:
        where: object = session.store.spool(
            record, run_id=run_id, artifacts=artifacts, reason=str(error)
        )
    except Exception as spool_error:
        where = f"nowhere (the spool failed too: {spool_error}); the record was {record.to_json()}"
    warnings.warn(
        AimsWarning(
            WARNING_STORE_FAILED.format(
                kind=record.kind, record_id=record.id, error=error, spool=where
            )
        ),
        stacklevel=3,
    )


def emit(
    record: EvidenceRecord,
    *,
    run_id: str | None = None,
    artifacts: Mapping[str, bytes] | None = None,
) -> EvidenceRecord:
    """Store a record, signed when ``$AIMS_SIGNING_KEY`` is set. Unreachable stores spool."""
    record = _sign(record)
    session = get_session()
    try:
        result = session.store.write(record, run_id=run_id, artifacts=artifacts)
    except Exception as exc:
        # The store spools connection failures itself; anything else still must not lose the
        # record or break the caller's run.
        if session.strict:
            raise CaptureError(f"storing {record.kind} record {record.id} failed: {exc}") from exc
        _keep_in_spool(session, record, exc, run_id=run_id, artifacts=artifacts)
        return record
    _note_spooled([result], session)
    return record


def emit_many(records: Iterable[EvidenceRecord], *, run_id: str) -> list[EvidenceRecord]:
    """Store several records about one run in one batched write (spooling as :func:`emit`)."""
    batch = [_sign(record) for record in records]
    session = get_session()
    try:
        results = session.store.write_many(batch, run_id=run_id)
    except Exception as exc:
        if session.strict:
            raise CaptureError(
                f"storing {len(batch)} records on run {run_id} failed: {exc}"
            ) from exc
        for record in batch:
            _keep_in_spool(session, record, exc, run_id=run_id, artifacts=None)
        return batch
    _note_spooled(results, session)
    return batch


def error_record(
    kind: str,
    error: BaseException,
    *,
    system: str | None,
    controls: Iterable[str],
    run_id: str | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """The record that says a collector tried and failed (it never counts as passing)."""
    return new_record(
        kind="error",
        system=system,
        outcome="error",
        collector=f"aims_mlops.{kind}",
        subject=Subject(run_id=run_id),
        controls=controls,
        details={"collector_kind": kind, "error": f"{type(error).__name__}: {error}"[:2000]},
        config_digest=config_digest,
    )


def _produce(
    kind: str,
    *,
    system: str | None,
    controls: Iterable[str],
    produce: Callable[[], EvidenceRecord],
    run_id: str | None,
    strict: bool,
    session: Session,
) -> EvidenceRecord:
    """Run one collector; a failure becomes an ``error`` record and a warning (strict: raises)."""
    try:
        return produce()
    except Exception as exc:
        if strict:
            if isinstance(exc, AimsError):
                raise
            raise CaptureError(f"{kind} capture failed: {type(exc).__name__}: {exc}") from exc
        record = error_record(
            kind,
            exc,
            system=system,
            controls=controls,
            run_id=run_id,
            config_digest=session.config_digest,
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
    kind: str,
    *,
    system: str | None,
    controls: Iterable[str],
    produce: Callable[[], EvidenceRecord],
    run_id: str | None = None,
    artifacts: Callable[[EvidenceRecord], Mapping[str, bytes]] | None = None,
    strict: bool | None = None,
) -> EvidenceRecord:
    """Run a collector and store what it produced, or an ``error`` record when it failed."""
    session = get_session()
    strict = session.strict if strict is None else strict
    controls = tuple(controls)
    record = _produce(
        kind,
        system=system,
        controls=controls,
        produce=produce,
        run_id=run_id,
        strict=strict,
        session=session,
    )
    extra = None
    if artifacts is not None and record.kind == kind:
        extra = artifacts(record)
    return emit(record, run_id=run_id, artifacts=extra)


@dataclass(frozen=True, kw_only=True)
class CaptureTask:
    """One collector to run: the kind it produces, the controls it serves, and how."""

    kind: str
    controls: tuple[str, ...]
    produce: Callable[[], EvidenceRecord]


def capture_many(
    tasks: Iterable[CaptureTask],
    *,
    system: str | None,
    run_id: str,
    strict: bool | None = None,
) -> list[EvidenceRecord]:
    """Run several collectors about one run and store their records in one batched write.

    Each collector fails on its own (an ``error`` record for it, the others still count).
    """
    session = get_session()
    strict = session.strict if strict is None else strict
    records = [
        _produce(
            task.kind,
            system=system,
            controls=task.controls,
            produce=task.produce,
            run_id=run_id,
            strict=strict,
            session=session,
        )
        for task in tasks
    ]
    return emit_many(records, run_id=run_id) if records else []
