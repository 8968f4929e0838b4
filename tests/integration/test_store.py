"""The evidence store against real MLflow stores: local sqlite and a real tracking server."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from aims_mlops import EvidenceError, StoreError
from aims_mlops.evidence import EvidenceRecord, Subject, canonical_json, new_record
from aims_mlops.store import EvidenceStore

pytestmark = pytest.mark.slow


def _client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _run(uri: str, experiment: str | None = None) -> str:
    client = _client(uri)
    name = experiment or f"train-{uuid.uuid4().hex[:8]}"
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found else client.create_experiment(name)
    return str(client.create_run(experiment_id).info.run_id)


def _sample(system: str, run_id: str) -> dict[str, EvidenceRecord]:
    """One record of each shape: run-level, big run-level, system-level, organization-level."""
    return {
        "run": new_record(
            kind="fairness",
            system=system,
            outcome="fail",
            collector="test",
            subject=Subject(run_id=run_id, model_name="m", model_version="2"),
            metrics={"demographic_parity_difference": 0.125, "n": 3},
            details={"groups": {"female": 0.31, "male": 0.435}, "note": "Ünïcode ✓"},
            controls=["A.7.4", "A.5.4"],
        ),
        "big": new_record(
            kind="data_quality",
            system=system,
            outcome="pass",
            collector="test",
            subject=Subject(run_id=run_id, dataset_digests=("abc123",)),
            details={"summary": "y" * 9_000},
        ),
        "system": new_record(
            kind="system_card",
            system=system,
            outcome="info",
            collector="test",
            details={"severity": 3},
        ),
        "org": new_record(
            kind="attestation",
            system=None,
            outcome="pass",
            collector="test",
            controls=["A.2.2"],
            details={
                "by": "CISO",
                "document": "https://intranet.example.test/policy.pdf",
                "statement": "approved",
            },
            valid_until="2099-01-01T00:00:00Z",
        ),
    }


def _download_text(uri: str, run_id: str, path: str, tmp: Path) -> str:
    tmp.mkdir(parents=True, exist_ok=True)
    local = _client(uri).download_artifacts(run_id, path, str(tmp))
    return Path(local).read_text(encoding="utf-8")


def _round_trip(store: EvidenceStore, uri: str, tmp_path: Path, *, exact: bool) -> None:
    system = f"sys-{uuid.uuid4().hex[:8]}"
    run_id = _run(uri)
    sample = _sample(system, run_id)
    results = [
        store.write(sample["run"], run_id=run_id, artifacts={"tables/groups.csv": b"g,v\nf,1\n"}),
        store.write(sample["big"], run_id=run_id),
        store.write(sample["system"]),
        store.write(sample["org"]),
    ]
    assert [r.spooled for r in results] == [False] * 4
    assert results[0].run_id == results[1].run_id == run_id
    assert store.pending() == 0

    read = store.read(system=system)
    got = {r.id: r for r in read.records}
    expected = {r.id: r for r in sample.values()}
    if exact:
        assert set(got) == set(expected)
    for record_id, record in expected.items():
        assert got[record_id] == record
        assert got[record_id].to_json() == record.to_json()
    assert read.problems == ()
    assert store.records(system=system) == list(read.records)

    # layout: exactly the one in docs/ARCHITECTURE.md
    client = _client(uri)
    tags = client.get_run(run_id).data.tags
    assert tags["aims.system"] == system
    assert tags[f"aims.evidence.{sample['run'].id}"] == sample["run"].to_json()
    assert len(sample["big"].to_json()) > 7_000
    assert json.loads(tags[f"aims.evidence.{sample['big'].id}"]) == {
        "id": sample["big"].id,
        "content_hash": sample["big"].content_hash,
        "artifact": f"aims/evidence/data_quality/{sample['big'].id}.json",
    }
    for key in ("run", "big"):
        record = sample[key]
        text = _download_text(
            uri, run_id, f"aims/evidence/{record.kind}/{record.id}.json", tmp_path / key
        )
        assert text == record.to_json()
    extra = client.download_artifacts(run_id, "aims/artifacts/tables/groups.csv", str(tmp_path))
    assert Path(extra).read_bytes() == b"g,v\nf,1\n"

    experiment = client.get_experiment_by_name(store.evidence_experiment)
    assert experiment is not None
    for key, run_name in (("org", "attestation:org"), ("system", f"system_card:{system}")):
        record = sample[key]
        runs = client.search_runs(
            [experiment.experiment_id], f"tags.`aims.evidence.{record.id}` LIKE '%'"
        )
        assert len(runs) == 1
        own = runs[0]
        assert own.info.run_name == run_name
        assert own.info.status == "FINISHED"
        assert own.data.tags["aims.kind"] == record.kind
        assert own.data.tags[f"aims.evidence.{record.id}"] == record.to_json()
        if key == "org":
            assert own.data.tags["aims.scope"] == "organization"
            assert "aims.system" not in own.data.tags
        else:
            assert own.data.tags["aims.system"] == system
        text = _download_text(
            uri,
            own.info.run_id,
            f"aims/evidence/{record.kind}/{record.id}.json",
            tmp_path / key,
        )
        assert text == record.to_json()

    report = store.verify(system=system)
    ours = [p for p in report.problems if any(rid in p for rid in expected)]
    assert ours == []
    if exact:
        assert (report.checked, report.intact, report.problems) == (4, 4, ())

    # filters
    assert {r.id for r in store.records(system=system, kinds=["fairness"])} == {sample["run"].id}
    assert {r.id for r in store.records(system=system, include_org=False)} == {
        sample["run"].id,
        sample["big"].id,
        sample["system"].id,
    }
    assert {r.id for r in store.records(run_ids=[run_id])} == {
        sample["run"].id,
        sample["big"].id,
    }
    if exact:  # newest run first: the system-level run was created after the training run
        newest = store.records(system=system, include_org=False, max_runs=1)
        assert [r.id for r in newest] == [sample["system"].id]
    other = {r.id for r in store.records(system=f"other-{system}")}
    assert sample["org"].id in other
    assert not other & {sample["run"].id, sample["big"].id, sample["system"].id}


@pytest.fixture
def local_store(isolated_mlflow: str, tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=tmp_path / "spool")


def test_round_trip_through_local_sqlite(
    local_store: EvidenceStore, isolated_mlflow: str, tmp_path: Path
) -> None:
    _round_trip(local_store, isolated_mlflow, tmp_path / "dl", exact=True)


def test_round_trip_through_a_real_server(
    mlflow_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = EvidenceStore(
        tracking_uri=mlflow_server.uri,
        evidence_experiment=f"aims-evidence-{uuid.uuid4().hex[:8]}",
        spool_dir=tmp_path / "spool",
    )
    _round_trip(store, mlflow_server.uri, tmp_path / "dl", exact=False)


def _artifact_file(uri: str, run_id: str, relative: str) -> Path:
    artifact_uri = _client(uri).get_run(run_id).info.artifact_uri
    parsed = urlparse(artifact_uri)
    root = Path(parsed.path if parsed.scheme == "file" else artifact_uri)
    return root / relative


def test_altered_and_broken_tags_are_excluded_and_reported(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    run_id = _run(isolated_mlflow)
    good, altered, broken = (
        new_record(kind="performance", system="s1", outcome="fail", collector="t") for _ in range(3)
    )
    assert [local_store.write(r, run_id=run_id).spooled for r in (good, altered, broken)] == [
        False
    ] * 3
    client = _client(isolated_mlflow)
    forged = json.loads(altered.to_json())
    forged["outcome"] = "pass"  # the content hash still claims the old content
    client.set_tag(run_id, f"aims.evidence.{altered.id}", canonical_json(forged))
    client.set_tag(run_id, f"aims.evidence.{broken.id}", '{"id": "not closed')

    read = local_store.read(system="s1")
    assert [r.id for r in read.records] == [good.id]
    assert [r.id for r in local_store.records(system="s1")] == [good.id]
    problems = read.problems
    assert len(problems) == 2
    assert any(altered.id in p and run_id in p and "altered" in p for p in problems)
    assert any(broken.id in p and run_id in p and "not valid JSON" in p for p in problems)

    report = local_store.verify(system="s1")
    assert (report.checked, report.intact) == (3, 1)
    assert f"record {altered.id} on run {run_id}: content hash does not match" in "\n".join(
        report.problems
    )
    assert any(altered.id in p and "differs from the tag" in p for p in report.problems)
    assert any(broken.id in p and "not valid JSON" in p for p in report.problems)
    assert not any(good.id in p for p in report.problems)


def test_deleted_artifact_is_detected_by_verify(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    run_id = _run(isolated_mlflow)
    small = new_record(kind="fairness", system="s2", outcome="pass", collector="t")
    big = new_record(
        kind="fairness", system="s2", outcome="pass", collector="t", details={"x": "z" * 8_000}
    )
    local_store.write_many([small, big], run_id=run_id)
    for record in (small, big):
        path = _artifact_file(isolated_mlflow, run_id, f"aims/evidence/fairness/{record.id}.json")
        assert path.is_file()
        path.unlink()

    report = local_store.verify(system="s2")
    assert (report.checked, report.intact) == (2, 0)
    for record in (small, big):
        assert (
            f"record {record.id} on run {run_id}: artifact "
            f"aims/evidence/fairness/{record.id}.json is missing"
        ) in report.problems
    # the read path too: a record without its artifact is a finding, inline or pointer
    read = local_store.read(system="s2")
    assert [r.id for r in read.records] == []
    for record in (small, big):
        assert any(record.id in p and "is missing" in p for p in read.problems)
    assert {f.record_id for f in read.findings} == {small.id, big.id}


def test_altered_artifact_is_detected_by_verify(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    run_id = _run(isolated_mlflow)
    record = new_record(kind="fairness", system="s3", outcome="fail", collector="t")
    local_store.write(record, run_id=run_id)
    path = _artifact_file(isolated_mlflow, run_id, f"aims/evidence/fairness/{record.id}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["outcome"] = "pass"
    path.write_text(canonical_json(data), encoding="utf-8")
    report = local_store.verify(system="s3")
    assert (report.checked, report.intact) == (1, 0)
    assert report.problems == (
        f"record {record.id} on run {run_id}: artifact "
        f"aims/evidence/fairness/{record.id}.json differs from the tag",
    )


def test_signatures_checked_with_the_trusted_public_keys(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    from aims_mlops.evidence import TrustPolicy, new_signing_key

    key, other = new_signing_key(), new_signing_key()
    signed = new_record(
        kind="incident", system="s4", outcome="info", collector="t", signing_key=key
    )
    unsigned = new_record(kind="incident", system="s4", outcome="info", collector="t")
    forged = new_record(
        kind="incident", system="s4", outcome="info", collector="t", signing_key=other
    )
    for record in (signed, unsigned, forged):
        assert not local_store.write(record).spooled
    assert len(local_store.records(system="s4")) == 3  # the read checks hashes, never trust
    report = local_store.verify(system="s4")
    assert (report.checked, report.intact, report.problems) == (3, 3, ())
    assert not report.trust.configured
    trust = TrustPolicy(keys={key.key_id: key.public_key}, require_signatures=True)
    report = local_store.verify(system="s4", trust=trust)
    assert (report.checked, report.intact) == (3, 1)
    assert sorted(p.split(" on run ")[0] for p in report.problems) == sorted(
        [f"record {unsigned.id}", f"record {forged.id}"]
    )
    assert all("failed verification" in p for p in report.problems)


def test_write_many_batches_more_tags_than_one_call_takes(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    run_id = _run(isolated_mlflow)
    batch = [
        new_record(kind="performance", system="s5", outcome="pass", collector="t", metrics={"i": i})
        for i in range(150)
    ]
    results = local_store.write_many(batch, run_id=run_id)
    assert [r.spooled for r in results] == [False] * 150
    got = local_store.records(run_ids=[run_id])
    assert {r.id: r for r in got} == {r.id: r for r in batch}
    tags = _client(isolated_mlflow).get_run(run_id).data.tags
    assert sum(1 for key in tags if key.startswith("aims.evidence.")) == 150


def test_write_refuses_altered_records_and_unknown_runs(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    import dataclasses

    record = new_record(kind="fairness", system="s6", outcome="fail", collector="t")
    with pytest.raises(EvidenceError):
        local_store.write(dataclasses.replace(record, outcome="pass"))
    with pytest.raises(StoreError, match=f"could not write evidence record {record.id}"):
        local_store.write(record, run_id="0" * 32)
    with pytest.raises(StoreError, match="must be a relative path"):
        local_store.write(record, artifacts={"../x": b""})
    assert local_store.pending() == 0


def test_a_deleted_run_read_by_its_id_is_refused(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    """MLflow's get_run returns a soft-deleted run: its records are not evidence by id either."""
    from aims_mlops.store._search import ERROR_RUN_DELETED

    run_id = _run(isolated_mlflow)
    record = new_record(kind="performance", system="s7", outcome="pass", collector="t")
    local_store.write(record, run_id=run_id)
    assert [r.id for r in local_store.records(run_ids=[run_id])] == [record.id]
    _client(isolated_mlflow).delete_run(run_id)
    expected = ERROR_RUN_DELETED.format(run_id=run_id, uri=local_store.tracking_uri)
    with pytest.raises(StoreError) as raised:
        local_store.records(run_ids=[run_id])
    assert str(raised.value) == expected
    assert local_store.records(system="s7") == []  # a search never finds it


