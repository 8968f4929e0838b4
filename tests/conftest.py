"""Shared fixtures: real MLflow stores (local sqlite, and a real ``mlflow server`` subprocess)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from tests.postgres_fixtures import (  # noqa: F401 - fixtures, used by name
    postgres_cluster,
    postgres_mlflow_server,
    postgres_uri,
)
from tests.spark_fixtures import spark  # noqa: F401 - fixture, used by name

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

REPO_ROOT = Path(__file__).resolve().parents[1]
ADULT_DIR = REPO_ROOT / "aims_mlops" / "data"
#: What a test that forgets its temporary folder leaves in the checkout (MLflow writes ./mlruns
#: and ./mlflow.db in the working directory; capture spools into ./.aims).
LITTER = ("mlruns", "mlflow.db", ".aims", "aims.yaml", "aims-demo", "spark-warehouse")
ERROR_LITTER = (
    "this test left {names} in the repository root {root}: work in tmp_path "
    "(monkeypatch.chdir(tmp_path), or give MLflow an artifact location there)"
)


@pytest.fixture(autouse=True)
def _working_tree_left_clean() -> Iterator[None]:
    """Fail the test that leaves files in the checkout (they would end up in git status)."""
    before = {name for name in LITTER if (REPO_ROOT / name).exists()}
    yield
    left = sorted(name for name in LITTER if (REPO_ROOT / name).exists() and name not in before)
    if left:
        pytest.fail(ERROR_LITTER.format(names=", ".join(left), root=REPO_ROOT), pytrace=False)


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (``timeout``, a CI cancel) ends like Ctrl-C: pytest still
    tears the fixtures down, so no PostgreSQL cluster, ``mlflow server``, Voila or temporary
    folder (``/tmp/aims-pg-*``, ``/tmp/aims-evidence-*``) outlives it."""
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 with a sqlite backend, startable and stoppable."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        """Start the server; a no-op while it runs (a second process on the port would fail to
        bind while the health check answered from the first, leaving that one unstoppable)."""
        if self.process is not None and self.process.poll() is None:
            return
        env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
        env.pop("MLFLOW_TRACKING_URI", None)
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--backend-store-uri",
                f"sqlite:///{self.root / 'server.db'}",
                "--artifacts-destination",
                str(self.root / "artifacts"),
                "--workers",
                "1",
            ],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited: {(self.root / 'server.log').read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("mlflow server did not become healthy in time")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real tracking server shared by a test module (its tests must use unique experiment
    names). One per module, not per session: organization-level records that one module writes
    would be read by another's summaries, in whatever order pytest-xdist runs the modules."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class DemoRun:
    """One ``aims demo --dir FOLDER`` run as a newcomer makes it, in a process of its own."""

    folder: Path  # the demo's evidence folder: aims.yaml, mlflow.db, mlruns/, .aims/
    cwd: Path  # the working directory the command ran in (the folder's parent)
    completed: subprocess.CompletedProcess[str]


#: Environment that would point the demo at the caller's store, system or logging level.
DEMO_LEAKY_ENV = (
    "AIMS_CONFIG",
    "AIMS_SYSTEM",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_LOGGING_LEVEL",
)


def built_once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> tuple[Path, contextlib.AbstractContextManager[object]]:
    """A folder for a session fixture's costly build and the lock under which to build it.

    Under pytest-xdist the run's workers share the folder (the lock makes the first worker build
    it and the others wait, then read what it built); alone, it is the session's own folder.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return tmp_path_factory.mktemp(name), contextlib.nullcontext()
    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's
    folder = shared / name
    folder.mkdir(exist_ok=True)
    return folder, FileLock(str(shared / f"{name}.lock"))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo's store, built once per run (it trains and judges: the costliest fixture)
    and shared read-only: tests that record anything work on ``aims_mlops.demo.scratch_copy``."""
    cwd, lock = built_once_per_run(tmp_path_factory, "demo")
    folder = cwd / "aims-demo"
    built = cwd / "completed.json"
    with lock:
        if built.exists():
            completed = subprocess.CompletedProcess(**json.loads(built.read_text()))
        else:
            env = {k: v for k, v in os.environ.items() if k not in DEMO_LEAKY_ENV}
            env.update(MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
            completed = subprocess.run(
                [sys.executable, "-m", "aims_mlops.cli", "demo", "--dir", str(folder)],
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=600,
            )
            built.write_text(json.dumps(vars(completed)))
    assert completed.returncode == 0, completed.stderr
    return DemoRun(folder=folder, cwd=cwd, completed=completed)


@dataclass(frozen=True)
class TrainedStore:
    """A folder with the example aims.yaml and a local store holding one real training run of
    ``aims_mlops.demo.train_and_capture`` (registered, given the production alias)."""

    folder: Path
    config: Path
    uri: str
    run_id: str
    version: str | None


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    """One real training run with capture on, built once per run and shared read-only (it
    costs as much as a demo step); a test that records anything works on :func:`copy_store`."""
    from aims_mlops.capture import _autolog, reset_session
    from aims_mlops.config import example_config_text
    from aims_mlops.demo import train_and_capture

    shared, lock = built_once_per_run(tmp_path_factory, "trained")
    root = shared / "work"
    config = root / "aims.yaml"
    uri = f"sqlite:///{root / 'mlflow.db'}"
    built = shared / "trained.json"
    with lock:
        if not built.exists():
            root.mkdir()
            config.write_text(example_config_text(), encoding="utf-8")
            with pytest.MonkeyPatch.context() as patch:
                for name in DEMO_LEAKY_ENV:
                    if name != "MLFLOW_LOGGING_LEVEL":
                        patch.delenv(name, raising=False)
                patch.chdir(root)
                patch.setenv("MLFLOW_TRACKING_URI", uri)
                try:
                    run_id, version = train_and_capture(
                        tracking_uri=uri, config_path=config, registry_notices=False
                    )
                finally:
                    _autolog.disable()  # train_and_capture binds a session and turns autolog on
                    reset_session()
                    _reset_mlflow_globals()
            _restore_mlflow_env()
            built.write_text(json.dumps({"run_id": run_id, "version": version}))
        trained = json.loads(built.read_text())
    return TrainedStore(
        folder=root, config=config, uri=uri, run_id=trained["run_id"], version=trained["version"]
    )


def copy_store(source: Path) -> Path:
    """A copy of the local store in ``source`` that a test may record into: artifact locations
    rewritten into the copy (``aims_mlops.demo.scratch_copy``, a new folder of its own under the
    temporary directory: the caller removes ``copy.parent``) and ``.aims/`` (keys, private ones
    included) copied along."""
    import shutil

    from aims_mlops.demo import scratch_copy

    copy = scratch_copy(source, prefix="aims-store-copy-")
    if (source / ".aims").is_dir():
        shutil.copytree(source / ".aims", copy / ".aims", dirs_exist_ok=True)
    return copy


@pytest.fixture
def sqlite_uri(tmp_path: Path) -> str:
    """A fresh local MLflow sqlite store (the embedded default), one per test."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture
