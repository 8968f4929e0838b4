"""The team deployment end to end: a real PostgreSQL, a real ``mlflow server`` on it, and the
capture -> summary -> report -> gate flow of the demo, checked against what PostgreSQL holds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aims_mlops.capture import reset_session
from tests.postgres_fixtures import PostgresCluster, PostgresMlflowServer

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"


@dataclass(frozen=True)
class Captured:
    server: PostgresMlflowServer
    cluster: PostgresCluster
    workdir: Path
    config: Path
    run_id: str
    version: str


def evidence_in_postgres(cluster: PostgresCluster, run_id: str) -> dict[str, dict[str, Any]]:
    """The evidence tags of ``run_id`` read straight from PostgreSQL (MLflow's ``tags`` table),
    parsed: record id -> record JSON."""
    import psycopg2

    connection = psycopg2.connect(
        host="127.0.0.1", port=cluster.port, user="aims", dbname="mlflow_server"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT key, value FROM tags WHERE run_uuid = %s AND key LIKE %s",
                (run_id, "aims.evidence.%"),
            )
            rows = cursor.fetchall()
    finally:
        connection.close()
    return {key.removeprefix("aims.evidence."): json.loads(value) for key, value in rows}


def aims(*args: str) -> Any:
    from aims_mlops.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def captured(
    postgres_mlflow_server: PostgresMlflowServer,
    postgres_cluster: PostgresCluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Captured]:
    """One demo training run with capture on, against the PostgreSQL-backed server."""
    from aims_mlops.capture import approve_configuration
    from aims_mlops.config._starter import person_key_file, write_starter
    from aims_mlops.demo import DEMO_APPROVER, train_and_capture
    from aims_mlops.store import EvidenceStore

    workdir = tmp_path_factory.mktemp("team")
    config = workdir / "aims.yaml"
    write_starter(config)  # signed by default: keys under .aims/keys
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)  # the store's spool folder (.aims/spool) stays out of the checkout
        approve_configuration(  # top management, signing with their own key (as the demo does)
            config_path=config,
            by=DEMO_APPROVER,
            key=person_key_file(config, DEMO_APPROVER),
            store=EvidenceStore(tracking_uri=postgres_mlflow_server.uri),
        )
        patch.setenv("MLFLOW_TRACKING_URI", postgres_mlflow_server.uri)
        patch.setenv("AIMS_CONFIG", str(config))
        patch.delenv("AIMS_SYSTEM", raising=False)
        reset_session()
        run_id, version = train_and_capture(
            tracking_uri=postgres_mlflow_server.uri, config_path=config
        )
        reset_session()
    assert version is not None
    yield Captured(
        server=postgres_mlflow_server,
        cluster=postgres_cluster,
        workdir=workdir,
        config=config,
        run_id=run_id,
        version=version,
    )
    reset_session()


@pytest.fixture
def team(captured: Captured, monkeypatch: pytest.MonkeyPatch) -> Captured:
    """What a team member has: the server's URI in MLFLOW_TRACKING_URI, in their own folder."""
    monkeypatch.chdir(captured.workdir)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", captured.server.uri)
    monkeypatch.delenv("AIMS_SYSTEM", raising=False)
    reset_session()
    return captured


def test_capture_lands_in_postgres(team: Captured) -> None:
    captured = team
    stored = evidence_in_postgres(captured.cluster, captured.run_id)
    kinds = {record["kind"] for record in stored.values()}
    assert {"data_quality", "fairness", "performance", "lineage.datasets"} <= kinds
    assert all(record["system"] == SYSTEM for record in stored.values())
    assert all(record["subject"]["run_id"] == captured.run_id for record in stored.values())
    # the store reads back exactly what PostgreSQL holds for the run
    from aims_mlops.store import EvidenceStore

    # the spool capture used (it also caches the store id there): nothing had to be spooled
    spool = captured.workdir / ".aims" / "spool"
    store = EvidenceStore(tracking_uri=captured.server.uri, spool_dir=spool)
    read = store.read(run_ids=[captured.run_id])
    assert {r.id for r in read.records} == set(stored)
    assert read.problems == ()
    assert store.pending() == 0


def test_summary_over_the_server(team: Captured) -> None:
    captured = team
    stored = evidence_in_postgres(captured.cluster, captured.run_id)
    fairness = next(r for r in stored.values() if r["kind"] == "fairness")
    quality = next(r for r in stored.values() if r["kind"] == "data_quality")
    result = aims("summary", SYSTEM, "--config", str(captured.config), "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == {
        "name": SYSTEM,
        "version": captured.version,
        "run_id": captured.run_id,
    }
    controls = {c["id"]: c for c in summary["controls"]}
    # A.7.4 rests on the data-quality record stored in PostgreSQL, which passed
    assert quality["outcome"] == "pass"
    assert controls["A.7.4"]["status"] == "satisfied"
    assert quality["id"] in controls["A.7.4"]["evidence"]
    # A.5.4 asks that the impact assessment was done: the stored fairness record is it
    assert controls["A.5.4"]["status"] == "satisfied"
    assert fairness["id"] in controls["A.5.4"]["evidence"]
    # its result (parity difference against the 0.1 bound) counts in verification, A.6.2.4,
    # with the stored performance and data-quality records
    performance = next(r for r in stored.values() if r["kind"] == "performance")
    dpd = fairness["metrics"]["demographic_parity_difference"]
    passed = dpd <= 0.1 and performance["outcome"] == "pass"
    assert controls["A.6.2.4"]["status"] == ("satisfied" if passed else "failing")
    assert fairness["id"] in controls["A.6.2.4"]["evidence"]


def test_report_is_written_and_recorded(team: Captured) -> None:
    captured = team
    output = captured.workdir / "report.html"
    result = aims(
        "report", SYSTEM, "--config", str(captured.config), "--format", "html", "-o", str(output)
    )
    assert result.exit_code == 0, result.output
    html = output.read_text(encoding="utf-8")
    assert SYSTEM in html
    assert captured.run_id[:8] in html
    match = re.search(r"recorded system_card ([0-9a-f]+)", result.stdout)
    assert match is not None, result.output
    card = evidence_in_postgres(captured.cluster, captured.run_id)[match.group(1)]
    assert card["kind"] == "system_card"
    assert card["system"] == SYSTEM
    # its artifact went through the server to the artifact destination
    from mlflow import MlflowClient

    listed = MlflowClient(captured.server.uri).list_artifacts(
        captured.run_id, "aims/evidence/system_card"
    )
    assert f"{card['id']}.json" in {Path(item.path).name for item in listed}


def test_gate_over_the_server(team: Captured) -> None:
    captured = team
    summary = json.loads(
        aims("summary", SYSTEM, "--config", str(captured.config), "--format", "json").stdout
    )
    failing = [c["id"] for c in summary["controls"] if c["status"] == "failing"]
    default = aims(
        "gate", SYSTEM, "--config", str(captured.config), "--allow-risk", "--format", "json"
    )
    # with no --require the gate fails exactly when some entry is failing
    assert default.exit_code == (1 if failing else 0), default.output
    for control_id in failing:
        assert control_id in default.stdout
    required = aims(
        "gate", SYSTEM, "--config", str(captured.config), "--require", "A.7.4,A.4.3",
        "--allow-risk", "--format", "json",
    )  # fmt: skip
    assert required.exit_code == 0, required.output
    verdict = json.loads(required.stdout)
    assert verdict["passed"] is True
    assert verdict["checked"] == ["A.7.4", "A.4.3"]
