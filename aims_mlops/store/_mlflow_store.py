"""The evidence store on MLflow: tags for fast reads, artifacts as the durable copy, a spool.

Layout (docs/ARCHITECTURE.md, "Store"):

- a run-level record lives on its run: tag ``aims.system``, tag ``aims.evidence.<id>`` holding the
  record's canonical JSON (or, above :data:`MAX_TAG_JSON_CHARS`, a pointer
  ``{"id", "content_hash", "artifact"}``) and the artifact ``aims/evidence/<kind>/<id>.json``;
- an organization- or system-level record gets its own run in the evidence experiment, named
  ``<kind>:<system or org>``, tagged ``aims.kind`` and ``aims.system`` (or
  ``aims.scope=organization``), with the same evidence tag and artifact.

The artifact is written before the evidence tag, so a tag always means the write completed.
MLflow is imported on first use only.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlparse

from aims_mlops._errors import EvidenceError, StoreError
from aims_mlops.evidence import EvidenceRecord, canonical_json
from aims_mlops.store._spool import Spool, SpoolError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

    from aims_mlops.engine import CurrentModel

T = TypeVar("T")

TAG_SYSTEM = "aims.system"
TAG_SCOPE = "aims.scope"
TAG_KIND = "aims.kind"
TAG_EVIDENCE_PREFIX = "aims.evidence."
TAG_DATASET_SHA256_PREFIX = "aims.dataset_sha256."
SCOPE_ORGANIZATION = "organization"
EVIDENCE_ARTIFACT_DIR = "aims/evidence"
EXTRA_ARTIFACT_DIR = "aims/artifacts"
ENV_SIGNING_KEY = "AIMS_SIGNING_KEY"

#: Largest record JSON stored whole in its tag (MLflow 3 allows 8,000 characters per tag value).
MAX_TAG_JSON_CHARS = 7_000
#: How long a write keeps retrying a busy store (sqlite "database is locked", HTTP 503) before
#: it spools the record.
BUSY_RETRY_SECONDS = 30.0
#: Connect timeout of the reachability probe of an HTTP tracking server, in seconds.
PROBE_TIMEOUT_SECONDS = 2.0
#: Runs per page when reading, and experiments per search.
PAGE_SIZE = 1000
_EXPERIMENT_CHUNK = 100
#: Newest runs of a system :meth:`EvidenceStore.records_for` reads when the current model's run
#: and the evidence experiment do not hold every kind the engine needs.
LOOKBACK_RUNS = 100
#: Concurrent requests when reading many systems at once (each request waits on the server).
READ_THREADS = 4
#: Tags per ``log_batch`` call (MLflow's limit).
_TAGS_PER_BATCH = 100

#: MLflow settings our own writes use, set only around our calls (MLflow reads them per request):
#: one immediate retry and no minutes-long backoff, so a stopped server spools in about a second.
WRITE_ENV: Mapping[str, str] = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
READ_ENV: Mapping[str, str] = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}

ERROR_UNREACHABLE = "the MLflow tracking store at {uri} is unreachable: {error}"
ERROR_BUSY = "the MLflow tracking store at {uri} stayed busy for {seconds:.0f} s: {error}"
ERROR_WRITE_FAILED = "could not write evidence record {id} to MLflow at {uri}: {error}"
ERROR_READ_FAILED = "could not read evidence from MLflow at {uri}: {error}"
ERROR_EXPERIMENT_DELETED = (
    "the evidence experiment {name!r} is deleted in MLflow: restore it, or set "
    "store.evidence_experiment to another name"
)
ERROR_BAD_ARTIFACT_NAME = "artifact name {name!r} must be a relative path without '..'"
ERROR_RUN_NOT_FOUND = "run {run_id} not found in MLflow at {uri}"

PROBLEM_NOT_JSON = "record {id} on run {run_id}: the evidence tag is not valid JSON ({error})"
PROBLEM_MALFORMED = "record {id} on run {run_id}: the evidence tag holds no valid record ({error})"
PROBLEM_ID_MISMATCH = "record {id} on run {run_id}: the evidence tag holds record {other}"
PROBLEM_ALTERED = (
    "record {id} on run {run_id}: content hash does not match the content: the {where} was altered"
)
PROBLEM_SIGNATURE = (
    "record {id} on run {run_id}: signature missing or wrong for the key in $AIMS_SIGNING_KEY"
)
PROBLEM_ARTIFACT_MISSING = "record {id} on run {run_id}: artifact {path} is missing"
PROBLEM_ARTIFACT_DIFFERS = "record {id} on run {run_id}: artifact {path} differs from the tag"
PROBLEM_ARTIFACT_UNREADABLE = (
    "record {id} on run {run_id}: artifact {path} holds no valid record ({error})"
)
PROBLEM_DUPLICATE = "record {id} on run {run_id}: also stored on run {other_run_id}, kept once"

_ENV_LOCK = threading.RLock()
_SYNC_LOCK = threading.Lock()

_UNREACHABLE_PATTERNS = (
    "connection refused",
    "failed to establish a new connection",
    "newconnectionerror",
    "connection aborted",
    "connection reset",
    "remotedisconnected",
    "name or service not known",
    "temporary failure in name resolution",
    "timed out",
    "unable to open database file",
)
_BUSY_PATTERNS = (
    "database is locked",
    "database table is locked",
    "too many 429 error responses",
    "too many 502 error responses",
    "too many 503 error responses",
    "too many 504 error responses",
)

Failure = Literal["unreachable", "busy", "fatal"]


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


@dataclass(frozen=True)
class VerifyReport:
    """Integrity of stored evidence; each problem names the record id, run id and the fault."""

    checked: int
    intact: int
    problems: tuple[str, ...]


class _Unavailable(StoreError):
    """The store cannot be reached now (or stayed busy): the record goes to the spool."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify_failure(exc: BaseException) -> Failure:
    """``unreachable`` (spool now), ``busy`` (retry, then spool) or ``fatal`` (raise)."""
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if any(pattern in text for pattern in _BUSY_PATTERNS):
        return "busy"
    for link in _chain(exc):
        if isinstance(link, ConnectionError | TimeoutError | socket.timeout):
            return "unreachable"
        module = type(link).__module__
        name = type(link).__name__
        if module.startswith(("requests", "urllib3")) and (
            "Connection" in name or "Timeout" in name or name in ("MaxRetryError", "ProtocolError")
        ):
            return "unreachable"
    if any(pattern in text for pattern in _UNREACHABLE_PATTERNS):
        return "unreachable"
    if "max retries exceeded" in text:
        return "unreachable"
    error_code = getattr(exc, "error_code", None)
    if error_code == "TEMPORARILY_UNAVAILABLE":
        return "busy"
    return "fatal"


