"""PostgreSQL fixtures: a throwaway cluster per test session and a real ``mlflow server`` on it.

The cluster lives in a fresh temporary directory (``initdb``), listens on 127.0.0.1 only with
``trust`` authentication, and is stopped and removed at the end. PostgreSQL refuses to run as
root, so as root the cluster runs as the ``postgres`` system user that Debian's package creates.
Tests using these fixtures skip when the PostgreSQL binaries are missing, unless ``$CI`` is set
(CI installs them with ``scripts/postgres.sh`` and must not skip).

Import the fixtures from ``tests/conftest.py``::

    from tests.postgres_fixtures import (  # noqa: F401 - fixtures, used by name
        postgres_cluster,
        postgres_mlflow_server,
        postgres_uri,
    )
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

#: The binaries a cluster needs.
PG_BINARIES = ("initdb", "postgres", "pg_ctl")
#: The system user the cluster runs as when the tests run as root.
PG_SYSTEM_USER = "postgres"
#: The database superuser ``initdb`` creates (``trust`` auth on 127.0.0.1: no password).
PG_SUPERUSER = "aims"

SKIP_NO_POSTGRES = (
    "PostgreSQL binaries (initdb, postgres, pg_ctl) not found; run scripts/postgres.sh "
    "(CI does, and never skips)"
)
ERROR_NO_POSTGRES_IN_CI = (
    "CI is set but the PostgreSQL binaries are missing: scripts/postgres.sh must run first"
)
SKIP_NO_PSYCOPG2 = "psycopg2 is not installed (pip install psycopg2-binary)"
ERROR_NO_PSYCOPG2_IN_CI = "CI is set but psycopg2 is missing: add psycopg2-binary to the test extra"
ERROR_NO_SYSTEM_USER = (
    "running as root but there is no '{user}' system user to run PostgreSQL as "
    "(scripts/postgres.sh creates it)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_bindir() -> Path | None:
    """The directory holding ``initdb``, ``postgres`` and ``pg_ctl``: on ``$PATH``, else Debian's
    ``/usr/lib/postgresql/<version>/bin`` (newest version first); None when absent."""
    on_path = [shutil.which(name) for name in PG_BINARIES]
    if all(on_path):
        return Path(on_path[0] or "").resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if all((Path(candidate) / name).is_file() for name in PG_BINARIES):
            return Path(candidate)
    return None


class PostgresCluster:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (data and socket in one temporary directory)."""

    def __init__(self, *, bindir: Path, port: int | None = None) -> None:
        self.bindir = bindir
        self.port = port or _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aims-pg-"))  # /tmp: reachable by 'postgres'
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._run_as: str | None = None
        if os.geteuid() == 0:
            import pwd

            try:
                entry = pwd.getpwnam(PG_SYSTEM_USER)
            except KeyError as exc:
                raise RuntimeError(ERROR_NO_SYSTEM_USER.format(user=PG_SYSTEM_USER)) from exc
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._run_as = PG_SYSTEM_USER
        self.started = False

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._run_as is not None:
            kwargs.update(user=self._run_as, group=self._run_as, extra_groups=[])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
            **kwargs,
        )

    def start(self) -> None:
        """``initdb`` (no fsync: a test cluster) and ``pg_ctl start``; waits until it accepts."""
        self._run(
            "initdb", "-D", str(self.data), "-U", PG_SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        options = " ".join(
            [
                f"-p {self.port}",
                "-h 127.0.0.1",
                f"-k {self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                "-t", "60", "start",
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"postgres did not start: {exc.stderr}\n{log}") from exc
        self.started = True

    def uri(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg2://{PG_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy/MLflow URI."""
        import psycopg2

        name = name or f"db_{uuid.uuid4().hex[:12]}"
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=PG_SUPERUSER, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.uri(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster's directory."""
        try:
            if self.started or (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class PostgresMlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 with a PostgreSQL backend store (same interface as
    ``tests.conftest.MlflowServer``: ``uri``, ``start()``, ``stop()``)."""

    def __init__(
        self,
        root: Path,
        *,
        backend_uri: str,
        workers: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.backend_uri = backend_uri
        self.workers = workers
        self.port = _free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        """Start the server; a no-op while it runs (see ``MlflowServer.start``)."""
        if self.process is not None and self.process.poll() is None:
            return
        env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", **self.extra_env)
        env.pop("MLFLOW_TRACKING_URI", None)
        log_path = self.root / "server.log"
        log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--backend-store-uri", self.backend_uri,
                "--artifacts-destination", str(self.root / "artifacts"),
                "--workers", str(self.workers),
            ],
            cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"mlflow server did not become healthy in time: {log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def require_postgres() -> Path:
    """The PostgreSQL bin directory; skips the test when absent (fails instead under ``$CI``)."""
    bindir = find_pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(ERROR_NO_POSTGRES_IN_CI)
        pytest.skip(SKIP_NO_POSTGRES)
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(ERROR_NO_PSYCOPG2_IN_CI)
        pytest.skip(SKIP_NO_PSYCOPG2)
    return bindir


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the session (tests create their own databases)."""
    cluster = PostgresCluster(bindir=require_postgres())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_uri(postgres_cluster: PostgresCluster) -> str:
    """A fresh, empty database in the session's cluster: ``postgresql+psycopg2://aims@127.0.0.1:P/db_…``."""
    return postgres_cluster.create_database()


@pytest.fixture(scope="session")
def postgres_mlflow_server(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresMlflowServer]:
    """A real ``mlflow server`` (2 workers) on its own PostgreSQL database, shared by the session:
    tests must use unique experiment, system and model names."""
    server = PostgresMlflowServer(
        tmp_path_factory.mktemp("mlflow-pg-server"),
        backend_uri=postgres_cluster.create_database("mlflow_server"),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
