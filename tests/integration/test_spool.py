"""Offline and concurrent writing: spooling when MLflow is unreachable, exactly-once sync,
and many processes writing to one store at the same time (real sqlite stores, a real server)."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.store import EvidenceStore

pytestmark = pytest.mark.slow

#: The brief: a write to a stopped server must spool in well under this many seconds.
FAST_FAIL_SECONDS = 3.0


def _client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _new_run(uri: str) -> str:
    client = _client(uri)
    experiment_id = client.create_experiment(f"train-{uuid.uuid4().hex[:8]}")
    return str(client.create_run(experiment_id).info.run_id)


def _record(system: str | None, n: int, run_id: str | None = None) -> EvidenceRecord:
    return new_record(
        kind="performance" if run_id else "attestation",
        system=system,
        outcome="pass",
        collector="test",
        subject=Subject(run_id=run_id),
        metrics={"n": n},
        controls=["A.6.2.4"],
    )


def _runs_holding(uri: str, experiment: str, record_id: str) -> int:
    client = _client(uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return 0
    return len(
        client.search_runs([found.experiment_id], f"tags.`aims.evidence.{record_id}` LIKE '%'")
    )


@pytest.fixture
def stopped_then_restarted(mlflow_server: Any) -> Iterator[Any]:
    """The shared server; whatever the test does, it is running again afterwards."""
    try:
        yield mlflow_server
    finally:
        mlflow_server.start()


def test_stopped_server_spools_fast_and_sync_uploads_each_record_once(
    stopped_then_restarted: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = stopped_then_restarted
    monkeypatch.chdir(tmp_path)
    system = f"offline-{uuid.uuid4().hex[:8]}"
    experiment = f"aims-evidence-{uuid.uuid4().hex[:8]}"
    store = EvidenceStore(
        tracking_uri=server.uri, evidence_experiment=experiment, spool_dir=tmp_path / "spool"
    )
    run_id = _new_run(server.uri)
    run_level = [_record(system, n, run_id) for n in range(3)]
    own_run = [_record(system, 10), _record(None, 11)]

    server.stop()
    timings = []
    results = []
    for record in run_level:
        started = time.monotonic()
        results.append(store.write(record, run_id=run_id, artifacts={"note.txt": b"offline"}))
        timings.append(time.monotonic() - started)
    for record in own_run:
        started = time.monotonic()
        results.append(store.write(record))
        timings.append(time.monotonic() - started)
    print(f"write to a stopped server took {max(timings):.3f} s at most")  # for the report
    assert max(timings) < FAST_FAIL_SECONDS
    assert all(r.spooled for r in results)
    assert all("unreachable" in (r.reason or "") for r in results)
    assert store.pending() == 5
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == sorted(
        f"{r.id}.json" for r in run_level + own_run
    )

    server.start()
    report = store.sync()
    assert (report.uploaded, report.already_present, report.failed, report.remaining) == (
        5,
        0,
        0,
        0,
    )
    assert report.errors == ()
    assert store.pending() == 0
    again = store.sync()
    assert (again.uploaded, again.already_present, again.failed, again.remaining) == (0, 0, 0, 0)

    got = {r.id: r for r in store.records(system=system)}
    for record in run_level + own_run:
        assert got[record.id] == record
    tags = _client(server.uri).get_run(run_id).data.tags
    assert all(f"aims.evidence.{r.id}" in tags for r in run_level)
    for record in own_run:
        assert _runs_holding(server.uri, experiment, record.id) == 1
    report_v = store.verify(system=system)
    assert not [p for p in report_v.problems if any(r.id in p for r in run_level + own_run)]
    assert report_v.intact >= 5


def test_server_that_drops_connections_fails_fast_and_env_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts connections but never answers: the TCP probe passes, MLflow's own
    HTTP retries are what must be short (its defaults back off for minutes)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]

    def drop_all() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=drop_all, daemon=True).start()
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_TIMEOUT", raising=False)
    store = EvidenceStore(tracking_uri=f"http://127.0.0.1:{port}", spool_dir=tmp_path / "spool")
    try:
        for run_id in ("0" * 32, None):
            record = _record("s", 1, run_id)
            started = time.monotonic()
            result = store.write(record, run_id=run_id)
            elapsed = time.monotonic() - started
            assert result.spooled, result
            assert elapsed < FAST_FAIL_SECONDS, elapsed
    finally:
        listener.close()
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "5"
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ
    assert store.pending() == 2


def test_sync_counts_records_already_stored_and_removes_them(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    store = EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=tmp_path / "spool")
    run_id = _new_run(isolated_mlflow)
    on_run = _record("s", 1, run_id)
    own = _record("s", 2)
    assert not store.write(on_run, run_id=run_id).spooled
    assert not store.write(own).spooled
    store.spool(on_run, run_id=run_id)  # e.g. a write that timed out after MLflow stored it
    store.spool(own)
    report = store.sync(progress=True)
    assert (report.uploaded, report.already_present, report.failed, report.remaining) == (
        0,
        2,
        0,
        0,
    )
    assert _runs_holding(isolated_mlflow, "aims-evidence", own.id) == 1


def test_corrupt_spool_file_is_reported_and_kept(isolated_mlflow: str, tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    store = EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=spool_dir)
    good = _record("s", 1)
    store.spool(good)
    bad = spool_dir / "feedbeef.json"
    bad.write_text('{"record": {"id": "feedbeef"', encoding="utf-8")
    report = store.sync()
    assert (report.uploaded, report.failed, report.remaining) == (1, 1, 1)
    assert len(report.errors) == 1 and str(bad) in report.errors[0]
    assert bad.read_text(encoding="utf-8") == '{"record": {"id": "feedbeef"'
    assert [r.id for r in store.records(system="s")] == [good.id]


def _sync_in_process(uri: str, spool_dir: str, out: str) -> None:
    report = EvidenceStore(tracking_uri=uri, spool_dir=spool_dir).sync()
    Path(out).write_text(
        json.dumps([report.uploaded, report.already_present, report.failed]), encoding="utf-8"
    )


def _run_processes(target: Any, argument_lists: list[tuple[Any, ...]]) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=target, args=args) for args in argument_lists]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(300)
        assert proc.exitcode == 0, proc


def test_concurrent_syncs_upload_each_record_exactly_once(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    store = EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=spool_dir)
    run_id = _new_run(isolated_mlflow)  # also creates the database before the processes start
    records = [_record("s", n) for n in range(8)] + [_record("s", n, run_id) for n in range(8)]
    for record in records:
        store.spool(record, run_id=record.subject.run_id)
    outs = [tmp_path / f"sync{i}.json" for i in range(3)]
    _run_processes(_sync_in_process, [(isolated_mlflow, str(spool_dir), str(out)) for out in outs])
    counts = [json.loads(out.read_text(encoding="utf-8")) for out in outs]
    assert sum(c[0] for c in counts) == len(records)  # uploaded, summed over the processes
    assert sum(c[2] for c in counts) == 0
    assert store.pending() == 0
    for record in records[:8]:
        assert _runs_holding(isolated_mlflow, "aims-evidence", record.id) == 1
    assert {r.id for r in store.records(system="s")} == {r.id for r in records}


def _write_in_process(
    uri: str, spool_dir: str, experiment: str, system: str, run_id: str, worker: int, out: str
) -> None:
    store = EvidenceStore(tracking_uri=uri, evidence_experiment=experiment, spool_dir=spool_dir)
    written = []
    for n in range(3):
        for target in (None, run_id):
            record = _record(system, worker * 100 + n, target)
            result = store.write(record, run_id=target)
            written.append([record.id, result.spooled, result.reason])
    Path(out).write_text(json.dumps(written), encoding="utf-8")


def _eight_writers(uri: str, tmp_path: Path) -> None:
    system = f"busy-{uuid.uuid4().hex[:8]}"
    experiment = f"aims-evidence-{uuid.uuid4().hex[:8]}"  # created by the racing writers
    spool_dir = tmp_path / "spool"
    run_id = _new_run(uri)
    outs = [tmp_path / f"writer{i}.json" for i in range(8)]
    _run_processes(
        _write_in_process,
        [
            (uri, str(spool_dir), experiment, system, run_id, i, str(out))
            for i, out in enumerate(outs)
        ],
    )
    written = [row for out in outs for row in json.loads(out.read_text(encoding="utf-8"))]
    assert len(written) == 48
    assert [row for row in written if row[1]] == []  # none had to be spooled
    store = EvidenceStore(tracking_uri=uri, evidence_experiment=experiment, spool_dir=spool_dir)
    assert store.pending() == 0
    got = {r.id for r in store.records(system=system, include_org=False)}
    assert got == {row[0] for row in written}
    report = store.verify(system=system)
    assert not [p for p in report.problems if system in p or any(r[0] in p for r in written)]
    client = _client(uri)
    assert len(client.search_experiments(filter_string=f"name = '{experiment}'")) == 1


def test_eight_processes_write_concurrently_to_one_sqlite_store(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    _eight_writers(isolated_mlflow, tmp_path)


def test_eight_processes_write_concurrently_through_the_server(
    mlflow_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _eight_writers(mlflow_server.uri, tmp_path)
