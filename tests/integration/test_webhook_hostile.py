"""Issue 21, finding 5: slow connections cannot starve the webhook receiver of its workers, and
a receiver for a store that requires signatures does not start without a signing key."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.evidence import generate_keys
from aims_mlops.integrations.webhook import ERROR_UNSIGNED_RECEIVER, WebhookReceiver, make_server
from tests.integration.test_webhook import SECRET, alias_body, receiver, signed_headers
from tests.unit.test_gate import CONFIG

__all__ = ["receiver"]  # the fixture, used by name

SLOW_CLIENTS = 40


@pytest.fixture
def bounded_server(receiver: WebhookReceiver) -> Iterator[Any]:
    server = make_server(
        receiver, host="127.0.0.1", port=0, workers=8, queue=16, request_timeout=1.0, deadline=3.0
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


class _SlowLoris:
    """Connections from 127.0.0.2 that each send one header line every ``every`` seconds (each
    byte well inside the socket timeout), never finishing their request."""

    def __init__(self, port: int, count: int, every: float = 0.5) -> None:
        self.socks: list[socket.socket] = []
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.2", 0))
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            self.socks.append(sock)
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)
        self.thread.start()

    def _drip(self) -> None:
        n = 0
        while not self.stop.wait(self.every):
            n += 1
            for sock in self.socks:
                with contextlib.suppress(OSError):
                    sock.sendall(f"X-Slow-{n}: {n}\r\n".encode())

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def _deliver(port: int, delivery: str) -> int:
    body = alias_body(alias="staging")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=body.encode(),
        headers={**signed_headers(body, delivery=delivery), "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return int(response.status)


def test_genuine_deliveries_are_served_while_forty_slow_connections_are_open(
    bounded_server: Any,
) -> None:
    port = bounded_server.server_address[1]
    loris = _SlowLoris(port, SLOW_CLIENTS)
    try:
        time.sleep(1.5)  # past the socket timeout: the drip keeps every slow socket alive
        started = time.monotonic()
        statuses = [_deliver(port, f"genuine-{n}") for n in range(10)]
        elapsed = time.monotonic() - started
        print(f"10 genuine deliveries beside {SLOW_CLIENTS} slow connections: {elapsed:.2f} s")
        assert statuses == [200] * 10
        assert elapsed < 5
        assert bounded_server.refused_busy >= SLOW_CLIENTS - 4  # the per-address limit
    finally:
        loris.close()


def test_a_trickling_connection_is_closed_at_its_deadline(receiver: WebhookReceiver) -> None:
    server = make_server(
        receiver, host="127.0.0.1", port=0, request_timeout=1.0, deadline=2.0, per_address=100
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    loris = _SlowLoris(port, 24, every=0.3)  # every worker and queue slot, kept alive
    try:
        started = time.monotonic()
        for sock in loris.socks:
            sock.settimeout(10)
            with contextlib.suppress(OSError):
                while sock.recv(4096):
                    pass
        elapsed = time.monotonic() - started
        assert elapsed < 8, elapsed  # closed at the 2 s deadline, not kept alive by the drip
        assert server.expired >= 24
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as reply:
            assert reply.status == 200
    finally:
        loris.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_receiver_for_a_signed_store_refuses_to_start_without_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_keys(tmp_path / "keys")
    config = tmp_path / "aims.yaml"
    config.write_text(CONFIG + "trust:\n  public_keys: [keys/aims-signing.pub]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIMS_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    result = CliRunner().invoke(cli, ["webhook", "--config", str(config), "--port", "1"])
    assert result.exit_code == 2
    expected = ERROR_UNSIGNED_RECEIVER.format(path=config, env="AIMS_SIGNING_KEY")
    assert result.stderr == f"error: {expected}\n"
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "keys" / "aims-signing.pub"))
    result = CliRunner().invoke(cli, ["webhook", "--config", str(config), "--port", "1"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1  # not a private key
    assert "Traceback" not in result.stderr
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "keys" / "aims-signing.key"))
    WebhookReceiver(config_path=config, secret=SECRET).close()  # a usable key: it starts
