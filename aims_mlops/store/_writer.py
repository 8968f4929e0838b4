"""Writing evidence: retried MLflow writes, batched tags, the spool when the store is away, sync.

The artifact is written before the evidence tag, so a tag always means the write completed.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from aims_mlops._errors import StoreError
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.store import _contract as contract
from aims_mlops.store._connection import Connection, Unavailable
from aims_mlops.store._spool import Spool, SpoolError

#: Tags per ``log_batch`` call (MLflow's limit).
TAGS_PER_BATCH = 100

ERROR_EXPERIMENT_DELETED = (
    "the evidence experiment {name!r} is deleted in MLflow: restore it, or set "
    "store.evidence_experiment to another name"
)
ERROR_SYNC_RECORD = "record {id}: {error}"

_SYNC_LOCK = threading.Lock()


@dataclass(frozen=True)
class WriteResult:
    """What became of one record: stored on ``run_id``, or ``spooled`` (and why)."""

    record_id: str
    run_id: str | None
    spooled: bool
    reason: str | None


@dataclass(frozen=True)
class SyncReport:
    """The outcome of uploading the spool."""

    uploaded: int
    already_present: int
    failed: int
    remaining: int
    errors: tuple[str, ...]


def checked_artifacts(artifacts: Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Extra artifacts with safe names (:class:`StoreError` for ``..`` or absolute names)."""
    return {contract.safe_artifact_name(n): bytes(d) for n, d in (artifacts or {}).items()}


