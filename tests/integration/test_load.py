"""Load on the team deployment: 16 concurrent pipelines write evidence to the PostgreSQL-backed
``mlflow server`` while a reader runs ``aims status`` in a loop; every record lands exactly once
and the reader never fails."""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.postgres_fixtures import PG_SUPERUSER, PostgresCluster, PostgresMlflowServer

pytestmark = pytest.mark.slow

WRITERS = 16
RUN_RECORDS = ("data_quality", "fairness", "performance", "lineage.params")
DEADLINE_SECONDS = 100.0


def config_text(system: str, evidence_experiment: str) -> str:
    return f"""version: 1
organization: {{name: Load Test Ltd, aims_scope: Load testing, policy_owner: CRO}}
store: {{evidence_experiment: {evidence_experiment}}}
systems:
  - id: {system}
    name: Load test system
    owner: Load Owner
    intended_use: Exercise concurrent writes.
    mlflow: {{experiment: {system}}}
    performance: {{accuracy: {{min: 0.8}}}}
"""


#: What the fork server imports once, so that each pipeline it forks starts with them loaded
#: (MLflow takes seconds to import per process).
PRELOAD = ["mlflow", "aims_mlops.cli", "aims_mlops.store", "aims_mlops.evidence"]


def pipeline(
    uri: str, system: str, evidence_experiment: str, index: int, out: str, scratch: str
) -> None:
    """One pipeline: a run with 4 run-level records and 1 system-level attestation (temporary
    files, the artifact staging, under ``scratch``)."""
    tempfile.tempdir = scratch  # a writer killed at the deadline leaves nothing in /tmp
    try:
        from mlflow import MlflowClient

        from aims_mlops.evidence import Subject, new_record
        from aims_mlops.store import EvidenceStore

        client = MlflowClient(tracking_uri=uri)
        experiment = client.get_experiment_by_name(system)
        assert experiment is not None
        run_id = client.create_run(
            experiment.experiment_id, tags={"aims.system": system}
        ).info.run_id
        store = EvidenceStore(
            tracking_uri=uri,
            evidence_experiment=evidence_experiment,
            spool_dir=Path(out).parent / f"spool-{index}",
        )
        results = []
        for kind in RUN_RECORDS:
            record = new_record(
                kind=kind,
                system=system,
                outcome="pass",
                collector="test_load",
                subject=Subject(run_id=run_id),
                metrics={"writer": float(index)},
            )
            results.append(store.write(record, run_id=run_id))
        attestation = new_record(
            kind="attestation",
            system=system,
            outcome="pass",
            collector="test_load",
            controls=["A.9.2"],
            details={
                "by": f"Writer {index}",
                "document": "https://example.test/policy",
                "document_sha256": None,
                "statement": "load test",
            },
        )
        results.append(store.write(attestation))
        client.set_terminated(run_id, "FINISHED")
        payload = {
            "run_id": run_id,
            "ids": [r.record_id for r in results],
            "spooled": [r.record_id for r in results if r.spooled],
        }
    except BaseException:  # reported to the parent, which fails the test
        payload = {"error": traceback.format_exc()}
    Path(out).write_text(json.dumps(payload), encoding="utf-8")


def reader(uri: str, config: str, stop: str, out: str) -> None:
    """``aims status --format json`` in a loop until ``stop`` exists; counts runs and errors."""
    import os

    from click.testing import CliRunner

    from aims_mlops.cli import cli

    os.environ["MLFLOW_TRACKING_URI"] = uri
    runs, errors = 0, []
    while True:
        last = Path(stop).exists()
        if runs == 0:  # the test starts the writers only now: a loaded machine forks slowly
            Path(out + ".reading").touch()
        result = CliRunner().invoke(cli, ["status", "--config", config, "--format", "json"])
        runs += 1
        if result.exit_code != 0 or result.exception is not None:
            errors.append(f"exit {result.exit_code}: {result.output}\n{result.exception!r}")
        else:
            try:
                rows = json.loads(result.stdout)
                if not isinstance(rows, list) or len(rows) != 1:
                    errors.append(f"unexpected status rows: {result.stdout}")
            except ValueError as exc:
                errors.append(f"not JSON ({exc}): {result.stdout}")
        if last:
            break
    Path(out).write_text(json.dumps({"runs": runs, "errors": errors}), encoding="utf-8")