def test_records_of_an_empty_store(local_store: EvidenceStore) -> None:
    assert local_store.records(system="nobody") == []
    assert local_store.verify() == local_store.verify(system="x")
    assert local_store.verify().checked == 0


def test_current_model_via_alias_on_a_real_registered_model(
    local_store: EvidenceStore, isolated_mlflow: str
) -> None:
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from aims_mlops.engine._results import CurrentModel

    frame = pd.DataFrame({"a": [0.0, 1, 2, 3, 4, 5], "b": [1.0, 0, 1, 0, 1, 0]})
    target = [0, 0, 0, 1, 1, 1]
    full_hash = "f" * 64
    mlflow.set_experiment("cm-exp")
    with mlflow.start_run() as run:
        dataset = mlflow.data.from_pandas(frame.assign(y=target), name="train", targets="y")
        mlflow.log_input(dataset, context="training")
        mlflow.set_tag(f"aims.dataset_sha256.{dataset.digest}", full_hash)
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit(frame, target),
            name="model",
            registered_model_name="cm-model",
            pip_requirements=["scikit-learn"],
        )
    client = _client(isolated_mlflow)
    version = str(info.registered_model_version)
    assert local_store.current_model(registered_model="cm-model") is None  # no alias yet
    client.set_registered_model_alias("cm-model", "champion", version)

    current = local_store.current_model(registered_model="cm-model")
    assert isinstance(current, CurrentModel)
    assert current.registered_at is not None  # the registry's creation time, ISO 8601
    assert current.registered_at.endswith("Z")
    assert dataclasses.replace(current, registered_at=None) == CurrentModel(
        name="cm-model",
        version=version,
        run_id=run.info.run_id,
        dataset_digests=(dataset.digest, full_hash),
        alias="champion",
    )
    pinned = local_store.current_model(registered_model="cm-model", version=version)
    assert pinned is not None and pinned.run_id == run.info.run_id and pinned.alias is None
    assert local_store.current_model(registered_model="cm-model", alias="challenger") is None
    assert local_store.current_model(registered_model="cm-model", version="99") is None
    assert local_store.current_model(registered_model="no-such-model") is None
    assert local_store.current_model(registered_model=None) is None

    # a version registered from the logged model alone (source models:/<id>, no run id given)
    bare = client.create_model_version("cm-model", source=f"models:/{info.model_id}")
    via_model = local_store.current_model(registered_model="cm-model", version=bare.version)
    assert via_model is not None and via_model.run_id == run.info.run_id

    by_experiment = local_store.current_model(registered_model=None, experiment="cm-exp")
    assert by_experiment is not None and by_experiment.run_id == run.info.run_id
    assert local_store.current_model(registered_model=None, experiment="nope") is None