class Writer:
    """Stores records in MLflow on one connection, spooling them when it is unreachable."""

    def __init__(self, conn: Connection, *, spool: Spool, evidence_experiment: str) -> None:
        self._conn = conn
        self._spool = spool
        self._evidence_experiment = evidence_experiment
        self._evidence_experiment_id: str | None = None

    # -- writing -----------------------------------------------------------------------------
    def write(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> WriteResult:
        """Store one record (on ``run_id``, else in its own run); spool it when unreachable."""
        record.verify()
        contract.artifact_path(record)  # a kind or id that cannot name a path is refused
        extra = checked_artifacts(artifacts)
        try:
            stored_on = self.store_now(record, run_id=run_id, artifacts=extra)
        except Unavailable as exc:
            self._spool.put(record, run_id=run_id, artifacts=extra, reason=str(exc))
            return WriteResult(record_id=record.id, run_id=run_id, spooled=True, reason=str(exc))
        return WriteResult(record_id=record.id, run_id=stored_on, spooled=False, reason=None)

    def write_many(
        self, records: Iterable[EvidenceRecord], *, run_id: str | None = None
    ) -> list[WriteResult]:
        """Store several records; on a run, all their tags go in batched ``log_batch`` calls."""
        batch = list(records)
        for record in batch:
            record.verify()
            contract.artifact_path(record)
        if run_id is None:
            return [self.write(record) for record in batch]
        if not batch:
            return []
        try:
            self._conn.probe()
            self._write_run_level(run_id, batch, {})
        except Unavailable as exc:
            for record in batch:
                self._spool.put(record, run_id=run_id, reason=str(exc))
            return [WriteResult(r.id, run_id, True, str(exc)) for r in batch]
        return [WriteResult(r.id, run_id, False, None) for r in batch]

    def log_run_metrics(self, run_id: str, metrics: Mapping[str, float]) -> bool:
        """Mirror numbers as metrics of a run (best effort): False when unreachable."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(name, float(value), now, 0) for name, value in metrics.items()]
        if not items:
            return True
        try:
            self._conn.probe()
            self._conn.write_call(
                functools.partial(self._conn.client.log_batch, run_id, metrics=items),
                record_id=f"(metrics of run {run_id})",
            )
        except Unavailable:
            return False
        return True

    def store_now(
        self, record: EvidenceRecord, *, run_id: str | None, artifacts: Mapping[str, bytes]
    ) -> str:
        """Write one record now (no spool); returns the run it is stored on."""
        # the spool is untrusted input: its artifacts are checked here as a direct write's are
        artifacts = checked_artifacts(artifacts)
        self._conn.probe()
        if run_id is not None:
            self._write_run_level(run_id, [record], artifacts)
            return run_id
        return self._write_own_run(record, artifacts)

    def _upload_artifacts(
        self, run_id: str, records: list[EvidenceRecord], artifacts: Mapping[str, bytes]
    ) -> None:
        with tempfile.TemporaryDirectory(prefix="aims-evidence-") as tmp:
            root = Path(tmp)
            for record in records:
                target = contract.contained(
                    root, contract.artifact_path(record), record_id=record.id
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(record.to_json(), encoding="utf-8")
            for name, data in artifacts.items():
                target = contract.contained(
                    root, contract.extra_artifact_path(name), record_id=records[0].id
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            local = str(root / contract.ARTIFACT_ROOT)
            self._conn.write_call(
                functools.partial(
                    self._conn.client.log_artifacts, run_id, local, contract.ARTIFACT_ROOT
                ),
                record_id=records[0].id,
            )

    def _log_tags(self, run_id: str, tags: Mapping[str, str], *, record_id: str) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(key, value) for key, value in tags.items()]
        for start in range(0, len(items), TAGS_PER_BATCH):
            chunk = items[start : start + TAGS_PER_BATCH]
            self._conn.write_call(
                functools.partial(self._conn.client.log_batch, run_id, tags=chunk),
                record_id=record_id,
            )

    def _write_run_level(
        self, run_id: str, records: list[EvidenceRecord], artifacts: Mapping[str, bytes]
    ) -> None:
        self._upload_artifacts(run_id, records, artifacts)
        self._log_tags(run_id, contract.run_level_tags(records), record_id=records[0].id)

    def _write_own_run(self, record: EvidenceRecord, artifacts: Mapping[str, bytes]) -> str:
        experiment_id = self._experiment_id(create=True, record_id=record.id)
        assert experiment_id is not None
        client = self._conn.client
        run = self._conn.write_call(
            functools.partial(
                client.create_run,
                experiment_id,
                run_name=contract.own_run_name(record),
                tags=contract.own_run_tags(record),
            ),
            record_id=record.id,
        )
        run_id = run.info.run_id
        try:
            self._upload_artifacts(run_id, [record], artifacts)
            self._log_tags(
                run_id,
                {contract.evidence_tag(record.id): contract.tag_value(record)},
                record_id=record.id,
            )
        except Unavailable:
            raise  # the empty run holds no evidence tag, so readers ignore it
        except StoreError:
            # MLflow refused: remove the run without evidence (best effort, the error is raised)
            with contextlib.suppress(StoreError):
                self._conn.write_call(
                    functools.partial(client.delete_run, run_id), record_id=record.id
                )
            raise
        self._conn.write_call(
            functools.partial(client.set_terminated, run_id, "FINISHED"), record_id=record.id
        )
        return run_id

    def _experiment_id(self, *, create: bool, record_id: str = "") -> str | None:
        """The evidence experiment's id (created on first write); None when absent and not
        ``create``."""
        if self._evidence_experiment_id is not None:
            return self._evidence_experiment_id
        name = self._evidence_experiment
        client = self._conn.client
        get = functools.partial(client.get_experiment_by_name, name)
        experiment = self._conn.write_call(get, record_id=record_id)
        if experiment is None:
            if not create:
                return None
            try:
                self._evidence_experiment_id = self._conn.write_call(
                    functools.partial(client.create_experiment, name), record_id=record_id
                )
                return self._evidence_experiment_id
            except Unavailable:
                raise
            except StoreError as exc:  # another writer created it first
                if getattr(exc.__cause__, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment = self._conn.write_call(get, record_id=record_id)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            raise StoreError(ERROR_EXPERIMENT_DELETED.format(name=name))
        self._evidence_experiment_id = str(experiment.experiment_id)
        return self._evidence_experiment_id

    # -- syncing -----------------------------------------------------------------------------
    def _already_stored(self, record: EvidenceRecord, run_id: str | None) -> bool:
        tag = contract.evidence_tag(record.id)
        client = self._conn.client
        if run_id is not None:
            run = self._conn.write_call(
                functools.partial(client.get_run, run_id), record_id=record.id
            )
            return tag in run.data.tags
        experiment_id = self._experiment_id(create=False, record_id=record.id)
        if experiment_id is None:
            return False
        found = self._conn.write_call(
            functools.partial(
                client.search_runs,
                [experiment_id],
                filter_string=contract.has_tag_filter(tag),
                max_results=1,
            ),
            record_id=record.id,
        )
        return len(found) > 0

    def sync(self, *, progress: bool = False) -> SyncReport:
        """Upload the spool: each record exactly once (one already stored only leaves the spool).

        Concurrent syncs share the work: each file is claimed by one of them. Stops at the first
        sign that the store is unreachable; what is left stays spooled.
        """
        counts = {"uploaded": 0, "already_present": 0, "failed": 0}
        errors: list[str] = []
        with _SYNC_LOCK:
            candidates = self._spool.candidates()
            items: Iterable[Path] = candidates
            if progress and candidates:
                from tqdm.auto import tqdm

                items = tqdm(candidates, desc="aims sync", unit="record")
            for path in items:
                outcome = self._sync_one(path, errors)
                if outcome in counts:
                    counts[outcome] += 1
                elif outcome == "unreachable":
                    counts["failed"] += 1
                    break
        return SyncReport(remaining=self._spool.pending(), errors=tuple(errors), **counts)

    def _sync_one(self, path: Path, errors: list[str]) -> str:
        """Upload one spool file: ``uploaded``, ``already_present``, ``failed``, ``skipped``
        (another uploader has it) or ``unreachable`` (failed, and stop syncing)."""
        claimed = self._spool.claim(path)
        if claimed is None:
            return "skipped"
        try:
            entry = self._spool.load(claimed)
        except SpoolError as exc:
            errors.append(str(exc))
            self._spool.release(claimed)
            return "failed"
        try:
            self._conn.probe()
            if self._already_stored(entry.record, entry.run_id):
                outcome = "already_present"
            else:
                self.store_now(entry.record, run_id=entry.run_id, artifacts=entry.artifacts)
                outcome = "uploaded"
        except StoreError as exc:
            errors.append(ERROR_SYNC_RECORD.format(id=entry.record.id, error=exc))
            self._spool.release(claimed)
            return "unreachable" if isinstance(exc, Unavailable) else "failed"
        self._spool.done(claimed)
        return outcome
