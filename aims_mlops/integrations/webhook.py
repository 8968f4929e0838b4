"""MLflow model-registry webhook receiver: gate every version put behind a production alias.

MLflow 3 (tracking server with a database backend) POSTs ``model_version_alias.created`` when an
alias is set. This receiver checks the HMAC signature MLflow sends (``X-MLflow-Signature:
v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">``, with ``X-MLflow-Delivery-Id``
and ``X-MLflow-Timestamp``), replies at once, and in a worker thread runs the release gate for the
version now behind the system's production alias (``mlflow.alias`` in ``aims.yaml``, default
``champion``). The outcome becomes a ``deployment`` evidence record (pass or fail) on the
version's run; a failing gate is logged as an error. The alias is not moved back.

Run it with the ``aims webhook`` command (``python -m aims_mlops.integrations.webhook`` runs the
same command)::

    AIMS_WEBHOOK_SECRET=... aims webhook --port 8765 --config aims.yaml
    AIMS_WEBHOOK_SECRET=... aims webhook --register http://HOST:8765/

Serve it on the loopback interface, or behind a reverse proxy that terminates TLS: it speaks
plain HTTP, and a non-loopback ``--host`` is warned about. Each connection has a socket timeout
(:data:`REQUEST_TIMEOUT_SECONDS`); requests are handled by a fixed pool of
:data:`DEFAULT_HTTP_WORKERS` threads with at most :data:`DEFAULT_HTTP_QUEUE` connections waiting,
and a connection beyond that is answered ``503`` at once. Accepted delivery ids are appended to a
JSON-lines file (default ``.aims/webhook-deliveries.jsonl`` beside ``aims.yaml``) and read back on
start, so a delivery replayed within the timestamp window after a restart is not gated again.

Only the standard library is used here; MLflow is imported when the first event is processed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import hmac
import ipaddress
import json
import logging
import os
import signal
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.judgement import GateRun
    from aims_mlops.store import EvidenceStore

logger = logging.getLogger("aims_mlops.webhook")

# The header names and signature scheme of mlflow/webhooks/constants.py and delivery.py.
SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"

ALIAS_ENTITY = "model_version_alias"
ALIAS_ACTION = "created"
ALIAS_EVENT = f"{ALIAS_ENTITY}.{ALIAS_ACTION}"
DEFAULT_WEBHOOK_NAME = "aims-gate"
DEFAULT_PORT = 8765
DEFAULT_SECRET_ENV = "AIMS_WEBHOOK_SECRET"
#: A delivery whose timestamp is further than this from our clock is refused (replay protection).
TIMESTAMP_TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1_000_000
#: Delivery ids remembered (at most) to ignore retries and replays of a delivery already accepted;
#: each is kept for twice the timestamp tolerance, after which its timestamp is refused anyway.
REMEMBERED_DELIVERIES = 100_000
REMEMBER_SECONDS = 2 * TIMESTAMP_TOLERANCE_SECONDS
#: Where accepted delivery ids are kept across restarts, relative to the aims.yaml folder.
DEFAULT_DELIVERIES_FILE = ".aims/webhook-deliveries.jsonl"
#: Socket timeout of every connection (an idle or stalled client is dropped after it).
REQUEST_TIMEOUT_SECONDS = 10.0
#: Overall time a connection may take from its accept to the end of its request (headers and
#: body, however slowly they trickle in): past it the connection is closed.
CONNECTION_DEADLINE_SECONDS = 15.0
#: Connections one client address may hold at once (beyond: 503). Behind a reverse proxy every
#: connection comes from the proxy's address: raise it there.
DEFAULT_CONNECTIONS_PER_ADDRESS = 4
#: Threads serving HTTP requests, and connections that may wait for one; beyond: 503.
DEFAULT_HTTP_WORKERS = 8
DEFAULT_HTTP_QUEUE = 16
#: An ``aims gate --promote`` deployment record this recent for the same version and alias makes
#: the webhook's own gate run redundant.
RECENT_PROMOTION_SECONDS = 600
#: Wait this long before gating, so that ``aims gate --promote`` (which moves the alias, then
#: records) has stored its record and the move is not recorded twice.
DEFAULT_SETTLE_SECONDS = 3.0

PROG_NAME = "python -m aims_mlops.integrations.webhook"
MESSAGE_LISTENING = "aims webhook receiver listening on http://{host}:{port}/"
WARNING_NOT_LOOPBACK = (
    "warning: the webhook receiver listens on {host}, beyond this machine, over plain HTTP: put a "
    "reverse proxy that terminates TLS in front of it (and firewall the port), or bind 127.0.0.1"
)

ERROR_NO_SECRET = (
    "the webhook secret environment variable {name} is not set: set it to the secret given to "
    "MlflowClient().create_webhook(..., secret=...)"
)
ERROR_UNSIGNED_RECEIVER = (
    "{path} requires signed evidence (trust.public_keys) but ${env} names no signing key: the "
    "receiver's deployment records would be unsigned and fail every later gate; set ${env} to "
    "the pipeline's private key file"
)
ERROR_REGISTER_FAILED = (
    "MLflow refused the webhook {url}: {error} (a tracking server accepts only https URLs on "
    "public addresses unless started with MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https and "
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true)"
)
ERROR_TEST_FAILED = (
    "the tracking server could not deliver a test event to {url}: {error}; start the receiver "
    "first, check that the server can reach it, or pass --no-check"
)
PROBLEM_MISSING_HEADERS = "missing X-MLflow-Signature, X-MLflow-Timestamp or X-MLflow-Delivery-Id"
PROBLEM_BAD_TIMESTAMP = "X-MLflow-Timestamp {value!r} is not within {tolerance} s of now"
PROBLEM_BAD_SIGNATURE = "signature does not match the payload"
PROBLEM_BAD_JSON = "body is not a JSON object: {error}"
PROBLEM_TOO_LARGE = "body larger than {limit} bytes"
PROBLEM_TOO_DEEP = "nested too deeply"
PROBLEM_BUSY = "too many connections: try again later"
PROBLEM_BUSY_ADDRESS = "too many connections from your address: try again later"
WARNING_DELIVERIES_UNREADABLE = "could not read the delivery ids in {path}: {error}"
WARNING_DELIVERIES_UNWRITABLE = (
    "could not record delivery {delivery_id} in {path} ({error}): a replay after a restart "
    "would not be recognized"
)


class WebhookError(AimsError):
    """The receiver cannot start (no secret, unusable configuration)."""


def sign(secret: str, delivery_id: str, timestamp: str, payload: str) -> str:
    """The signature header value MLflow sends for ``payload`` (the exact body text)."""
    content = f"{delivery_id}.{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode("utf-8"), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def verify_signature(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = TIMESTAMP_TOLERANCE_SECONDS,
) -> str | None:
    """None when the delivery is authentic and fresh, else what is wrong with it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = lowered.get(SIGNATURE_HEADER.lower())
    timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    delivery_id = lowered.get(DELIVERY_ID_HEADER.lower())
    if not signature or not timestamp or not delivery_id:
        return PROBLEM_MISSING_HEADERS
    current = time.time() if now is None else now
    try:
        fresh = abs(current - int(timestamp)) <= tolerance
    except ValueError:
        fresh = False
    if not fresh:
        return PROBLEM_BAD_TIMESTAMP.format(value=timestamp, tolerance=tolerance)
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return PROBLEM_BAD_SIGNATURE
    expected = sign(secret, delivery_id, timestamp, payload)
    # Standard Webhooks allows several space-separated signatures (key rotation).
    if any(hmac.compare_digest(expected, given) for given in signature.split()):
        return None
    return PROBLEM_BAD_SIGNATURE


