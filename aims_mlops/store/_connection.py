"""The connection to MLflow: the client, fast failure, busy retries, MLflow errors as StoreError.

Every other store module talks to MLflow through a :class:`Connection`: writes through
:meth:`Connection.write_call` (retried while the store is busy, :class:`Unavailable` when it
cannot be reached, so the record is spooled), reads inside :meth:`Connection.reading`.
MLflow is imported on first use only.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import urlparse

from aims_mlops._errors import StoreError

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")

#: How long a write keeps retrying a busy store (sqlite "database is locked", HTTP 503) before
#: it spools the record.
BUSY_RETRY_SECONDS = 30.0
#: Connect timeout of the reachability probe of an HTTP tracking server, in seconds.
PROBE_TIMEOUT_SECONDS = 2.0

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

_ENV_LOCK = threading.RLock()

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


class Unavailable(StoreError):
    """The store cannot be reached now (or stayed busy): the record goes to the spool."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_connection_error(link: BaseException) -> bool:
    if isinstance(link, ConnectionError | TimeoutError | socket.timeout):
        return True
    module, name = type(link).__module__, type(link).__name__
    return module.startswith(("requests", "urllib3")) and (
        "Connection" in name or "Timeout" in name or name in ("MaxRetryError", "ProtocolError")
    )


def classify_failure(exc: BaseException) -> Failure:
    """``unreachable`` (spool now), ``busy`` (retry, then spool) or ``fatal`` (raise)."""
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if any(pattern in text for pattern in _BUSY_PATTERNS):
        return "busy"
    if any(_is_connection_error(link) for link in _chain(exc)):
        return "unreachable"
    if any(pattern in text for pattern in _UNREACHABLE_PATTERNS):
        return "unreachable"
    if "max retries exceeded" in text:
        return "unreachable"
    if getattr(exc, "error_code", None) == "TEMPORARILY_UNAVAILABLE":
        return "busy"
    return "fatal"


@contextlib.contextmanager
def scoped_env(values: Mapping[str, str]) -> Iterator[None]:
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


def is_missing(exc: BaseException) -> bool:
    """True for MLflow's "no such resource" (a deleted run, an unknown model)."""
    return getattr(exc, "error_code", None) == "RESOURCE_DOES_NOT_EXIST"


#: MLflow's default store when ``$MLFLOW_TRACKING_URI`` is unset and ``./mlruns`` holds no data
#: (MLflow 3's ``DEFAULT_TRACKING_URI``), relative to the working directory.
MLFLOW_DEFAULT_SQLITE = "mlflow.db"


def tracking_uri_without_mlflow(tracking_uri: str | None) -> str | None:
    """The tracking URI MLflow would use, where it can be told without importing MLflow (about
    1.3 s): the one given, ``$MLFLOW_TRACKING_URI``, or the default ``./mlflow.db`` when there
    is no ``./mlruns``. None when only MLflow can tell (it is imported already, so
    ``set_tracking_uri`` may have been called, or ``./mlruns`` may hold a file store)."""
    if tracking_uri:
        return tracking_uri
    if "mlflow" in sys.modules:
        return None
    if from_env := os.environ.get("MLFLOW_TRACKING_URI"):
        return from_env
    if Path("mlruns").exists():
        return None
    return f"sqlite:///{os.path.abspath(MLFLOW_DEFAULT_SQLITE)}"


class Connection:
    """One tracking store: its URI, a lazily built ``MlflowClient`` and how calls fail."""

    def __init__(
        self,
        *,
        tracking_uri: str | None,
        registry_uri: str | None,
        busy_seconds: float = BUSY_RETRY_SECONDS,
    ) -> None:
        self._tracking_uri = tracking_uri
        self._registry_uri = registry_uri
        self._client: MlflowClient | None = None
        self.busy_seconds = busy_seconds

    @property
    def tracking_uri(self) -> str:
        """The tracking URI in use (MLflow's default resolution when none was given)."""
        if self._tracking_uri is None:
            import mlflow

            self._tracking_uri = mlflow.get_tracking_uri()
        return self._tracking_uri

    @property
    def client(self) -> MlflowClient:
        """The ``MlflowClient``, built on first use."""
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self._registry_uri
            )
        return self._client

    def unavailable(self, exc: BaseException) -> Unavailable:
        """The :class:`Unavailable` error for ``exc`` (raise it ``from exc``)."""
        return Unavailable(ERROR_UNREACHABLE.format(uri=self.tracking_uri, error=exc))

    def probe(self) -> None:
        """Fail fast (:class:`Unavailable`) when an HTTP tracking server does not accept
        connections; other stores are not probed."""
        parsed = urlparse(self.tracking_uri)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            with socket.create_connection((parsed.hostname, port), timeout=PROBE_TIMEOUT_SECONDS):
                pass
        except OSError as exc:
            raise self.unavailable(exc) from exc

    def write_call(self, fn: Callable[[], T], *, record_id: str) -> T:
        """One MLflow write step: fast-failing, retried with jittered backoff while busy."""
        from mlflow.exceptions import MlflowException

        deadline = time.monotonic() + self.busy_seconds
        attempt = 0
        while True:
            try:
                with scoped_env(WRITE_ENV):
                    return fn()
            except (MlflowException, OSError) as exc:
                self._raise_unless_busy(exc, record_id=record_id, deadline=deadline)
            delay = min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5)
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            attempt += 1

    def _raise_unless_busy(self, exc: BaseException, *, record_id: str, deadline: float) -> None:
        failure = classify_failure(exc)
        if failure == "unreachable":
            raise self.unavailable(exc) from exc
        if failure == "fatal":
            raise StoreError(
                ERROR_WRITE_FAILED.format(id=record_id, uri=self.tracking_uri, error=exc)
            ) from exc
        if time.monotonic() >= deadline:
            raise Unavailable(
                ERROR_BUSY.format(uri=self.tracking_uri, seconds=self.busy_seconds, error=exc)
            ) from exc

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Around a read: probe HTTP servers, quiet progress bars, MLflow errors as StoreError."""
        from mlflow.exceptions import MlflowException

        self.probe()
        try:
            with scoped_env(READ_ENV):
                yield
        except MlflowException as exc:
            if classify_failure(exc) == "unreachable":
                raise self.unavailable(exc) from exc
            raise StoreError(ERROR_READ_FAILED.format(uri=self.tracking_uri, error=exc)) from exc
