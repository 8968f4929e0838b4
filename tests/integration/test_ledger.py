"""The ledger against a real local MLflow store: after a checkpoint, deleting a record or a run
is a finding (failing, named, gate FAIL, verify exit 1); a purged newest checkpoint is caught by
``verify --head``; a genuine record replayed from another store is a finding; soft-deleting the
run of an overdue serious incident keeps A.8.4 failing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.capture import CaptureContext, emit, reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.cli import cli
from aims_mlops.config import load_config
from aims_mlops.engine import FAILING
from aims_mlops.evidence import (
    NO_TRUST,
    EvidenceRecord,
    Subject,
    generate_keys,
    load_signing_key,
    new_record,
)
from aims_mlops.judgement import judge
from aims_mlops.ledger import WHY_HEAD_MISSING, WHY_OTHER_STORE, Copy, Frontier, entries_bytes
from aims_mlops.store import EvidenceStore
from aims_mlops.store import _contract as contract
from aims_mlops.store import _ledger as store_ledger
from tests.unit.test_gate import CONFIG

pytestmark = pytest.mark.slow

MODEL = "credit-model"
FAIRNESS = load_catalog().controls_for_kind("fairness")
(INCIDENT_ENTRY,) = load_catalog().controls_for_kind("incident")
TRUST = "trust:\n  public_keys: [keys/aims-signing.pub]\n"


@pytest.fixture
def ws(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    from mlflow import MlflowClient

    reset_session()
    key = generate_keys(tmp_path / "keys")
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "keys" / "aims-signing.key"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aims.yaml").write_text(CONFIG + TRUST)
    client = MlflowClient(tracking_uri=isolated_mlflow)
    experiment_id = client.create_experiment("credit")
    run_id = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    version = client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    store = EvidenceStore(tracking_uri=isolated_mlflow)
    context = CaptureContext.from_config(
        load_config(tmp_path / "aims.yaml"), store=store, system="credit"
    )
    yield {
        "uri": isolated_mlflow,
        "run_id": run_id,
        "version": str(version.version),
        "key": key,
        "dir": tmp_path,
        "client": client,
        "store": store,
        "context": context,
    }
    reset_session()


def fairness(ws: dict, outcome: str, *, at: str) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system="credit",
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        subject=Subject(run_id=ws["run_id"], model_name=MODEL, model_version=ws["version"]),
        metrics={"demographic_parity_difference": 0.02 if outcome == "pass" else 0.19},
        details={"checks": [{"passed": outcome == "pass", "reason": "dpd"}]},
        controls=FAIRNESS,
        collected_at=at,
    )


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def minutes_ago(minutes: int) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_capture_checkpoints_and_a_deleted_record_fails_what_it_spoke_to(ws: dict) -> None:
    older = emit(ws["context"], fairness(ws, "pass", at=minutes_ago(10)), run_id=ws["run_id"])
    newer = emit(ws["context"], fairness(ws, "fail", at=minutes_ago(5)), run_id=ws["run_id"])
    identity = ws["store"].identity()
    assert identity is not None and older.store_id == newer.store_id == identity.store_id
    assert older.signature and newer.signature  # signed after being stamped
    code, out, err = invoke("checkpoint")
    assert code == 0, err
    assert out.startswith("no records added since the last checkpoint")  # capture wrote them

    # the attacker deletes the failing record: the older passing one would now decide
    ws["client"].delete_tag(ws["run_id"], contract.evidence_tag(newer.id))
    result = judge(config=ws["dir"] / "aims.yaml")
    sa = result.assessment.systems["credit"]
    for control in FAIRNESS:
        status = sa.control(control)
        assert status.status == FAILING
        assert any(
            newer.id in reason and "removed after checkpoint 2" in reason
            for reason in status.reasons
        ), status.reasons
    assert sa.control("7.5.3").status == FAILING
    code, out, err = invoke("gate", "credit", "--require", FAIRNESS[0])
    assert code == 1 and "FAIL" in out and newer.id in out
    code, out, err = invoke("verify")
    assert code == 1
    assert f"record {newer.id} failed verification" in err and "removed after checkpoint 2" in err
    code, out, err = invoke("summary", "credit", "--format", "json")
    data = json.loads(out)
    assert data["ledger"]["checkpoint"] >= 2 and data["ledger"]["findings"] == 1


def test_soft_deleting_an_overdue_incident_run_keeps_a84_failing(ws: dict) -> None:
    aware = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    code, out, err = invoke(
        "record",
        "incident",
        "credit",
        "--kind",
        "death",
        "--severity",
        "critical",
        "--summary",
        "An applicant came to serious harm",
        "--aware-on",
        aware,
    )
    assert code == 0, err
    incident_id = re.search(r"recorded incident ([0-9a-f]{32})", out).group(1)  # type: ignore[union-attr]
    before = judge(config=ws["dir"] / "aims.yaml").assessment.systems["credit"]
    assert before.control(INCIDENT_ENTRY).status == FAILING
    (run_id,) = [
        copy.run_id
        for copies in _copies(ws).values()
        for copy in copies
        if any(incident_id in c.value for c in copies)
    ]
    ws["client"].delete_run(run_id)
    after = judge(config=ws["dir"] / "aims.yaml").assessment.systems["credit"]
    status = after.control(INCIDENT_ENTRY)
    assert status.status == FAILING  # not missing: the deletion is the finding
    assert any(
        incident_id in r and f"deleted run {run_id}" in r and "removed after checkpoint" in r
        for r in status.reasons
    ), status.reasons
    code, _, err = invoke("verify")
    assert code == 1 and incident_id in err


def _copies(ws: dict) -> dict:
    conn = ws["store"]._conn
    with conn.reading():
        return store_ledger.listing(conn, "aims-evidence").copies


def test_a_purged_newest_checkpoint_is_caught_by_verify_head(ws: dict) -> None:
    emit(ws["context"], fairness(ws, "pass", at=minutes_ago(10)), run_id=ws["run_id"])
    code, _out, err = invoke("audit-pack", "credit", "-o", str(ws["dir"] / "pack.zip"))
    assert code == 0, err
    with zipfile.ZipFile(ws["dir"] / "pack.zip") as pack:
        kept = pack.read("ledger/checkpoint.json")
    head_file = ws["dir"] / "head.json"
    head_file.write_bytes(kept)
    head = EvidenceRecord.from_json(kept.decode())
    assert head.kind == "checkpoint" and head.details["sequence"] == 1
    assert head.signature and head.store_id == head.details["store_id"] is not None
    code, _out, err = invoke("verify", "--head", str(head_file))
    assert code == 0, err

    # the attacker purges the checkpoint run (deleted, then removed for good)
    conn = ws["store"]._conn
    with conn.reading():
        (run,) = store_ledger.checkpoint_runs(conn, "aims-evidence")
    ws["client"].delete_run(run.info.run_id)
    code, _out, err = invoke("verify")
    assert code == 1 and "checkpoint 1 sits in deleted run" in err  # a soft delete shows
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    SqlAlchemyStore(ws["uri"], str(ws["dir"] / "artifacts"))._hard_delete_run(run.info.run_id)
    code, _out, err = invoke("verify")
    assert code == 0, err  # nothing left to compare with ...
    code, _out, err = invoke("verify", "--head", str(head_file))
    assert code == 1  # ... but the head the auditor kept is gone from the chain
    assert WHY_HEAD_MISSING.format(n=1, record_id=head.id) in err


def test_a_record_replayed_from_another_store_is_a_finding(ws: dict, tmp_path: Path) -> None:
    staging = EvidenceStore(tracking_uri=f"sqlite:///{tmp_path / 'staging.db'}")
    staging_context = CaptureContext.from_config(
        load_config(ws["dir"] / "aims.yaml"), store=staging, system="credit"
    )
    monitoring = new_record(
        kind="monitoring",
        system="credit",
        outcome="pass",
        collector="test",
        subject=Subject(model_name=MODEL, model_version=ws["version"]),
        metrics={"psi_max": 0.01},
        details={"columns": []},
        controls=load_catalog().controls_for_kind("monitoring"),
    )
    genuine = emit(staging_context, monitoring)  # signed with the same pipeline key
    staging_id = staging.identity().store_id  # type: ignore[union-attr]
    assert genuine.store_id == staging_id and genuine.signature
    # production has its own id (its first record created it)
    emit(ws["context"], fairness(ws, "pass", at=minutes_ago(3)), run_id=ws["run_id"])
    production_id = ws["store"].identity().store_id  # type: ignore[union-attr]
    assert production_id != staging_id
    # the replay: the genuine record copied into production, as its writer would store it
    experiment = ws["client"].get_experiment_by_name("aims-evidence").experiment_id
    run = ws["client"].create_run(experiment, tags=contract.own_run_tags(genuine))
    ws["client"].log_text(run.info.run_id, genuine.to_json(), contract.artifact_path(genuine))
    ws["client"].set_tag(
        run.info.run_id, contract.evidence_tag(genuine.id), contract.tag_value(genuine)
    )
    result = judge(config=ws["dir"] / "aims.yaml")
    found = {f.record_id: f.why for f in result.integrity_findings}
    assert found[genuine.id] == WHY_OTHER_STORE.format(theirs=staging_id, ours=production_id)
    assert genuine.id not in {r.id for r in result.records}
    sa = result.assessment.systems["credit"]
    for control in load_catalog().controls_for_kind("monitoring"):
        assert sa.control(control).status == FAILING
    code, _out, err = invoke("verify")
    assert code == 1 and f"record {genuine.id} on run {run.info.run_id}: failed verification" in err
    assert "not this store" in err
    signing = load_signing_key(ws["dir"] / "keys" / "aims-signing.key")
    assert signing.key_id == ws["key"].key_id


def _head(ws: dict) -> store_ledger.Chain:
    conn = ws["store"]._conn
    with conn.reading():
        return store_ledger.newest_chain(
            conn, "aims-evidence", trust=NO_TRUST, clock=dt.datetime.now(dt.UTC)
        )


def _artifact_file(ws: dict, run_id: str, path: str) -> Path:
    from urllib.parse import urlparse

    root = urlparse(ws["client"].get_run(run_id).info.artifact_uri).path
    return Path(root) / path


def test_checkpoints_write_what_they_add_and_an_altered_older_segment_is_named(ws: dict) -> None:
    for minutes in range(8, 0, -1):  # eight captures: eight checkpoints of one record each
        emit(ws["context"], fairness(ws, "pass", at=minutes_ago(minutes)), run_id=ws["run_id"])
    chain = _head(ws)
    head = chain.head
    assert head is not None and chain.problems == ()
    assert head.tree_size == 8 and len(chain.entries) == 8
    # a binary counter: the eighth checkpoint rewrote the seven before it into one segment
    assert [x.count for x in head.segments] == [8]
    emit(ws["context"], fairness(ws, "pass", at=minutes_ago(0)), run_id=ws["run_id"])
    chain = _head(ws)
    assert [x.count for x in chain.head.segments] == [8, 1]  # type: ignore[union-attr]
    code, _out, err = invoke("verify")
    assert code == 0, err

    # the attacker rewrites the older segment (the one checkpoint 8 wrote, listing 8 records)
    older = chain.head_segments()[0]
    assert older.checkpoint == 8 and older.run_id is not None
    file = _artifact_file(ws, older.run_id, older.path)
    file.write_text(file.read_text().replace('"pass"', '"fail"') + " ")
    code, _out, err = invoke("verify")
    assert code == 1
    assert "checkpoint 8: its entry list does not hash to the SHA-256" in err
    code, out, err = invoke("summary", "credit", "--format", "json")
    assert any("does not hash" in p for p in json.loads(out)["ledger"]["problems"])
    # a checkpoint written after it carries the segment's SHA-256: the alteration stays named
    emit(ws["context"], fairness(ws, "pass", at=minutes_ago(0)), run_id=ws["run_id"])
    code, _out, err = invoke("verify")
    assert code == 1 and "checkpoint 8: its entry list does not hash" in err
    # and a segment a checkpoint would rewrite is never rewritten once altered
    newest = _head(ws).head_segments()[-1]
    assert newest.checkpoint == 10 and newest.count == 2 and newest.run_id is not None
    file = _artifact_file(ws, newest.run_id, newest.path)
    file.write_text(file.read_text() + " ")
    for _ in range(2):  # [8, 2] + 1, then [8, 2, 1] + 1: the second rewrites the altered 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            emit(ws["context"], fairness(ws, "pass", at=minutes_ago(0)), run_id=ws["run_id"])
    assert any("cannot be read" in str(w.message) for w in caught), [str(w) for w in caught]
    assert [x.count for x in _head(ws).head.segments] == [8, 2, 1]  # type: ignore[union-attr]


def test_a_store_checkpointed_in_the_first_format_still_verifies(ws: dict) -> None:
    """A head of main's first format (one artifact with the whole list, ``entries_sha256``)
    reads as one segment; the next checkpoint appends a segment of its own."""
    records = [
        emit(ws["context"], fairness(ws, "pass", at=minutes_ago(m)), run_id=ws["run_id"])
        for m in (3, 2)
    ]
    conn = ws["store"]._conn
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    for run in _head_runs(ws):  # forget the checkpoints capture wrote: the store is "old"
        ws["client"].delete_run(run.info.run_id)
        SqlAlchemyStore(ws["uri"], str(ws["dir"] / "artifacts"))._hard_delete_run(run.info.run_id)
    tags = ws["client"].get_run(ws["run_id"]).data.tags
    found = [
        store_ledger.entry_for(
            r.id,
            Copy(run_id=ws["run_id"], deleted=False, value=tags[contract.evidence_tag(r.id)]),
            None,
        )
        for r in records
    ]
    listed = tuple(replace(e, checkpoint=1) for e in found if e is not None)
    assert len(listed) == 2
    frontier = Frontier().extended(e.leaf() for e in listed)
    identity = ws["store"].identity()
    old = new_record(
        kind="checkpoint",
        system=None,
        outcome="info",
        collector="aims_mlops.ledger",
        details={
            "sequence": 1,
            "previous": None,
            "tree_size": 2,
            "root": frontier.root().hex(),
            "frontier": frontier.to_json(),
            "added": 2,
            "store_id": identity.store_id,
            "entries_sha256": hashlib.sha256(entries_bytes(listed)).hexdigest(),
        },
    )
    old = store_ledger.stamped(old, identity.store_id).signed(ws["key"])
    with conn.reading():
        store_ledger._store_checkpoint(conn, "aims-evidence", old, listed)
    code, _out, err = invoke("verify")
    assert code == 0, err
    newest = emit(ws["context"], fairness(ws, "fail", at=minutes_ago(1)), run_id=ws["run_id"])
    chain = _head(ws)
    assert chain.problems == () and chain.head.sequence == 2  # type: ignore[union-attr]
    assert [x.count for x in chain.head.segments] == [2, 1]  # type: ignore[union-attr]
    assert [e.record_id for e in chain.entries] == [*(r.id for r in records), newest.id]
    ws["client"].delete_tag(ws["run_id"], contract.evidence_tag(records[0].id))
    code, _out, err = invoke("verify")
    assert code == 1 and records[0].id in err and "removed after checkpoint 1" in err


def _head_runs(ws: dict) -> list:
    conn = ws["store"]._conn
    with conn.reading():
        return store_ledger.checkpoint_runs(conn, "aims-evidence")