@dataclass(frozen=True, kw_only=True)
class AliasEvent:
    """A registered model version was put behind an alias."""

    model_name: str
    alias: str
    version: str
    delivery_id: str
    system: str


class WebhookReceiver:
    """Verifies deliveries, matches them to AI systems and gates the version in a worker thread."""

    def __init__(
        self,
        *,
        config_path: str | os.PathLike[str],
        secret: str,
        require: Sequence[str] = (),
        min_score: float | None = None,
        block_on_risk: bool = True,
        store: EvidenceStore | None = None,
        tracking_uri: str | None = None,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        deliveries_file: str | os.PathLike[str] | None = None,
    ) -> None:
        if not secret:
            raise WebhookError(ERROR_NO_SECRET.format(name="(empty)"))
        self.config_path = Path(config_path)
        self._secret = secret
        self.require = tuple(require)
        self.min_score = min_score
        self.block_on_risk = block_on_risk
        self._config = self._load_config()
        self._check_signing_key()
        self._store = store
        self._tracking_uri = tracking_uri
        self.settle_seconds = settle_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aims-gate")
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self.deliveries_file = (
            Path(deliveries_file)
            if deliveries_file is not None
            else self.config_path.parent / DEFAULT_DELIVERIES_FILE
        )
        self._load_deliveries()

    # -- delivery ids that survive a restart ---------------------------------------------------
    def _load_deliveries(self, now: float | None = None) -> None:
        """Read the remembered delivery ids (the recent ones) and rewrite the file with them."""
        current = time.time() if now is None else now
        path = self.deliveries_file
        if not path.is_file():
            return
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning(WARNING_DELIVERIES_UNREADABLE.format(path=path, error=exc))
            return
        for line in lines:
            try:
                entry = json.loads(line)
                delivery_id, at = str(entry["id"]), float(entry["at"])
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a crash
            if current - at <= REMEMBER_SECONDS:
                self._seen[delivery_id] = at
        self._prune(current)
        kept = "".join(json.dumps({"id": d, "at": at}) + "\n" for d, at in self._seen.items())
        try:
            from aims_mlops._files import write_atomically

            write_atomically(path, kept)
        except OSError as exc:
            logger.warning(WARNING_DELIVERIES_UNREADABLE.format(path=path, error=exc))

    def _prune(self, now: float) -> None:
        while self._seen and (
            len(self._seen) > REMEMBERED_DELIVERIES
            or now - next(iter(self._seen.values())) > REMEMBER_SECONDS
        ):
            self._seen.popitem(last=False)

    def _remember(self, delivery_id: str, now: float) -> None:
        """Remember an accepted delivery, in memory and in the file (fsynced)."""
        self._seen[delivery_id] = now
        self._prune(now)
        path = self.deliveries_file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"id": delivery_id, "at": now}) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            logger.warning(
                WARNING_DELIVERIES_UNWRITABLE.format(delivery_id=delivery_id, path=path, error=exc)
            )

    def _load_config(self) -> AimsConfig:
        from aims_mlops.config import load_config

        return load_config(self.config_path)

    def _check_signing_key(self) -> None:
        """A store that requires signatures needs a usable key before the first delivery: an
        unusable one raises :class:`~aims_mlops.evidence.SigningKeyError`, none a
        :class:`WebhookError`."""
        if not self._config.trust.requires_signatures:
            return
        from aims_mlops.capture._context import signing_key
        from aims_mlops.evidence import ENV_SIGNING_KEY

        if signing_key() is None:
            raise WebhookError(
                ERROR_UNSIGNED_RECEIVER.format(path=self.config_path, env=ENV_SIGNING_KEY)
            )

    @property
    def store(self) -> EvidenceStore:
        if self._store is None:
            from aims_mlops.capture import make_store

            self._store = make_store(self._config, tracking_uri=self._tracking_uri)
        return self._store

    # -- the request side (fast) --------------------------------------------------------------
    def handle(self, *, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """HTTP status and JSON reply for one delivery; gate work is queued, not waited for."""
        problem = verify_signature(secret=self._secret, headers=headers, body=body)
        if problem is not None:
            logger.warning("refused webhook delivery: %s", problem)
            return 401, {"status": "refused", "reason": problem}
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            return 400, {"status": "refused", "reason": PROBLEM_BAD_JSON.format(error=exc)}
        except RecursionError:  # json.loads recurses once per level of nesting
            reason = PROBLEM_BAD_JSON.format(error=PROBLEM_TOO_DEEP)
            return 400, {"status": "refused", "reason": reason}
        delivery_id = {k.lower(): v for k, v in headers.items()}[DELIVERY_ID_HEADER.lower()]
        with self._lock:
            if delivery_id in self._seen:
                return 200, {"status": "duplicate", "delivery_id": delivery_id}
            self._remember(delivery_id, time.time())
        events = self.events(payload, delivery_id=delivery_id)
        if not events:
            return 200, {"status": "ignored", "delivery_id": delivery_id}
        for event in events:
            self._executor.submit(self._process_logged, event)
        return 200, {
            "status": "accepted",
            "delivery_id": delivery_id,
            "systems": [e.system for e in events],
        }

    def events(self, payload: Mapping[str, Any], *, delivery_id: str) -> list[AliasEvent]:
        """The alias events of a payload that concern a system's production alias."""
        if payload.get("entity") != ALIAS_ENTITY or payload.get("action") != ALIAS_ACTION:
            return []
        data = payload.get("data")
        if not isinstance(data, Mapping):
            return []
        name, alias, version = data.get("name"), data.get("alias"), data.get("version")
        if not (isinstance(name, str) and isinstance(alias, str) and version is not None):
            return []
        return [
            AliasEvent(
                model_name=name,
                alias=alias,
                version=str(version),
                delivery_id=delivery_id,
                system=system.id,
            )
            for system in self._config.in_scope_systems
            if system.mlflow.registered_model == name and system.mlflow.alias == alias
        ]

    # -- the worker side ------------------------------------------------------------------------
    def _process_logged(self, event: AliasEvent) -> GateRun | None:
        try:
            return self.process(event)
        except AimsError as exc:
            logger.error(
                "gate for %s version %s (%s) could not run: %s",
                event.model_name,
                event.version,
                event.system,
                exc,
            )
            return None
        except Exception:
            # a worker thread has no caller to raise to: log it with the traceback, keep serving
            logger.exception(
                "gate for %s version %s (%s) crashed", event.model_name, event.version, event.system
            )
            raise

    def _recent_promotion(self, event: AliasEvent) -> str | None:
        """The id of an ``aims gate --promote`` record that already covers this alias move;
        only a record that passes the config's trust check counts (a typed-in "promoted"
        record must not spare a version its gate)."""
        from aims_mlops.judgement._integrity import screen, trust_policy

        now = datetime.now(UTC)
        read = self.store.read(system=event.system, kinds=["deployment"])
        trusted, failed = screen(
            read.records,
            policy=trust_policy(self._config, self.config_path),
            clock=now,
            run_ids=read.run_ids,
        )
        if failed:
            logger.warning(
                "%d deployment record(s) of %s failed verification and do not count as a "
                "promotion (`aims verify` names them)",
                len(failed),
                event.system,
            )
        cutoff = now - timedelta(seconds=RECENT_PROMOTION_SECONDS)
        for record in reversed(trusted):
            if (
                record.subject.model_name == event.model_name
                and record.subject.model_version == event.version
                and record.details.get("alias") == event.alias
                and record.details.get("action") == "promoted"
                and record.collected >= cutoff
            ):
                return record.id
        return None

    def process(self, event: AliasEvent) -> GateRun | None:
        """Gate the version behind the alias and record the outcome (None: already recorded)."""
        from aims_mlops.judgement import run_gate

        time.sleep(self.settle_seconds)
        earlier = self._recent_promotion(event)
        if earlier is not None:
            logger.info(
                "%s version %s was promoted through `aims gate` (record %s); nothing to add",
                event.model_name,
                event.version,
                earlier,
            )
            return None
        run = run_gate(
            event.system,
            config=self.config_path,
            model_version=event.version,
            require=self.require,
            min_score=self.min_score,
            block_on_risk=self.block_on_risk,
            record=True,
            alias=event.alias,
            trigger=f"mlflow webhook {event.delivery_id}",
            store=self.store,
        )
        record_id = run.deployment.id if run.deployment is not None else None
        if run.result.passed:
            logger.info("gate passed: %s; deployment record %s", run.result.headline(), record_id)
        else:
            logger.error(
                "gate FAILED for a version already behind alias %r: %s; deployment record %s; %s",
                event.alias,
                run.result.headline(),
                record_id,
                "; ".join(run.result.failures),
            )
        return run

    def close(self) -> None:
        """Finish the queued gate runs, then stop the worker."""
        self._executor.shutdown(wait=True)


def register_webhook(
    url: str,
    *,
    secret: str,
    name: str = DEFAULT_WEBHOOK_NAME,
    tracking_uri: str | None = None,
    check: bool = True,
) -> str:
    """Create (or update, by ``name``) the MLflow webhook that calls the receiver at ``url``
    on every alias event; with ``check``, have the server deliver a test event. Returns its id."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri)
    try:
        existing = None
        token: str | None = None
        while existing is None:
            page = client.list_webhooks(page_token=token)
            existing = next((hook for hook in page if hook.name == name), None)
            token = page.token
            if not token:
                break
        if existing is not None:
            hook = client.update_webhook(
                existing.webhook_id, url=url, events=[ALIAS_EVENT], secret=secret, status="ACTIVE"
            )
        else:
            hook = client.create_webhook(name=name, url=url, events=[ALIAS_EVENT], secret=secret)
    except MlflowException as exc:
        raise WebhookError(ERROR_REGISTER_FAILED.format(url=url, error=exc.message)) from exc
    if check:
        result = client.test_webhook(hook.webhook_id)
        if not result.success:
            error = result.error_message or f"HTTP {result.response_status}: {result.response_body}"
            raise WebhookError(ERROR_TEST_FAILED.format(url=url, error=error))
    return str(hook.webhook_id)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.timeout = self.server.request_timeout  # the socket timeout of this connection
        super().setup()

    def _reply(self, status: int, data: Mapping[str, Any]) -> None:
        body = json.dumps(data).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("", "/health"):
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"status": "not found"})

    def do_POST(self) -> None:
        if self.server.has_expired(self.connection):  # cut short at its deadline: not handled
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(
                413, {"status": "refused", "reason": PROBLEM_TOO_LARGE.format(limit=MAX_BODY_BYTES)}
            )
            return
        body = self.rfile.read(length)
        status, data = self.server.receiver.handle(headers=dict(self.headers.items()), body=body)
        self._reply(status, data)

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)


def _busy_reply(reason: str = PROBLEM_BUSY) -> bytes:
    body = json.dumps({"status": "refused", "reason": reason}).encode("utf-8")
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class _Server(HTTPServer):
    """An HTTP server whose connections are served by a fixed pool of threads: at most
    ``workers`` at once and ``queue`` waiting, at most ``per_address`` from one client address;
    any further connection gets 503 and is closed. Each connection is closed ``deadline``
    seconds after its accept, however slowly its request trickles in."""

    #: the listen backlog: connections the kernel holds until accepted (then served or refused)
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        receiver: WebhookReceiver,
        *,
        workers: int = DEFAULT_HTTP_WORKERS,
        queue: int = DEFAULT_HTTP_QUEUE,
        request_timeout: float = REQUEST_TIMEOUT_SECONDS,
        deadline: float = CONNECTION_DEADLINE_SECONDS,
        per_address: int = DEFAULT_CONNECTIONS_PER_ADDRESS,
    ) -> None:
        super().__init__(address, _Handler)
        self.receiver = receiver
        self.request_timeout = request_timeout
        self.deadline = deadline
        self.per_address = per_address
        self.refused_busy = 0
        self.expired = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aims-webhook")
        self._slots = threading.BoundedSemaphore(workers + queue)
        self._by_address: dict[str, int] = {}
        self._address_lock = threading.Lock()
        self._expired: set[int] = set()  # ids of the sockets whose deadline passed
        # one watchdog thread closes connections at their deadline (a heap of deadlines)
        self._watch = threading.Condition()
        self._deadlines: list[tuple[float, int, Any]] = []
        self._active: set[int] = set()
        self._stopping = False
        self._watchdog = threading.Thread(
            target=self._watch_deadlines, name="aims-webhook-deadlines", daemon=True
        )
        self._watchdog.start()

    def _watch_deadlines(self) -> None:
        with self._watch:
            while not self._stopping:
                if not self._deadlines:
                    self._watch.wait()
                    continue
                due, key, request = self._deadlines[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._watch.wait(wait)
                    continue
                heapq.heappop(self._deadlines)
                if key in self._active:
                    self._expire(request)

    def _take_address(self, host: str) -> bool:
        with self._address_lock:
            held = self._by_address.get(host, 0)
            if held >= self.per_address:
                return False
            self._by_address[host] = held + 1
            return True

    def _give_address(self, host: str) -> None:
        with self._address_lock:
            held = self._by_address.get(host, 1) - 1
            if held > 0:
                self._by_address[host] = held
            else:
                self._by_address.pop(host, None)

    def process_request(self, request: Any, client_address: Any) -> None:
        host = str(client_address[0]) if client_address else ""
        if not self._take_address(host):
            self.refused_busy += 1
            self._refuse_busy(request, PROBLEM_BUSY_ADDRESS)
            return
        if not self._slots.acquire(blocking=False):
            self._give_address(host)
            self.refused_busy += 1
            self._refuse_busy(request)
            return
        # the deadline runs from the accept, while the connection waits for a thread too
        with self._watch:
            self._active.add(id(request))
            entry = (time.monotonic() + self.deadline, id(request), request)
            heapq.heappush(self._deadlines, entry)
            self._watch.notify()
        try:
            self._pool.submit(self._serve_one, request, client_address, host)
        except RuntimeError:  # the pool is shut down: the server is stopping
            self._finished(request, host)
            self.shutdown_request(request)

    def _finished(self, request: Any, host: str) -> None:
        with self._watch:
            self._active.discard(id(request))
        self._slots.release()
        self._give_address(host)
        with self._address_lock:
            self._expired.discard(id(request))

    def _expire(self, request: socket.socket) -> None:
        """The connection's deadline passed: end its reads (the handler then finishes)."""
        with self._address_lock:
            self.expired += 1
            self._expired.add(id(request))
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone before its reply (a slow or cut-off connection) is one log line; any
        other error is logged with its traceback. The server keeps serving either way."""
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            logger.info("connection from %s ended early: %s", client_address, error)
            return
        logger.exception("error while serving %s", client_address)

    def has_expired(self, request: Any) -> bool:
        """Whether ``request``'s deadline passed (what was read of it is cut short: unused)."""
        with self._address_lock:
            return id(request) in self._expired

    def _serve_one(self, request: Any, client_address: Any, host: str) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)  # logs it; the server keeps serving
        finally:
            self.shutdown_request(request)
            self._finished(request, host)

    def _refuse_busy(self, request: socket.socket, reason: str = PROBLEM_BUSY) -> None:
        try:
            request.settimeout(1.0)
            request.sendall(_busy_reply(reason))
        except OSError as exc:  # the client is gone already
            logger.info("could not send 503 to a client over the limit: %s", exc)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        with self._watch:
            self._stopping = True
            self._watch.notify()
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_server(
    receiver: WebhookReceiver,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    workers: int = DEFAULT_HTTP_WORKERS,
    queue: int = DEFAULT_HTTP_QUEUE,
    request_timeout: float = REQUEST_TIMEOUT_SECONDS,
    deadline: float = CONNECTION_DEADLINE_SECONDS,
    per_address: int = DEFAULT_CONNECTIONS_PER_ADDRESS,
) -> HTTPServer:
    """An HTTP server (not started) that hands every POST to ``receiver``, with a bounded pool
    of request threads, a socket timeout and an overall deadline per connection, and a limit of
    connections per client address."""
    return _Server(
        (host, port),
        receiver,
        workers=workers,
        queue=queue,
        request_timeout=request_timeout,
        deadline=deadline,
        per_address=per_address,
    )


def is_loopback(host: str) -> bool:
    """Whether ``host`` binds only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(
    receiver: WebhookReceiver,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    per_address: int = DEFAULT_CONNECTIONS_PER_ADDRESS,
) -> None:
    """Serve ``receiver`` until interrupted (SIGINT or SIGTERM), then finish its queued runs."""
    import sys

    server = make_server(receiver, host=host, port=port, per_address=per_address)
    bound_host, bound_port = server.server_address[:2]
    if not is_loopback(host):
        print(WARNING_NOT_LOOPBACK.format(host=host), file=sys.stderr, flush=True)
    print(MESSAGE_LISTENING.format(host=bound_host, port=bound_port), flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
        receiver.close()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m aims_mlops.integrations.webhook``: the ``aims webhook`` command."""
    from aims_mlops.cli import webhook_command

    webhook_command.main(args=argv, prog_name=PROG_NAME)


if __name__ == "__main__":
    main()
