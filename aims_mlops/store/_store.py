"""``EvidenceStore``: the facade over the store's parts, one object per tracking store.

It owns one :class:`~aims_mlops.store._connection.Connection` and the spool and delegates:
writing and syncing to :class:`~aims_mlops.store._writer.Writer`, reading to
:class:`~aims_mlops.store._reader.Reader`, current models to
:class:`~aims_mlops.store._registry.Registry`, checking to
:func:`~aims_mlops.store._verify.verify_store`. It keeps no state between calls beyond the
MLflow client, the evidence experiment's id and a cache of records already parsed and checked.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import StoreError
from aims_mlops.evidence import NO_TRUST, EvidenceRecord, SigningKey, TrustPolicy
from aims_mlops.ledger import Scope
from aims_mlops.store import _ledger as ledger
from aims_mlops.store._connection import Connection, Unavailable, tracking_uri_without_mlflow
from aims_mlops.store._contract import artifact_path
from aims_mlops.store._reader import LOOKBACK_RUNS, Reader, ReadResult
from aims_mlops.store._registry import DEFAULT_ALIAS, CurrentModels, Registry
from aims_mlops.store._spool import Spool
from aims_mlops.store._verify import VerifyReport, verify_store
from aims_mlops.store._writer import SyncReport, Writer, WriteResult, checked_artifacts

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import CurrentModel
    from aims_mlops.evidence._documents import DocumentScope

DEFAULT_EVIDENCE_EXPERIMENT = "aims-evidence"
DEFAULT_SPOOL_DIR = ".aims/spool"
#: The last store id seen, kept in the spool folder (records spooled offline still name it).
STORE_ID_FILE = "store-id"


class EvidenceStore:
    """Evidence records in MLflow (the system of record), with a local spool when unreachable."""

    def __init__(
        self,
        *,
        tracking_uri: str | None = None,
        evidence_experiment: str = DEFAULT_EVIDENCE_EXPERIMENT,
        spool_dir: str | os.PathLike[str] = DEFAULT_SPOOL_DIR,
        registry_uri: str | None = None,
    ) -> None:
        self._evidence_experiment = evidence_experiment
        self._spool = Spool(directory=spool_dir)
        self._conn = Connection(tracking_uri=tracking_uri, registry_uri=registry_uri)
        self._writer = Writer(
            self._conn, spool=self._spool, evidence_experiment=evidence_experiment
        )
        self._reader = Reader(self._conn, evidence_experiment=evidence_experiment)
        self._registry = Registry(self._conn)
        self._identity: ledger.StoreIdentity | None = None

    def __repr__(self) -> str:
        return (
            f"EvidenceStore(tracking_uri={self.tracking_uri!r}, "
            f"evidence_experiment={self._evidence_experiment!r}, "
            f"spool_dir={str(self._spool.directory)!r})"
        )

    # -- where ---------------------------------------------------------------------------------
    @property
    def tracking_uri(self) -> str:
        """The tracking URI in use (MLflow's default resolution when none was given)."""
        return self._conn.tracking_uri

    @property
    def spool_dir(self) -> Path:
        """The spool directory (absolute)."""
        return self._spool.directory

    @property
    def evidence_experiment(self) -> str:
        """The experiment holding organization- and system-level records."""
        return self._evidence_experiment

    @property
    def client(self) -> MlflowClient:
        """The ``MlflowClient`` this store talks to (for callers that log alongside evidence)."""
        return self._conn.client

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> WriteResult:
        """Store one record (on ``run_id``, else in its own run); spool it when unreachable.

        Low level, unsigned, for tests and benchmarks that seed a store: the product writes every
        record through :mod:`aims_mlops.capture` (its writer signs and decides spooling).

        Raises :class:`EvidenceError` for an altered record and :class:`StoreError` when MLflow
        refuses the write for another reason (an unknown run, say).
        """
        return self._writer.write(record, run_id=run_id, artifacts=artifacts)

    def write_many(
        self, records: Iterable[EvidenceRecord], *, run_id: str | None = None
    ) -> list[WriteResult]:
        """Store several records; on a run, all their tags go in batched ``log_batch`` calls."""
        return self._writer.write_many(records, run_id=run_id)

    def put(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> str:
        """Store one record now, never spooling: returns the run it is stored on.

        Raises :class:`Unavailable` when the store cannot be reached (the caller decides whether
        to spool: only ``aims_mlops.capture``'s writer does), :class:`EvidenceError` for an
        altered record and :class:`StoreError` when MLflow refuses the write.
        """
        record.verify()
        artifact_path(record)  # a kind or id that cannot name a path is refused
        return self._writer.store_now(record, run_id=run_id, artifacts=checked_artifacts(artifacts))

    def put_many(self, records: Iterable[EvidenceRecord], *, run_id: str) -> None:
        """Store several records about one run now in batched writes, never spooling (raises as
        :meth:`put`)."""
        batch = list(records)
        for record in batch:
            record.verify()
            artifact_path(record)
        self._writer.store_many_now(batch, run_id=run_id)

    def log_run_metrics(self, run_id: str, metrics: Mapping[str, float]) -> bool:
        """Mirror numbers as metrics of a run, so MLflow's own UI shows them (best effort).

        Returns False when the store is unreachable (the evidence record holds the numbers; a
        mirror is not worth a spool entry). Other refusals raise :class:`StoreError`.
        """
        return self._writer.log_run_metrics(run_id, metrics)

    def spool(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
        reason: str | None = None,
    ) -> Path:
        """Put a record in the local spool for a later :meth:`sync`; returns its file."""
        return self._spool.put(record, run_id=run_id, artifacts=artifacts, reason=reason)

    def pending(self) -> int:
        """How many records wait in the spool."""
        return self._spool.pending()

    def sync(self, *, progress: bool = False) -> SyncReport:
        """Upload the spool: each record exactly once (one already stored only leaves the spool).

        Concurrent syncs share the work: each file is claimed by one of them. Stops at the first
        sign that the store is unreachable; what is left stays spooled.
        """
        return self._writer.sync(progress=progress)

    # -- reading -------------------------------------------------------------------------------
    def read(
        self,
        *,
        system: str | None = None,
        kinds: Iterable[str] | None = None,
        run_ids: Iterable[str] | None = None,
        include_org: bool = True,
        max_runs: int | None = None,
        experiment_ids: Iterable[str] | None = None,
        organization_only: bool = False,
    ) -> ReadResult:
        """Intact records of ``system`` (all systems when None) and, with ``include_org``, the
        organization's, oldest first, with the problems met (altered, unreadable or duplicated
        records are left out of ``records`` and named in ``problems`` and ``findings``). Read
        from tags: no artifact downloads but for pointers. ``run_ids``: only these runs;
        ``experiment_ids``: only these experiments (and the evidence experiment);
        ``organization_only``: organization-level records alone, from the organization's runs
        alone (no system's runs are searched)."""
        return self._reader.read(
            system=system,
            kinds=kinds,
            run_ids=run_ids,
            include_org=include_org,
            max_runs=max_runs,
            experiment_ids=experiment_ids,
            organization_only=organization_only,
        )

    def records(
        self,
        *,
        system: str | None = None,
        kinds: Iterable[str] | None = None,
        run_ids: Iterable[str] | None = None,
        include_org: bool = True,
        max_runs: int | None = None,
        experiment_ids: Iterable[str] | None = None,
    ) -> list[EvidenceRecord]:
        """The records of :meth:`read` only (use :meth:`read` to see the problems)."""
        result = self.read(
            system=system,
            kinds=kinds,
            run_ids=run_ids,
            include_org=include_org,
            max_runs=max_runs,
            experiment_ids=experiment_ids,
        )
        return list(result.records)

    def read_for(
        self,
        systems: Iterable[str],
        *,
        current_models: Mapping[str, CurrentModel | None],
        experiments: Mapping[str, str | None] | None = None,
        kinds: Iterable[str] | None = None,
        lookback_runs: int = LOOKBACK_RUNS,
    ) -> ReadResult:
        """The records the engine can use for ``systems``, read in time flat in their history.

        Reads, in this order (a record id is kept once, from the first place it is found):

        - each current model's run (taken from ``current_models`` when it is the
          :class:`CurrentModels` that :meth:`current_models` returned, else one ``get_run``);
        - the evidence experiment: system-level records of ``systems`` (one search) and the
          organization's records (one search over all experiments, once per call);
        - only when needed, one page of the system's newest ``lookback_runs`` runs in its bound
          experiment (``experiments[system]``; all experiments when none is bound or it does not
          exist). Needed when the system has no current model or one without a run, or when one
          of ``kinds`` (default: always needed) has no record on the current run or in the
          evidence experiment. When that page is full and the current model names datasets
          but no ``data_quality`` record read so far is about them, one more search per
          dataset digest (runs tagged ``aims.dataset_sha256.<digest>``).

        Look-back limit: a record about the current model (its run, version or dataset) that sits
        on a run older than the newest ``lookback_runs`` runs of the system, outside the current
        run and the evidence experiment, is not read; neither is a record on a run of an
        experiment the system is not bound to. Older records are stale for the engine anyway
        (about another run), so with a bound experiment and ``lookback_runs`` larger than the
        runs logged since the current model's run, the assessment equals the one from
        :meth:`read` over the whole history. Records oldest first, with the problems met.
        """
        return self._reader.read_for(
            systems,
            current_models=current_models,
            experiments=experiments,
            kinds=kinds,
            lookback_runs=lookback_runs,
        )

    def records_for(
        self,
        systems: Iterable[str],
        *,
        current_models: Mapping[str, CurrentModel | None],
        experiments: Mapping[str, str | None] | None = None,
        kinds: Iterable[str] | None = None,
        lookback_runs: int = LOOKBACK_RUNS,
    ) -> list[EvidenceRecord]:
        """The records of :meth:`read_for` only (use :meth:`read_for` to see the problems)."""
        result = self.read_for(
            systems,
            current_models=current_models,
            experiments=experiments,
            kinds=kinds,
            lookback_runs=lookback_runs,
        )
        return list(result.records)

    # -- the current model ---------------------------------------------------------------------
    def current_model(
        self,
        *,
        registered_model: str | None,
        alias: str = DEFAULT_ALIAS,
        version: str | None = None,
        experiment: str | None = None,
    ) -> CurrentModel | None:
        """The model version a system uses now: ``version`` of ``registered_model``, else the one
        holding ``alias``; without a registered model, the latest finished run of
        ``experiment``. None when there is none (no exception)."""
        model, _ = self._registry.current_model(
            registered_model=registered_model, alias=alias, version=version, experiment=experiment
        )
        return model

    def model_versions(self, registered_model: str) -> list[tuple[str, str | None]]:
        """``(version, registered_at)`` of every version of ``registered_model``, oldest first."""
        return self._registry.versions(registered_model)

    def current_models(self, bindings: Mapping[str, Mapping[str, Any]]) -> CurrentModels:
        """:meth:`current_model` for many systems at once: ``bindings`` maps a system to the
        keyword arguments of :meth:`current_model`. The result maps each system to its model
        and carries the runs fetched: pass it as ``current_models`` to :meth:`read_for` so
        they are not fetched again."""
        return self._registry.current_models(bindings)

    # -- the ledger ------------------------------------------------------------------------------
    def identity(self) -> ledger.StoreIdentity | None:
        """The store's id and its creation time, read (never created); None: it has none yet."""
        if self._identity is None:
            with self._conn.reading():
                self._identity = ledger.identity(self._conn, self._evidence_experiment)
        return self._identity

    def stamp(self, record: EvidenceRecord) -> EvidenceRecord:
        """``record`` naming this store (its id created on first use; the last id seen is kept
        in the spool folder for when the store is unreachable). Signed records are left as
        they are (the caller stamps before signing)."""
        return ledger.stamped(record, self._known_store_id())

    def _known_store_id(self) -> str | None:
        where = f"{self.tracking_uri}\n{self._evidence_experiment}".encode()
        cache = self._spool.directory / f"{STORE_ID_FILE}-{hashlib.sha256(where).hexdigest()[:16]}"
        if self._identity is None:
            try:
                with self._conn.reading():
                    self._identity = ledger.ensure_identity(self._conn, self._evidence_experiment)
            except (Unavailable, StoreError, OSError):
                try:
                    return cache.read_text(encoding="utf-8").strip() or None
                except OSError:
                    return None
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(self._identity.store_id, encoding="utf-8")
            except OSError:
                pass  # the cache only helps while offline; the record still names its store
        return self._identity.store_id

    def checkpoint(
        self,
        *,
        key: SigningKey | None,
        trust: TrustPolicy = NO_TRUST,
        force: bool = False,
        added: Iterable[tuple[EvidenceRecord, str]] | None = None,
    ) -> ledger.CheckpointResult:
        """Write the next checkpoint when records were added since the last (``force``: even
        when not), signed with ``key``: every record not yet listed is appended (``added``:
        only these records just written, with their runs; the store is not listed)."""
        return ledger.write_checkpoint(
            self._conn,
            self._evidence_experiment,
            key=key,
            trust=trust,
            force=force,
            added=None if added is None else list(added),
        )

    def verify_ledger(
        self,
        *,
        trust: TrustPolicy = NO_TRUST,
        kept_heads: Iterable[EvidenceRecord] = (),
        scope: Scope | None = None,
    ) -> ledger.LedgerReport:
        """The whole checkpoint chain and every listed record checked against the store as it
        is (deleted runs read too; ``kept_heads`` must still be in the chain). With ``scope``
        (what a verdict read): the newest checkpoints and the records of the judged systems
        only, at a cost that does not grow with the history."""
        if scope is not None and not tuple(kept_heads):
            return ledger.verify_scoped(
                self._conn, self._evidence_experiment, trust=trust, scope=scope
            )
        return ledger.verify_ledger(
            self._conn, self._evidence_experiment, trust=trust, kept_heads=tuple(kept_heads)
        )

    # -- verifying -----------------------------------------------------------------------------
    def verify(
        self,
        *,
        system: str | None = None,
        experiment_ids: Iterable[str] | None = None,
        trust: TrustPolicy = NO_TRUST,
        documents: DocumentScope | None = None,
    ) -> VerifyReport:
        """Check every stored record of ``system`` (all when None) and the organization: tag
        hash, artifact present and equal to the tag, the trust check
        (:func:`aims_mlops.evidence.check_record`: signatures with ``trust``'s public keys, a
        well-formed record of a known kind, not from the future, on its own run) and that it
        belongs to this store (:func:`aims_mlops.ledger.store_problem`). Downloads
        every evidence artifact (slow by design)."""
        ours = self.identity()
        return verify_store(
            self._conn,
            evidence_experiment=self._evidence_experiment,
            system=system,
            experiment_ids=experiment_ids,
            trust=trust,
            documents=documents,
            store_id=ours.store_id if ours is not None else None,
            store_created_at=ours.created_at if ours is not None else None,
        )


#: What a read says when the store it would read does not exist (nothing is created).
NOTE_NO_STORE = "no evidence store yet at {uri}"


def store_exists(uri: str) -> bool:
    """Whether the tracking store at ``uri`` exists already: a sqlite file or a file store's
    folder (opening one that does not would create it). A server store, Databricks' bare
    ``databricks`` included, is taken to exist."""
    if uri == "databricks":
        return True
    if uri.startswith("sqlite:"):
        path = uri.split(":///", 1)[-1] if ":///" in uri else ""
        return path in ("", ":memory:") or Path(path).is_file()
    if "://" not in uri or uri.startswith("file:"):
        return Path(uri.removeprefix("file://").removeprefix("file:")).exists()
    return True


class AbsentStore(EvidenceStore):
    """The read side of a local store that does not exist yet: every read finds nothing, and
    nothing is created (reading never writes). :func:`make_store` with ``reading=True`` gives
    one; writing through it creates the store as :class:`EvidenceStore` does."""

    @property
    def note(self) -> str:
        """``no evidence store yet at <uri>``."""
        return NOTE_NO_STORE.format(uri=self.tracking_uri)

    @property
    def client(self) -> Any:  # type: ignore[override]
        """None: there is no tracking server to list models from."""
        return None

    def read(self, **_: Any) -> ReadResult:
        return ReadResult(records=(), problems=())

    def read_for(self, systems: Iterable[str], **_: Any) -> ReadResult:
        return ReadResult(records=(), problems=())

    def current_model(self, **_: Any) -> CurrentModel | None:
        return None

    def model_versions(self, registered_model: str) -> list[tuple[str, str | None]]:
        return []

    def current_models(self, bindings: Mapping[str, Mapping[str, Any]]) -> CurrentModels:
        return CurrentModels({system: None for system in bindings})

    def identity(self) -> ledger.StoreIdentity | None:
        return None

    def verify_ledger(self, **_: Any) -> ledger.LedgerReport:
        return ledger.LedgerReport(
            findings=(), problems=(), head=None, replaced=frozenset(), listed=0
        )

    def verify(self, *, trust: TrustPolicy = NO_TRUST, **_: Any) -> VerifyReport:
        return VerifyReport(checked=0, intact=0, problems=(), trust=trust)


def make_store(
    config: AimsConfig | None, *, tracking_uri: str | None = None, reading: bool = False
) -> EvidenceStore:
    """The evidence store the config (or MLflow's own defaults) points at; ``tracking_uri``
    overrides the config's. ``reading``: for a read only, so a local store that does not exist
    yet is an :class:`AbsentStore` (finds nothing, creates nothing)."""
    settings = config.store if config is not None else None
    arguments: dict[str, Any] = {
        "tracking_uri": tracking_uri or (settings.tracking_uri if settings else None),
        "evidence_experiment": (
            settings.evidence_experiment if settings else DEFAULT_EVIDENCE_EXPERIMENT
        ),
        "spool_dir": settings.spool_dir if settings else DEFAULT_SPOOL_DIR,
    }
    if reading:  # a local store that does not exist: told without importing MLflow if it can be
        known = tracking_uri_without_mlflow(arguments["tracking_uri"])
        if known is not None and not store_exists(known):
            return AbsentStore(**(arguments | {"tracking_uri": known}))
    store = EvidenceStore(**arguments)
    if reading and not store_exists(store.tracking_uri):
        return AbsentStore(**arguments)
    return store