def evidence_keys_in_postgres(cluster: PostgresCluster, keys: list[str]) -> Counter[str]:
    """How many rows of MLflow's ``tags`` table hold each evidence key (any run)."""
    import psycopg2

    connection = psycopg2.connect(
        host="127.0.0.1", port=cluster.port, user=PG_SUPERUSER, dbname="mlflow_server"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT key FROM tags WHERE key = ANY(%s)", (keys,))
            return Counter(row[0] for row in cursor.fetchall())
    finally:
        connection.close()


def test_concurrent_pipelines_and_reader(
    postgres_mlflow_server: PostgresMlflowServer,
    postgres_cluster: PostgresCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import MlflowClient

    from aims_mlops.store import EvidenceStore

    monkeypatch.chdir(tmp_path)
    uri = postgres_mlflow_server.uri
    system = f"load-{uuid.uuid4().hex[:8]}"
    evidence_experiment = f"aims-evidence-{system}"
    config = tmp_path / "aims.yaml"
    config.write_text(config_text(system, evidence_experiment), encoding="utf-8")
    MlflowClient(tracking_uri=uri).create_experiment(system)
    # temporary folders (the writers' artifact staging) inside tmp_path
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # a fork server: a fresh single-threaded process that imports MLflow once and forks each
    # child from itself. Forking this process instead (pytest-xdist's worker, with its own
    # threads and MLflow's) once left children stuck on a lock a thread held at the fork.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    stop = tmp_path / "stop"
    reader_out = tmp_path / "reader.json"
    read_loop = context.Process(target=reader, args=(uri, str(config), str(stop), str(reader_out)))
    read_loop.start()
    reading = Path(str(reader_out) + ".reading")
    waited = time.monotonic()
    while not reading.exists() and read_loop.is_alive() and time.monotonic() - waited < 300:
        time.sleep(0.1)
    began = time.monotonic()
    writers = [
        context.Process(
            target=pipeline,
            args=(
                uri, system, evidence_experiment, i, str(tmp_path / f"writer-{i}.json"),
                str(scratch),
            ),
        )
        for i in range(WRITERS)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=max(1.0, DEADLINE_SECONDS - (time.monotonic() - began)))
    stop.touch()
    read_loop.join(timeout=60)
    for process in [*writers, read_loop]:
        if process.is_alive():
            process.kill()
            process.join()
    assert all(p.exitcode == 0 for p in writers), [p.exitcode for p in writers]
    assert read_loop.exitcode == 0

    outcomes = [json.loads((tmp_path / f"writer-{i}.json").read_text()) for i in range(WRITERS)]
    assert [o.get("error") for o in outcomes] == [None] * WRITERS
    written = [record_id for o in outcomes for record_id in o["ids"]]
    assert len(written) == WRITERS * (len(RUN_RECORDS) + 1)
    assert len(set(written)) == len(written)
    # a record spooled under load is uploaded now, once
    for i, outcome in enumerate(outcomes):
        if outcome["spooled"]:
            report = EvidenceStore(
                tracking_uri=uri,
                evidence_experiment=evidence_experiment,
                spool_dir=tmp_path / f"spool-{i}",
            ).sync()
            assert report.remaining == 0, report.errors

    # every record exactly once: in PostgreSQL itself, and as the store reads it
    counts = evidence_keys_in_postgres(
        postgres_cluster, [f"aims.evidence.{record_id}" for record_id in written]
    )
    assert counts == Counter({f"aims.evidence.{record_id}": 1 for record_id in written})
    store = EvidenceStore(tracking_uri=uri, evidence_experiment=evidence_experiment)
    # its own system alone: the session's server also holds other tests' organization records
    read = store.read(system=system, include_org=False)
    times_read = Counter(r.id for r in read.records)
    extra = [  # named when the read holds a record no writer wrote, or one twice
        (r.id, r.kind, r.system, read.run_ids.get(r.id))
        for r in read.records
        if r.id not in written or times_read[r.id] > 1
    ]
    assert sorted(r.id for r in read.records) == sorted(written), extra
    assert read.problems == ()
    run_ids = {o["run_id"] for o in outcomes}
    assert {r.subject.run_id for r in read.records if r.kind != "attestation"} == run_ids

    reading = json.loads(reader_out.read_text())
    assert reading["errors"] == []
    assert reading["runs"] >= 2
    assert time.monotonic() - began < DEADLINE_SECONDS