@contextlib.contextmanager
def _scoped_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables around one of our MLflow calls and restore them after.

    MLflow reads its HTTP retry settings from the environment on each request; the lock keeps
    our threads from interleaving (other threads' MLflow calls see these values meanwhile).
    """
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _signing_key() -> bytes | None:
    value = os.environ.get(ENV_SIGNING_KEY)
    return value.encode("utf-8") if value else None


def artifact_path(record: EvidenceRecord) -> str:
    """Where a record's JSON lives among its run's artifacts."""
    return f"{EVIDENCE_ARTIFACT_DIR}/{record.kind}/{record.id}.json"


def tag_value(record: EvidenceRecord) -> str:
    """The evidence tag: the whole canonical JSON, or a pointer to the artifact when too long."""
    text = record.to_json()
    if len(text) <= MAX_TAG_JSON_CHARS:
        return text
    return canonical_json(
        {"id": record.id, "content_hash": record.content_hash, "artifact": artifact_path(record)}
    )


def _is_pointer(data: Any) -> bool:
    return isinstance(data, dict) and set(data) == {"id", "content_hash", "artifact"}


def _safe_artifact_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise StoreError(ERROR_BAD_ARTIFACT_NAME.format(name=name))
    return str(path)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _current_model_class() -> type[CurrentModel]:
    from aims_mlops.engine import CurrentModel  # lazily: the engine imports catalog and config

    return CurrentModel


class EvidenceStore:
    """Evidence records in MLflow (the system of record), with a local spool when unreachable."""

    def __init__(
        self,
        *,
        tracking_uri: str | None = None,
        evidence_experiment: str = "aims-evidence",
        spool_dir: str | os.PathLike[str] = ".aims/spool",
        registry_uri: str | None = None,
    ) -> None:
        self._tracking_uri = tracking_uri
        self._registry_uri = registry_uri
        self._evidence_experiment = evidence_experiment
        self._spool = Spool(directory=spool_dir)
        self._client_obj: MlflowClient | None = None
        self._evidence_experiment_id: str | None = None
        self._cache: dict[tuple[str, str], EvidenceRecord] = {}
        #: Runs :meth:`current_model` fetched, handed once to :meth:`records_for` (never reused
        #: later, so a long-lived store sees new tags).
        self._current_runs: dict[str, Run] = {}
        #: The experiment listing (name to id) :meth:`current_models` made, handed once to
        #: :meth:`records_for`.
        self._listing: dict[str, str] | None = None
        self._busy_seconds = BUSY_RETRY_SECONDS
        #: Problems met by the last :meth:`records` call (altered or unreadable records).
        self.last_read_problems: list[str] = []

    def __repr__(self) -> str:
        return (
            f"EvidenceStore(tracking_uri={self.tracking_uri!r}, "
            f"evidence_experiment={self._evidence_experiment!r}, "
            f"spool_dir={str(self._spool.directory)!r})"
        )

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def tracking_uri(self) -> str:
        """The tracking URI in use (MLflow's default resolution when none was given)."""
        if self._tracking_uri is None:
            import mlflow

            self._tracking_uri = mlflow.get_tracking_uri()
        return self._tracking_uri

    @property
    def spool_dir(self) -> Path:
        return self._spool.directory

    @property
    def evidence_experiment(self) -> str:
        return self._evidence_experiment

    @property
    def client(self) -> MlflowClient:
        """The ``MlflowClient`` this store talks to (for callers that log alongside evidence)."""
        return self._client

    @property
    def _client(self) -> MlflowClient:
        if self._client_obj is None:
            from mlflow import MlflowClient

            self._client_obj = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self._registry_uri
            )
        return self._client_obj

    def _probe(self) -> None:
        """Fail fast (``_Unavailable``) when an HTTP tracking server does not accept connections."""
        parsed = urlparse(self.tracking_uri)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=PROBE_TIMEOUT_SECONDS):
                pass
        except OSError as exc:
            raise _Unavailable(ERROR_UNREACHABLE.format(uri=self.tracking_uri, error=exc)) from exc

    def _write_call(self, fn: Callable[[], T], *, record_id: str) -> T:
        """One MLflow write step: fast-failing, retried with jittered backoff while busy."""
        from mlflow.exceptions import MlflowException

        deadline = time.monotonic() + self._busy_seconds
        attempt = 0
        while True:
            try:
                with _scoped_env(WRITE_ENV):
                    return fn()
            except (MlflowException, OSError) as exc:
                failure = classify_failure(exc)
                if failure == "unreachable":
                    raise _Unavailable(
                        ERROR_UNREACHABLE.format(uri=self.tracking_uri, error=exc)
                    ) from exc
                if failure == "fatal":
                    raise StoreError(
                        ERROR_WRITE_FAILED.format(id=record_id, uri=self.tracking_uri, error=exc)
                    ) from exc
                if time.monotonic() >= deadline:
                    raise _Unavailable(
                        ERROR_BUSY.format(
                            uri=self.tracking_uri, seconds=self._busy_seconds, error=exc
                        )
                    ) from exc
                delay = min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5)
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
                attempt += 1

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Around a read: probe HTTP servers, quiet progress bars, MLflow errors as StoreError."""
        from mlflow.exceptions import MlflowException

        self._probe()
        try:
            with _scoped_env(READ_ENV):
                yield
        except MlflowException as exc:
            if classify_failure(exc) == "unreachable":
                raise _Unavailable(
                    ERROR_UNREACHABLE.format(uri=self.tracking_uri, error=exc)
                ) from exc
            raise StoreError(ERROR_READ_FAILED.format(uri=self.tracking_uri, error=exc)) from exc

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> WriteResult:
        """Store one record (on ``run_id``, else in its own run); spool it when unreachable.

        Raises :class:`EvidenceError` for an altered record and :class:`StoreError` when MLflow
        refuses the write for another reason (an unknown run, say).
        """
        record.verify()
        extra = {_safe_artifact_name(n): bytes(d) for n, d in (artifacts or {}).items()}
        try:
            stored_on = self._store_now(record, run_id=run_id, artifacts=extra)
        except _Unavailable as exc:
            self.spool(record, run_id=run_id, artifacts=extra, reason=str(exc))
            return WriteResult(record_id=record.id, run_id=run_id, spooled=True, reason=str(exc))
        return WriteResult(record_id=record.id, run_id=stored_on, spooled=False, reason=None)

    def write_many(
        self, records: Iterable[EvidenceRecord], *, run_id: str | None = None
    ) -> list[WriteResult]:
        """Store several records; on a run, all their tags go in batched ``log_batch`` calls."""
        batch = list(records)
        for record in batch:
            record.verify()
        if run_id is None:
            return [self.write(record) for record in batch]
        if not batch:
            return []
        try:
            self._probe()
            self._write_run_level(run_id, batch, {})
        except _Unavailable as exc:
            for record in batch:
                self.spool(record, run_id=run_id, reason=str(exc))
            return [WriteResult(r.id, run_id, True, str(exc)) for r in batch]
        return [WriteResult(r.id, run_id, False, None) for r in batch]

    def log_run_metrics(self, run_id: str, metrics: Mapping[str, float]) -> bool:
        """Mirror numbers as metrics of a run, so MLflow's own UI shows them (best effort).

        Returns False when the store is unreachable (the evidence record holds the numbers; a
        mirror is not worth a spool entry). Other refusals raise :class:`StoreError`.
        """
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(name, float(value), now, 0) for name, value in metrics.items()]
        if not items:
            return True
        try:
            self._probe()
            self._write_call(
                lambda: self._client.log_batch(run_id, metrics=items),
                record_id=f"(metrics of run {run_id})",
            )
        except _Unavailable:
            return False
        return True

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

    def _store_now(
        self, record: EvidenceRecord, *, run_id: str | None, artifacts: Mapping[str, bytes]
    ) -> str:
        self._probe()
        if run_id is not None:
            self._write_run_level(run_id, [record], artifacts)
            return run_id
        return self._write_own_run(record, artifacts)

    def _upload_artifacts(
        self,
        run_id: str,
        records: list[EvidenceRecord],
        artifacts: Mapping[str, bytes],
    ) -> None:
        with tempfile.TemporaryDirectory(prefix="aims-evidence-") as tmp:
            root = Path(tmp)
            for record in records:
                target = root / artifact_path(record)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(record.to_json(), encoding="utf-8")
            for name, data in artifacts.items():
                target = root / EXTRA_ARTIFACT_DIR / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self._write_call(
                lambda: self._client.log_artifacts(run_id, str(root / "aims"), "aims"),
                record_id=records[0].id,
            )

    def _log_tags(self, run_id: str, tags: dict[str, str], *, record_id: str) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(key, value) for key, value in tags.items()]
        for start in range(0, len(items), _TAGS_PER_BATCH):
            chunk = items[start : start + _TAGS_PER_BATCH]
            self._write_call(
                lambda chunk=chunk: self._client.log_batch(run_id, tags=chunk),
                record_id=record_id,
            )

    def _write_run_level(
        self, run_id: str, records: list[EvidenceRecord], artifacts: Mapping[str, bytes]
    ) -> None:
        self._upload_artifacts(run_id, records, artifacts)
        tags: dict[str, str] = {}
        systems = [r.system for r in records if r.system is not None]
        if systems:
            tags[TAG_SYSTEM] = systems[0]
        if len(systems) < len(records):
            tags[TAG_SCOPE] = SCOPE_ORGANIZATION
        for record in records:
            tags[f"{TAG_EVIDENCE_PREFIX}{record.id}"] = tag_value(record)
        self._log_tags(run_id, tags, record_id=records[0].id)

    def _evidence_experiment_id_or_none(self, *, create: bool, record_id: str = "") -> str | None:
        """The evidence experiment's id (created on first write); None when absent and not
        ``create``."""
        if self._evidence_experiment_id is not None:
            return self._evidence_experiment_id
        name = self._evidence_experiment
        experiment = self._write_call(
            lambda: self._client.get_experiment_by_name(name), record_id=record_id
        )
        if experiment is None:
            if not create:
                return None
            try:
                self._evidence_experiment_id = self._write_call(
                    lambda: self._client.create_experiment(name), record_id=record_id
                )
                return self._evidence_experiment_id
            except _Unavailable:
                raise
            except StoreError as exc:  # another writer created it first
                if getattr(exc.__cause__, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment = self._write_call(
                    lambda: self._client.get_experiment_by_name(name), record_id=record_id
                )
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            raise StoreError(ERROR_EXPERIMENT_DELETED.format(name=name))
        self._evidence_experiment_id = str(experiment.experiment_id)
        return self._evidence_experiment_id

    def _write_own_run(self, record: EvidenceRecord, artifacts: Mapping[str, bytes]) -> str:
        experiment_id = self._evidence_experiment_id_or_none(create=True, record_id=record.id)
        assert experiment_id is not None
        tags = {TAG_KIND: record.kind}
        if record.system is None:
            tags[TAG_SCOPE] = SCOPE_ORGANIZATION
        else:
            tags[TAG_SYSTEM] = record.system
        run = self._write_call(
            lambda: self._client.create_run(
                experiment_id, run_name=f"{record.kind}:{record.system or 'org'}", tags=tags
            ),
            record_id=record.id,
        )
        run_id = run.info.run_id
        try:
            self._upload_artifacts(run_id, [record], artifacts)
            self._log_tags(
                run_id,
                {f"{TAG_EVIDENCE_PREFIX}{record.id}": tag_value(record)},
                record_id=record.id,
            )
        except _Unavailable:
            raise  # the empty run holds no evidence tag, so readers ignore it
        except StoreError:
            # MLflow refused: remove the run without evidence (best effort, the error is raised)
            with contextlib.suppress(StoreError):
                self._write_call(lambda: self._client.delete_run(run_id), record_id=record.id)
            raise
        self._write_call(
            lambda: self._client.set_terminated(run_id, "FINISHED"), record_id=record.id
        )
        return run_id

    # -- reading -------------------------------------------------------------------------------
    def _all_experiment_ids(self) -> list[str]:
        return list(self._experiment_listing().values())

    def _experiment_listing(self) -> dict[str, str]:
        """Every active experiment, name to id (one request per 1,000 experiments)."""
        from mlflow.entities import ViewType

        listing: dict[str, str] = {}
        token: str | None = None
        while True:
            page = self._client.search_experiments(
                view_type=ViewType.ACTIVE_ONLY, max_results=PAGE_SIZE, page_token=token
            )
            listing.update((e.name, str(e.experiment_id)) for e in page)
            token = page.token
            if not token:
                return listing

    def _search(
        self, experiment_ids: list[str], filter_string: str, *, max_runs: int | None = None
    ) -> Iterator[Run]:
        page_size = PAGE_SIZE if max_runs is None else max(1, min(PAGE_SIZE, max_runs))
        for start in range(0, len(experiment_ids), _EXPERIMENT_CHUNK):
            chunk = experiment_ids[start : start + _EXPERIMENT_CHUNK]
            token: str | None = None
            while True:
                page = self._client.search_runs(
                    chunk,
                    filter_string=filter_string,
                    max_results=page_size,
                    order_by=["attributes.start_time DESC"],
                    page_token=token,
                )
                yield from page
                token = page.token
                if not token:
                    break

    def _newest_runs(self, experiment_ids: list[str], filter_string: str, count: int) -> list[Run]:
        """The newest ``count`` runs matching ``filter_string``: one page per 100 experiments."""
        runs: list[Run] = []
        for start in range(0, len(experiment_ids), _EXPERIMENT_CHUNK):
            runs.extend(
                self._client.search_runs(
                    experiment_ids[start : start + _EXPERIMENT_CHUNK],
                    filter_string=filter_string,
                    max_results=max(1, min(PAGE_SIZE, count)),
                    order_by=["attributes.start_time DESC"],
                )
            )
        if len(experiment_ids) > _EXPERIMENT_CHUNK:
            runs.sort(key=lambda run: run.info.start_time or 0, reverse=True)
        return runs[:count]

    def _runs(
        self,
        *,
        system: str | None,
        run_ids: Iterable[str] | None,
        include_org: bool,
        max_runs: int | None,
        experiment_ids: Iterable[str] | None,
    ) -> list[Run]:
        """The runs that may hold the wanted evidence (found by tag, never by listing all)."""
        from mlflow.exceptions import MlflowException

        if run_ids is not None:
            runs = []
            for run_id in run_ids:
                try:
                    runs.append(self._client.get_run(run_id))
                except MlflowException as exc:
                    if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                        raise
                    raise StoreError(
                        ERROR_RUN_NOT_FOUND.format(run_id=run_id, uri=self.tracking_uri)
                    ) from exc
            return runs[:max_runs] if max_runs is not None else runs
        if experiment_ids is None:
            ids = self._all_experiment_ids()
        else:
            ids = [str(i) for i in experiment_ids]
            evidence = self._client.get_experiment_by_name(self._evidence_experiment)
            if evidence is not None and str(evidence.experiment_id) not in ids:
                ids.append(str(evidence.experiment_id))
        if not ids:
            return []
        filters = [
            f"tags.`{TAG_SYSTEM}` = '{_quote(system)}'"
            if system is not None
            else f"tags.`{TAG_SYSTEM}` LIKE '%'"
        ]
        if include_org:
            filters.append(f"tags.`{TAG_SCOPE}` = '{SCOPE_ORGANIZATION}'")
        found: dict[str, Run] = {}
        for filter_string in filters:
            for run in self._search(ids, filter_string, max_runs=max_runs):
                found.setdefault(run.info.run_id, run)
                if max_runs is not None and len(found) >= max_runs:
                    return list(found.values())
        return list(found.values())

    def _download(self, run_id: str, path: str, destination: str) -> Path | None:
        """Download one artifact file or directory; None when it does not exist."""
        from mlflow.exceptions import MlflowException

        try:
            local = Path(self._client.download_artifacts(run_id, path, destination))
        except (MlflowException, OSError) as exc:
            if classify_failure(exc) == "unreachable":
                raise
            return None
        return local if local.exists() else None

    def _pointer_target(self, data: Mapping[str, Any]) -> str | None:
        target = data.get("artifact")
        if not isinstance(target, str) or not target.startswith(f"{EVIDENCE_ARTIFACT_DIR}/"):
            return None
        try:
            return _safe_artifact_name(target)
        except StoreError:
            return None

    def _record_from_tag(
        self, run_id: str, record_id: str, value: str, key: bytes | None, problems: list[str]
    ) -> EvidenceRecord | None:
        """Parse and check one evidence tag (downloading only pointers); None with a problem."""
        cache_key = (record_id, value if key is None else f"{value}\0{key.hex()}")
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        where = {"id": record_id, "run_id": run_id}
        try:
            data = json.loads(value)
        except ValueError as exc:
            problems.append(PROBLEM_NOT_JSON.format(error=exc, **where))
            return None
        pointer_hash: str | None = None
        altered_part = "tag"
        if _is_pointer(data):
            target = self._pointer_target(data)
            pointer_hash = str(data["content_hash"])
            text = None
            if target is not None:
                with tempfile.TemporaryDirectory(prefix="aims-read-") as tmp:
                    local = self._download(run_id, target, tmp)
                    if local is not None and local.is_file():
                        text = local.read_text(encoding="utf-8")
            if text is None:
                problems.append(PROBLEM_ARTIFACT_MISSING.format(path=data["artifact"], **where))
                return None
            try:
                data = json.loads(text)
            except ValueError as exc:
                problems.append(PROBLEM_ARTIFACT_UNREADABLE.format(path=target, error=exc, **where))
                return None
            altered_part = "artifact"
        try:
            record = EvidenceRecord.from_dict(data)
        except (EvidenceError, AttributeError) as exc:
            problems.append(PROBLEM_MALFORMED.format(error=exc, **where))
            return None
        if record.id != record_id:
            problems.append(PROBLEM_ID_MISMATCH.format(other=record.id, **where))
            return None
        if not record.is_intact(stored=data):
            problems.append(PROBLEM_ALTERED.format(where=altered_part, **where))
            return None
        if pointer_hash is not None and pointer_hash != record.content_hash:
            problems.append(PROBLEM_ARTIFACT_DIFFERS.format(path=artifact_path(record), **where))
            return None
        if key is not None and not _signature_ok(record, key):
            problems.append(PROBLEM_SIGNATURE.format(**where))
            return None
        self._cache[cache_key] = record
        return record

    def _collect(
        self,
        run: Run,
        keep: Callable[[EvidenceRecord], bool],
        key: bytes | None,
        problems: list[str],
        found: dict[str, tuple[EvidenceRecord, str]],
    ) -> list[EvidenceRecord]:
        """Add the run's intact records that ``keep`` accepts to ``found`` (id to record and
        run), once per id; a second, different copy of an id is a problem. Returns those added."""
        run_id = run.info.run_id
        added: list[EvidenceRecord] = []
        for tag_key, value in sorted(run.data.tags.items()):
            if not tag_key.startswith(TAG_EVIDENCE_PREFIX):
                continue
            record_id = tag_key[len(TAG_EVIDENCE_PREFIX) :]
            record = self._record_from_tag(run_id, record_id, value, key, problems)
            if record is None or not keep(record):
                continue
            earlier = found.get(record.id)
            if earlier is None:
                found[record.id] = (record, run_id)
                added.append(record)
            elif earlier[0].content_hash != record.content_hash:
                problems.append(
                    PROBLEM_DUPLICATE.format(id=record.id, run_id=run_id, other_run_id=earlier[1])
                )
        return added

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
        """Intact records of ``system`` (all systems when None) and, with ``include_org``, the
        organization's, oldest first. Read from tags (no artifact downloads but for pointers);
        altered or unreadable records are left out and listed in :attr:`last_read_problems`."""
        wanted = set(kinds) if kinds is not None else None
        key = _signing_key()
        problems: list[str] = []
        found: dict[str, tuple[EvidenceRecord, str]] = {}
        with self._reading():
            runs = self._runs(
                system=system,
                run_ids=run_ids,
                include_org=include_org,
                max_runs=max_runs,
                experiment_ids=experiment_ids,
            )

            def keep(record: EvidenceRecord) -> bool:
                if wanted is not None and record.kind not in wanted:
                    return False
                if record.system is None:
                    return include_org
                return system is None or record.system == system

            for run in runs:
                self._collect(run, keep, key, problems, found)
        self.last_read_problems = problems
        return sorted((r for r, _ in found.values()), key=lambda r: (r.collected_at, r.id))

    def records_for(
        self,
        systems: Iterable[str],
        *,
        current_models: Mapping[str, CurrentModel | None],
        experiments: Mapping[str, str | None] | None = None,
        kinds: Iterable[str] | None = None,
        lookback_runs: int = LOOKBACK_RUNS,
    ) -> list[EvidenceRecord]:
        """The records the engine can use for ``systems``, read in time flat in their history.

        Reads, in this order (a record id is kept once, from the first place it is found):

        - each current model's run (the one :meth:`current_model` already fetched, else one
          ``get_run``);
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
        :meth:`records` over the whole history. Returns records oldest first; problems go to
        :attr:`last_read_problems`.
        """
        wanted = list(dict.fromkeys(systems))
        wanted_set = set(wanted)
        bound = experiments or {}
        needed_kinds = set(kinds) if kinds is not None else None
        key = _signing_key()
        problems: list[str] = []
        found: dict[str, tuple[EvidenceRecord, str]] = {}
        per_system: dict[str, set[str]] = {system: set() for system in wanted}
        handed, self._current_runs = self._current_runs, {}
        listing, self._listing = self._listing, None

        def experiments_now() -> dict[str, str]:
            nonlocal listing
            if listing is None:
                listing = self._experiment_listing()
            return listing

        def every_experiment() -> list[str]:
            return list(experiments_now().values())

        def take(run: Run) -> None:
            """Keep the run's records the full read would keep for some wanted system."""
            tags = run.data.tags
            systems_of_run = {tags.get(TAG_SYSTEM)} & wanted_set
            if tags.get(TAG_SCOPE) == SCOPE_ORGANIZATION:
                systems_of_run = wanted_set

            def keep(record: EvidenceRecord) -> bool:
                return record.system is None or record.system in systems_of_run

            for record in self._collect(run, keep, key, problems, found):
                if record.system is not None:
                    per_system[record.system].add(_record_kind(record))

        with self._reading():
            from mlflow.exceptions import MlflowException

            # 1. the current models' runs
            for system in wanted:
                model = current_models.get(system)
                if model is None or not model.run_id:
                    continue
                run = handed.get(model.run_id)
                if run is None:
                    try:
                        run = self._client.get_run(model.run_id)
                    except MlflowException as exc:
                        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                            raise
                        continue
                tags = run.data.tags
                if tags.get(TAG_SYSTEM) in wanted_set or tags.get(TAG_SCOPE) == SCOPE_ORGANIZATION:
                    take(run)  # else the full read would not find it either
            # 2. the evidence experiment (system-level) and the organization (everywhere)
            evidence = self._client.get_experiment_by_name(self._evidence_experiment)
            if evidence is not None and wanted:
                system_filter = (
                    f"tags.`{TAG_SYSTEM}` = '{_quote(wanted[0])}'"
                    if len(wanted) == 1
                    else f"tags.`{TAG_SYSTEM}` LIKE '%'"
                )
                for run in self._search([str(evidence.experiment_id)], system_filter):
                    if run.data.tags.get(TAG_SYSTEM) in wanted_set:
                        take(run)
            org_filter = f"tags.`{TAG_SCOPE}` = '{SCOPE_ORGANIZATION}'"
            for run in self._search(every_experiment(), org_filter):
                take(run)
            # 3. one page of the newest runs, only where the engine may need it
            looking: dict[str, list[str]] = {}
            for system in wanted:
                model = current_models.get(system)
                if (
                    model is not None
                    and model.run_id
                    and needed_kinds is not None
                    and needed_kinds <= per_system[system]
                ):
                    continue
                name = bound.get(system)
                if name and (len(wanted) > 1 or listing is not None):
                    bound_id = experiments_now().get(name)
                elif name:
                    experiment = self._client.get_experiment_by_name(name)
                    active = experiment is not None and experiment.lifecycle_stage == "active"
                    bound_id = str(experiment.experiment_id) if active else None
                else:
                    bound_id = None
                looking[system] = [bound_id] if bound_id is not None else every_experiment()

            def look(system: str) -> list[Run]:
                ids = looking[system]
                system_filter = f"tags.`{TAG_SYSTEM}` = '{_quote(system)}'"
                page = self._newest_runs(ids, system_filter, lookback_runs)
                model = current_models.get(system)
                digests = model.dataset_digests if model is not None else ()
                if len(page) < lookback_runs or not digests:
                    return page
                current = set(digests)
                if any(
                    _record_kind(r) == "data_quality"
                    and r.system == system
                    and current & set(r.subject.dataset_digests)
                    for r, _ in found.values()
                ):
                    return page
                for digest in digests:
                    dataset_filter = (
                        f"{system_filter} and tags.`{TAG_DATASET_SHA256_PREFIX}{digest}` LIKE '%'"
                    )
                    page.extend(self._newest_runs(ids, dataset_filter, lookback_runs))
                return page

            for page in _parallel(look, list(looking)):
                for run in page:
                    take(run)
        self.last_read_problems = problems
        return sorted((r for r, _ in found.values()), key=lambda r: (r.collected_at, r.id))

    # -- verifying -----------------------------------------------------------------------------
    def verify(
        self, *, system: str | None = None, experiment_ids: Iterable[str] | None = None
    ) -> VerifyReport:
        """Check every stored record of ``system`` (all when None) and the organization: tag
        hash, artifact present and equal to the tag, and the signature when
        ``$AIMS_SIGNING_KEY`` is set. Downloads every evidence artifact (slow by design)."""
        key = _signing_key()
        problems: list[str] = []
        checked = intact = 0
        with self._reading():
            runs = self._runs(
                system=system,
                run_ids=None,
                include_org=True,
                max_runs=None,
                experiment_ids=experiment_ids,
            )
            for run in runs:
                run_id = run.info.run_id
                evidence = {
                    k[len(TAG_EVIDENCE_PREFIX) :]: v
                    for k, v in run.data.tags.items()
                    if k.startswith(TAG_EVIDENCE_PREFIX)
                }
                if not evidence:
                    continue
                with tempfile.TemporaryDirectory(prefix="aims-verify-") as tmp:
                    root = self._download(run_id, EVIDENCE_ARTIFACT_DIR, tmp)
                    for record_id, value in sorted(evidence.items()):
                        checked += 1
                        found = _verify_one(run_id, record_id, value, root, key)
                        problems.extend(found)
                        intact += not found
        return VerifyReport(checked=checked, intact=intact, problems=tuple(problems))

    # -- syncing -------------------------------------------------------------------------------
    def _already_stored(self, record: EvidenceRecord, run_id: str | None) -> bool:
        tag = f"{TAG_EVIDENCE_PREFIX}{record.id}"
        if run_id is not None:
            run = self._write_call(lambda: self._client.get_run(run_id), record_id=record.id)
            return tag in run.data.tags
        experiment_id = self._evidence_experiment_id_or_none(create=False, record_id=record.id)
        if experiment_id is None:
            return False
        found = self._write_call(
            lambda: self._client.search_runs(
                [experiment_id], filter_string=f"tags.`{tag}` LIKE '%'", max_results=1
            ),
            record_id=record.id,
        )
        return len(found) > 0

    def sync(self, *, progress: bool = False) -> SyncReport:
        """Upload the spool: each record exactly once (one already stored only leaves the spool).

        Concurrent syncs share the work: each file is claimed by one of them. Stops at the first
        sign that the store is unreachable; what is left stays spooled.
        """
        uploaded = present = failed = 0
        errors: list[str] = []
        with _SYNC_LOCK:
            candidates = self._spool.candidates()
            items: Iterable[Path] = candidates
            if progress and candidates:
                from tqdm.auto import tqdm

                items = tqdm(candidates, desc="aims sync", unit="record")
            unreachable = False
            for path in items:
                if unreachable:
                    break
                claimed = self._spool.claim(path)
                if claimed is None:
                    continue  # another uploader has it
                try:
                    entry = self._spool.load(claimed)
                except SpoolError as exc:
                    failed += 1
                    errors.append(str(exc))
                    self._spool.release(claimed)
                    continue
                try:
                    self._probe()
                    if self._already_stored(entry.record, entry.run_id):
                        present += 1
                    else:
                        self._store_now(
                            entry.record, run_id=entry.run_id, artifacts=entry.artifacts
                        )
                        uploaded += 1
                except StoreError as exc:
                    failed += 1
                    errors.append(f"record {entry.record.id}: {exc}")
                    self._spool.release(claimed)
                    unreachable = isinstance(exc, _Unavailable)
                    continue
                self._spool.done(claimed)
        return SyncReport(
            uploaded=uploaded,
            already_present=present,
            failed=failed,
            remaining=self._spool.pending(),
            errors=tuple(errors),
        )

    # -- the current model -----------------------------------------------------------------
    def current_model(
        self,
        *,
        registered_model: str | None,
        alias: str = "champion",
        version: str | None = None,
        experiment: str | None = None,
    ) -> CurrentModel | None:
        """The model version a system uses now: ``version`` of ``registered_model``, else the one
        holding ``alias``; without a registered model, the latest finished run of
        ``experiment``. None when there is none (no exception)."""
        from mlflow.exceptions import MlflowException

        if registered_model is None and experiment is None:
            return None
        with self._reading():
            if registered_model is None:
                assert experiment is not None
                return self._latest_finished_run_model(experiment)
            model = self._registered_model_version(
                registered_model=registered_model, alias=alias, version=version
            )
            if model is None or model.run_id is None:
                return model
            try:
                run = self._client.get_run(model.run_id)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                return model
            self._current_runs[model.run_id] = run
            return replace(model, dataset_digests=self._dataset_digests(run))

    def current_models(
        self,
        bindings: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, CurrentModel | None]:
        """:meth:`current_model` for many systems at once: ``bindings`` maps a system to the
        keyword arguments of :meth:`current_model`. The registry lookups run a few at a time and
        the model runs come in one ``run_id IN`` search per 100 runs, so time grows with the
        number of systems over the number of concurrent requests, not with their histories."""
        if len(bindings) <= 1:
            return {system: self.current_model(**kwargs) for system, kwargs in bindings.items()}
        from mlflow.exceptions import MlflowException

        systems = list(bindings)

        def resolve(system: str) -> CurrentModel | None:
            kwargs = dict(bindings[system])
            if kwargs.get("registered_model") is None:
                experiment = kwargs.get("experiment")
                return self._latest_finished_run_model(experiment) if experiment else None
            return self._registered_model_version(**kwargs)

        with self._reading():  # the workers must not enter _reading (its lock is held here)
            listing = self._experiment_listing()
            found = dict(zip(systems, _parallel(resolve, systems), strict=True))
            missing = [
                m.run_id
                for m in found.values()
                if m is not None and m.run_id and m.run_id not in self._current_runs
            ]
            missing = list(dict.fromkeys(missing))
            for run in self._runs_by_id(missing, list(listing.values())):
                self._current_runs[run.info.run_id] = run
            for run_id in missing:  # deleted runs or experiments: get_run still finds them
                if run_id not in self._current_runs:
                    try:
                        self._current_runs[run_id] = self._client.get_run(run_id)
                    except MlflowException as exc:
                        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                            raise
        result: dict[str, CurrentModel | None] = {}
        for system, model in found.items():
            run = self._current_runs.get(model.run_id) if model and model.run_id else None
            if model is not None and run is not None and not model.dataset_digests:
                model = replace(model, dataset_digests=self._dataset_digests(run))
            result[system] = model
        self._listing = listing
        return result

    def _latest_finished_run_model(self, experiment: str) -> CurrentModel | None:
        """The latest finished run of ``experiment`` as the current model (None: no run)."""
        found = self._client.get_experiment_by_name(experiment)
        if found is None:
            return None
        runs = self._client.search_runs(
            [found.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        if not runs:
            return None
        run_id = runs[0].info.run_id
        self._current_runs[run_id] = runs[0]
        return _current_model_class()(
            name=experiment,
            version=None,
            run_id=run_id,
            dataset_digests=self._dataset_digests(runs[0]),
            alias=None,
        )

    def _registered_model_version(
        self,
        *,
        registered_model: str,
        alias: str = "champion",
        version: str | None = None,
        experiment: str | None = None,
    ) -> CurrentModel | None:
        """The model version holding ``alias`` (or ``version``), without its run's digests;
        ``experiment`` is accepted (a system binding's keywords) but the registry decides."""
        from mlflow.exceptions import MlflowException

        try:
            if version is not None:
                model_version = self._client.get_model_version(registered_model, str(version))
            else:
                model_version = self._client.get_model_version_by_alias(registered_model, alias)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        run_id = model_version.run_id or self._source_run_id(model_version)
        return _current_model_class()(
            name=registered_model,
            version=str(model_version.version),
            run_id=run_id or None,
            dataset_digests=(),
            alias=alias if version is None else None,
        )

    def _runs_by_id(self, run_ids: list[str], experiment_ids: list[str]) -> list[Run]:
        """The runs with these ids: one ``attributes.run_id IN`` search per 100 ids and 100
        experiments."""
        runs: list[Run] = []
        for start in range(0, len(run_ids), 100):
            quoted = ", ".join(f"'{_quote(r)}'" for r in run_ids[start : start + 100])
            runs.extend(self._search(experiment_ids, f"attributes.run_id IN ({quoted})"))
        return runs

    def _source_run_id(self, model_version: Any) -> str | None:
        """The run behind a model version logged as a LoggedModel (``models:/<model id>``)."""
        from mlflow.exceptions import MlflowException

        model_id = getattr(model_version, "model_id", None)
        source = model_version.source or ""
        if not model_id and source.startswith("models:/"):
            model_id = source[len("models:/") :].strip("/").split("/")[0]
        if not model_id:
            return None
        try:
            logged = self._client.get_logged_model(model_id)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            return None
        return logged.source_run_id

    @staticmethod
    def _dataset_digests(run: Run) -> tuple[str, ...]:
        """MLflow's dataset digests of a run, then our full-content SHA-256 tagged for them."""
        digests: list[str] = []
        for dataset_input in run.inputs.dataset_inputs if run.inputs else ():
            digest = dataset_input.dataset.digest
            if digest and digest not in digests:
                digests.append(digest)
        tags = run.data.tags
        for digest in list(digests):
            full = tags.get(f"{TAG_DATASET_SHA256_PREFIX}{digest}")
            if full and full not in digests:
                digests.append(full)
        for tag_key, full in sorted(tags.items()):
            if tag_key.startswith(TAG_DATASET_SHA256_PREFIX) and full and full not in digests:
                digests.append(full)
        return tuple(digests)


def _parallel(fn: Callable[[str], T], items: list[str]) -> list[T]:
    """``fn`` over ``items`` (results in order), a few at a time when there are several."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="aims-read") as pool:
        return list(pool.map(fn, items))


def _record_kind(record: EvidenceRecord) -> str:
    """The kind a record speaks for (an ``error`` record: the kind its collector failed at)."""
    if record.kind == "error":
        return str(record.details.get("collector_kind") or "error")
    return record.kind


def _signature_ok(record: EvidenceRecord, key: bytes) -> bool:
    try:
        record.verify(key=key)
    except EvidenceError:
        return False
    return True


def _verify_one(
    run_id: str, record_id: str, value: str, root: Path | None, key: bytes | None
) -> list[str]:
    """Every problem of one evidence tag and its artifact (``root``: the downloaded
    ``aims/evidence`` directory of the run, None when it has none)."""
    where = {"id": record_id, "run_id": run_id}
    problems: list[str] = []
    data: Any = None
    try:
        data = json.loads(value)
    except ValueError as exc:
        problems.append(PROBLEM_NOT_JSON.format(error=exc, **where))
    pointer = _is_pointer(data)
    tag_record: EvidenceRecord | None = None
    if data is not None and not pointer:
        try:
            tag_record = EvidenceRecord.from_dict(data)
        except (EvidenceError, AttributeError) as exc:
            problems.append(PROBLEM_MALFORMED.format(error=exc, **where))
    prefix = f"{EVIDENCE_ARTIFACT_DIR}/"
    relative: str | None = None
    if pointer and isinstance(data["artifact"], str) and data["artifact"].startswith(prefix):
        relative = data["artifact"][len(prefix) :]
    elif tag_record is not None:
        relative = artifact_path(tag_record)[len(prefix) :]
    elif root is not None:
        matches = sorted(root.glob(f"*/{record_id}.json"))
        relative = matches[0].relative_to(root).as_posix() if matches else None
    shown = f"{prefix}{relative}" if relative else f"{prefix}<kind>/{record_id}.json"
    art_record: EvidenceRecord | None = None
    file = root / relative if root is not None and relative is not None else None
    if file is None or ".." in Path(relative or "").parts or not file.is_file():
        problems.append(PROBLEM_ARTIFACT_MISSING.format(path=shown, **where))
    else:
        try:
            art_record = EvidenceRecord.from_json(file.read_text(encoding="utf-8"))
        except (EvidenceError, AttributeError, UnicodeDecodeError) as exc:
            problems.append(PROBLEM_ARTIFACT_UNREADABLE.format(path=shown, error=exc, **where))
    subject: EvidenceRecord | None = None
    if tag_record is not None:
        subject = tag_record
        if tag_record.id != record_id:
            problems.append(PROBLEM_ID_MISMATCH.format(other=tag_record.id, **where))
        if not tag_record.is_intact():
            problems.append(PROBLEM_ALTERED.format(where="tag", **where))
        if art_record is not None and art_record.to_json() != tag_record.to_json():
            problems.append(PROBLEM_ARTIFACT_DIFFERS.format(path=shown, **where))
    elif pointer and art_record is not None:
        subject = art_record
        if art_record.id != record_id:
            problems.append(PROBLEM_ID_MISMATCH.format(other=art_record.id, **where))
        if not art_record.is_intact():
            problems.append(PROBLEM_ALTERED.format(where="artifact", **where))
        if art_record.content_hash != data["content_hash"]:
            problems.append(PROBLEM_ARTIFACT_DIFFERS.format(path=shown, **where))
    if (
        key is not None
        and subject is not None
        and subject.is_intact()
        and not _signature_ok(subject, key)
    ):
        problems.append(PROBLEM_SIGNATURE.format(**where))
    return problems
