"""The registry webhook receiver: MLflow's signature scheme; real deliveries from a server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aims_mlops.catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.integrations.webhook import (
    DELIVERY_ID_HEADER,
    PROBLEM_BAD_SIGNATURE,
    PROBLEM_MISSING_HEADERS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookReceiver,
    sign,
    verify_signature,
)
from tests.conftest import MlflowServer, free_port
from tests.ledger_fixtures import approved_workspace
from tests.unit.test_gate import CONFIG

SECRET = "s3cr3t-for-tests"
MODEL = "credit-model"


def signed_headers(body: str, *, secret: str = SECRET, delivery: str = "d-1") -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        SIGNATURE_HEADER: sign(secret, delivery, stamp, body),
        TIMESTAMP_HEADER: stamp,
        DELIVERY_ID_HEADER: delivery,
    }


def alias_body(alias: str = "champion", name: str = MODEL, version: str = "1") -> str:
    return json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-11-01T00:00:00+00:00",
            "data": {"name": name, "alias": alias, "version": version},
        }
    )


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    config = tmp_path / "aims.yaml"
    config.write_text(CONFIG)
    found = WebhookReceiver(config_path=config, secret=SECRET)
    yield found
    found.close()


def test_signature_checks() -> None:
    body = alias_body()
    headers = signed_headers(body)
    assert verify_signature(secret=SECRET, headers=headers, body=body.encode()) is None
    lower = {k.lower(): v for k, v in headers.items()}  # HTTP header names are case-insensitive
    assert verify_signature(secret=SECRET, headers=lower, body=body.encode()) is None
    tampered = body.replace('"1"', '"2"').encode()
    assert verify_signature(secret=SECRET, headers=headers, body=tampered) == PROBLEM_BAD_SIGNATURE
    assert (
        verify_signature(secret="other", headers=headers, body=body.encode())
        == PROBLEM_BAD_SIGNATURE
    )
    old = dict(headers, **{TIMESTAMP_HEADER: str(int(time.time()) - 3600)})
    problem = verify_signature(secret=SECRET, headers=old, body=body.encode())
    assert problem is not None and "X-MLflow-Timestamp" in problem
    no_sig = {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}
    assert (
        verify_signature(secret=SECRET, headers=no_sig, body=body.encode())
        == PROBLEM_MISSING_HEADERS
    )


def test_receiver_refuses_ignores_and_deduplicates(receiver: WebhookReceiver) -> None:
    body = alias_body(alias="staging")  # not the system's production alias
    status, reply = receiver.handle(headers=signed_headers(body, secret="x"), body=body.encode())
    assert status == 401 and reply["reason"] == PROBLEM_BAD_SIGNATURE
    status, reply = receiver.handle(headers=signed_headers(body), body=body.encode())
    assert (status, reply["status"]) == (200, "ignored")
    status, reply = receiver.handle(headers=signed_headers(body), body=body.encode())
    assert (status, reply["status"]) == (200, "duplicate")
    other = alias_body(name="someone-elses-model")
    status, reply = receiver.handle(
        headers=signed_headers(other, delivery="d-2"), body=other.encode()
    )
    assert (status, reply["status"]) == (200, "ignored")
    status, reply = receiver.handle(headers=signed_headers("[1]", delivery="d-3"), body=b"[1]")
    assert status == 400
    # matching events name the system bound to the model and alias in aims.yaml
    events = receiver.events(json.loads(alias_body(version="7")), delivery_id="d-4")
    assert [(e.system, e.model_name, e.alias, e.version) for e in events] == [
        ("credit", MODEL, "champion", "7")
    ]


@pytest.mark.slow
def test_our_signature_is_mlflows() -> None:
    from mlflow.webhooks.delivery import _generate_hmac_signature

    body = alias_body()
    assert sign(SECRET, "d-9", "1700000000", body) == _generate_hmac_signature(
        SECRET, "d-9", "1700000000", body
    )


# -- end to end: a real mlflow server delivers to the receiver running as a subprocess ---------
WEBHOOK_SERVER_ENV = {
    # http://127.0.0.1 is refused by default: MLflow allows only https and public addresses
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    # a fixed key, so that webhook secrets stay readable whichever worker stored them
    "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
}


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("webhook-server"))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in WEBHOOK_SERVER_ENV.items():
            patch.setenv(key, value)
        server.start()
    yield server
    server.stop()


@pytest.fixture
def running_receiver(
    webhook_server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path]]:
    from aims_mlops.store import EvidenceStore

    monkeypatch.chdir(tmp_path)  # the store's spool folder (.aims/spool) stays out of the checkout
    # signed evidence and an approved configuration (the gate fails on either missing)
    approved_workspace(tmp_path, CONFIG, store=EvidenceStore(tracking_uri=webhook_server.uri))
    port = free_port()
    env = dict(os.environ, AIMS_WEBHOOK_SECRET=SECRET, MLFLOW_DISABLE_TELEMETRY="true")
    env.pop("MLFLOW_TRACKING_URI", None)
    log = tmp_path / "receiver.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aims_mlops.integrations.webhook",
                "--port",
                str(port),
                "--config",
                "aims.yaml",
                "--tracking-uri",
                webhook_server.uri,
            ],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "health", timeout=2) as response:
                assert response.status == 200
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"receiver did not start: {log.read_text()}") from None
            time.sleep(0.2)
    yield url, log
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_deployment(uri: str, version: str, log: Path, timeout: float = 90) -> EvidenceRecord:
    from aims_mlops.store import EvidenceStore

    store = EvidenceStore(tracking_uri=uri)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in store.records(system="credit", kinds=["deployment"]):
            if record.subject.model_version == version:
                return record
        time.sleep(1)
    raise AssertionError(
        f"no deployment record for version {version}; receiver log:\n{log.read_text()}"
    )


@pytest.mark.slow
def test_alias_events_from_a_real_server_are_gated_and_recorded(
    webhook_server: MlflowServer, running_receiver: tuple[str, Path]
) -> None:
    from mlflow import MlflowClient

    from aims_mlops.evidence import load_signing_key
    from aims_mlops.store import EvidenceStore

    url, log = running_receiver
    client = MlflowClient(tracking_uri=webhook_server.uri)
    experiment_id = client.create_experiment("credit-webhook")
    runs = []
    for _ in range(2):
        run_id = client.create_run(experiment_id).info.run_id
        client.set_terminated(run_id)
        runs.append(run_id)
    client.create_registered_model(MODEL)
    versions = [
        str(client.create_model_version(MODEL, f"runs:/{r}/model", run_id=r).version) for r in runs
    ]
    # version 2 has passing fairness evidence; version 1 has none (risk R1 stays above appetite)
    # (with the performance and data quality that verify it, A.6.2.4)
    for kind, metrics in (
        ("fairness", {"demographic_parity_difference": 0.03}),
        ("performance", {"accuracy": 0.86}),
        ("data_quality", {"success_percent": 100.0}),
    ):
        passing = new_record(
            kind=kind,
            system="credit",
            outcome="pass",
            collector="test",
            subject=Subject(run_id=runs[1], model_name=MODEL, model_version=versions[1]),
            metrics=metrics,
            details={
                "checks": [{"passed": True, "reason": f"{metrics}"}],
                **({"sensitive_features": ["sex"]} if kind == "fairness" else {}),  # as measured
            },
            controls=load_catalog().controls_for_kind(kind),
        ).signed(load_signing_key(log.parent / ".aims" / "keys" / "pipeline.key"))
        EvidenceStore(tracking_uri=webhook_server.uri).write(passing, run_id=runs[1])
    # register through the module's own command (it has the server send a test event first)
    registered = subprocess.run(
        [
            sys.executable,
            "-m",
            "aims_mlops.integrations.webhook",
            "--register",
            url,
            "--tracking-uri",
            webhook_server.uri,
        ],
        env=dict(os.environ, AIMS_WEBHOOK_SECRET=SECRET),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert registered.returncode == 0, registered.stderr
    assert f"-> {url}" in registered.stdout
    [hook] = [h for h in client.list_webhooks() if h.name == "aims-gate"]
    assert hook.url == url and [str(e) for e in hook.events] == ["model_version_alias.created"]

    client.set_registered_model_alias(MODEL, "champion", versions[0])
    first = wait_for_deployment(webhook_server.uri, versions[0], log)
    assert first.outcome == "fail"
    assert first.controls == ("A.6.2.5",)
    assert first.details["action"] == "observed" and first.details["alias"] == "champion"
    assert first.details["trigger"].startswith("mlflow webhook ")
    assert any(f.startswith("risk R1 ") for f in first.details["gate"]["failures"])
    assert first.subject.run_id == runs[0]
    assert f"aims.evidence.{first.id}" in client.get_run(runs[0]).data.tags

    client.set_registered_model_alias(MODEL, "champion", versions[1])
    second = wait_for_deployment(webhook_server.uri, versions[1], log)
    assert second.outcome == "pass"
    assert second.details["gate"]["passed"] is True
    assert second.subject.run_id == runs[1]
    assert "gate FAILED" in log.read_text()  # the failing one was logged as an error


# -- a bounded server: timeouts, a fixed pool, 503 beyond it; ids that survive a restart ----------
@pytest.fixture
def small_server(receiver: WebhookReceiver) -> Iterator[Any]:
    import threading

    from aims_mlops.integrations.webhook import make_server

    server = make_server(
        receiver, host="127.0.0.1", port=0, workers=4, queue=4, request_timeout=1.0
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_idle_sockets_hold_a_bounded_pool_and_the_rest_get_503(small_server: Any) -> None:
    import socket
    import threading

    port = small_server.server_address[1]
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
    try:
        time.sleep(0.5)
        threads = threading.active_count() - before
        busy = 0
        for sock in idle:
            sock.settimeout(0.3)
            # a socket held by the pool (4 served, 4 waiting) stays silent until its timeout
            with contextlib.suppress(TimeoutError):
                busy += sock.recv(64).startswith(b"HTTP/1.1 503")
        print(f"60 idle sockets: {threads} more threads, {busy} answered 503")  # for the report
        assert threads <= 4
        assert busy >= 60 - 8
        assert small_server.refused_busy == busy
    finally:
        for sock in idle:
            sock.close()
    time.sleep(1.5)  # the held connections time out (1 s) and free the pool
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        assert response.status == 200


def test_a_stalled_connection_is_dropped_after_the_socket_timeout(small_server: Any) -> None:
    import socket

    port = small_server.server_address[1]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # then nothing
        sock.settimeout(5)
        started = time.monotonic()
        assert sock.recv(64) == b""  # closed by the server
        assert time.monotonic() - started < 3


def test_a_delivery_replayed_after_a_restart_is_not_accepted_again(tmp_path: Path) -> None:
    from aims_mlops.integrations.webhook import DEFAULT_DELIVERIES_FILE, REMEMBER_SECONDS

    config = tmp_path / "aims.yaml"
    config.write_text(CONFIG)
    body = alias_body(alias="staging")
    headers = signed_headers(body, delivery="d-replayed")
    first = WebhookReceiver(config_path=config, secret=SECRET)
    assert first.handle(headers=headers, body=body.encode())[1]["status"] == "ignored"
    first.close()
    state = tmp_path / DEFAULT_DELIVERIES_FILE
    assert json.loads(state.read_text().splitlines()[0])["id"] == "d-replayed"
    with state.open("a") as handle:  # a line cut short by a crash, and an id long expired
        handle.write('{"id": "d-cut')
    with state.open("a") as handle:
        handle.write("\n" + json.dumps({"id": "d-old", "at": time.time() - REMEMBER_SECONDS - 5}))
    restarted = WebhookReceiver(config_path=config, secret=SECRET)
    try:
        status, reply = restarted.handle(headers=headers, body=body.encode())
        assert (status, reply["status"]) == (200, "duplicate")
        kept = [json.loads(line)["id"] for line in state.read_text().splitlines()]
        assert kept == ["d-replayed"]  # compacted on start
    finally:
        restarted.close()


def test_a_non_loopback_bind_is_warned_about(
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aims_mlops.integrations import webhook

    assert webhook.is_loopback("127.0.0.1") and webhook.is_loopback("::1")
    assert webhook.is_loopback("localhost") and not webhook.is_loopback("0.0.0.0")

    class Stopped:
        server_address = ("0.0.0.0", 8765)

        def serve_forever(self) -> None:
            raise KeyboardInterrupt

        def server_close(self) -> None:
            pass

    monkeypatch.setattr(webhook, "make_server", lambda *a, **k: Stopped())
    previous = signal.getsignal(signal.SIGTERM)
    try:
        webhook.serve(receiver, host="0.0.0.0", port=8765)
        webhook.serve(receiver, host="127.0.0.1", port=8765)
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    assert err.count(webhook.WARNING_NOT_LOOPBACK.format(host="0.0.0.0")) == 1
    assert err.count("warning:") == 1  # none for the loopback bind


def test_only_a_trusted_promotion_record_spares_an_alias_move_its_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    monkeypatch.chdir(tmp_path)  # the store's artifacts (./mlruns) stay out of the checkout

    from aims_mlops.integrations.webhook import AliasEvent
    from aims_mlops.store import EvidenceStore

    store = EvidenceStore(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", spool_dir=str(tmp_path / "spool")
    )
    config = tmp_path / "aims.yaml"
    config.write_text(CONFIG)
    receiver = WebhookReceiver(config_path=config, secret=SECRET, store=store)
    event = AliasEvent(
        model_name=MODEL, alias="champion", version="2", delivery_id="d-9", system="credit"
    )

    def promotion(**extra: Any) -> EvidenceRecord:
        return new_record(
            kind="deployment",
            system="credit",
            outcome="pass",
            collector="aims_mlops.gate",
            subject=Subject(model_name=MODEL, model_version="2"),
            details={"alias": "champion", "action": "promoted"},
            controls=load_catalog().controls_for_kind("deployment"),
            **extra,
        )

    try:
        ahead = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        store.write(promotion(collected_at=ahead))  # fails the trust check: from the future
        assert receiver._recent_promotion(event) is None
        trusted = promotion()
        store.write(trusted)
        assert receiver._recent_promotion(event) == trusted.id
    finally:
        receiver.close()