def isolated_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_uri: str) -> str:
    """Point MLflow at a fresh sqlite store and work in a temporary directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    return sqlite_uri


#: MLflow's environment as the session found it: set_experiment / set_tracking_uri write these
#: into os.environ themselves, sometimes from MLflow's own worker threads after a test ended.
MLFLOW_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_LOGGING_LEVEL",  # the CLI quiets MLflow through it
)
PRISTINE_MLFLOW_ENV = {key: os.environ.get(key) for key in MLFLOW_ENV}


def _restore_mlflow_env() -> None:
    for key, value in PRISTINE_MLFLOW_ENV.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True, scope="module")
def _pristine_mlflow_env_per_module() -> Iterator[None]:
    """Module fixtures (a store built once per module) start from the session's environment."""
    _restore_mlflow_env()
    yield
    _restore_mlflow_env()


def _reset_mlflow_globals() -> None:
    """No active run, experiment or tracking URI left in MLflow's module globals."""
    if "mlflow" in sys.modules:
        import mlflow
        from mlflow.tracking import _tracking_service, fluent

        while mlflow.active_run() is not None:
            mlflow.end_run()
        fluent._active_experiment_id = None
        _tracking_service.utils._tracking_uri = None


@pytest.fixture(autouse=True)
def _reset_global_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests must not leak MLflow's or aims_mlops' process-wide state into each other.

    MLflow keeps the active experiment id, tracking URI and run stack in module globals (and
    ``MLFLOW_EXPERIMENT_ID`` in the environment); aims_mlops keeps its session and autolog patches.
    """
    _restore_mlflow_env()
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.delenv("AIMS_SYSTEM", raising=False)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    yield
    _restore_mlflow_env()
    _reset_mlflow_globals()
    if "aims_mlops.capture" in sys.modules:
        from aims_mlops.capture import reset_session

        reset_session()
    if "aims_mlops.capture._autolog" in sys.modules:
        from aims_mlops.capture import _autolog

        _autolog.disable()
