"""Lineage evidence captured at the end of real MLflow runs (local sqlite store, and a server)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import AimsWarning, CaptureError
from aims_mlops.capture import reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors import _lineage
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.datasets import load_adult
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.integrations import _autolog
from aims_mlops.integrations.mlflow_plugin import reset_plugin_state

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"
FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
LINEAGE_KINDS = {
    "lineage.datasets",
    "lineage.code",
    "lineage.params",
    "lineage.environment",
    "lineage.compute",
    "lineage.model",
}


@pytest.fixture(scope="module")
def adult() -> Any:
    return load_adult("train")


@pytest.fixture
def autolog(isolated_mlflow: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh sqlite store, ``$AIMS_SYSTEM`` set, a fresh session, autolog on (off after)."""
    monkeypatch.setenv("AIMS_SYSTEM", SYSTEM)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    monkeypatch.delenv("AIMS_STRICT", raising=False)
    reset_session()
    reset_plugin_state()
    _autolog.enable()
    yield isolated_mlflow
    _autolog.disable()
    reset_session()


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def evidence_on_run(run_id: str) -> list[EvidenceRecord]:
    """Records stored on a run, read from the documented layout (artifact + tag per record)."""
    import mlflow

    client = mlflow.MlflowClient()
    tags = client.get_run(run_id).data.tags
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(client.download_artifacts(run_id, "aims/evidence", tmp))
        records = [EvidenceRecord.from_json(p.read_text("utf-8")) for p in root.rglob("*.json")]
    for record in records:
        record.verify()
        assert f"aims.evidence.{record.id}" in tags
    assert len(records) == sum(1 for key in tags if key.startswith("aims.evidence."))
    return records


def by_kind(records: list[EvidenceRecord]) -> dict[str, EvidenceRecord]:
    kinds = [r.kind for r in records]
    assert len(kinds) == len(set(kinds)), kinds
    return {r.kind: r for r in records}


def test_training_run_gets_verified_lineage(
    autolog: str, adult: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    import sklearn
    from sklearn.linear_model import LogisticRegression

    # the training script lives in a git repository with one uncommitted change
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "dev@example.test")
    _git(repo, "config", "user.name", "Dev")
    _git(repo, "remote", "add", "origin", "https://bob:t0ken@git.example.test/ml/income.git")
    script = repo / "train.py"
    script.write_text("# training\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "train")
    script.write_text("# training, edited\n")

    mlflow.set_experiment("income-lineage")
    train = adult.iloc[:25_000]
    holdout = adult.iloc[25_000:]
    train_ds = mlflow.data.from_pandas(
        train, source="file:///data/adult.data", targets="label", name="adult-train"
    )
    eval_ds = mlflow.data.from_pandas(holdout, source="file:///data/adult.data", name="adult-eval")
    with mlflow.start_run(tags={"mlflow.source.name": str(script)}) as run:
        mlflow.log_params({"C": 0.5, "max_iter": 300, "note": "x" * 400})
        mlflow.log_input(train_ds, context="training")
        mlflow.log_inputs([eval_ds], contexts=["evaluation"], tags_list=[None])
        model = LogisticRegression(C=0.5, max_iter=300).fit(train[FEATURES], train["label"])
        accuracy = float(model.score(holdout[FEATURES], holdout["label"]))
        mlflow.log_metric("accuracy", 0.1)
        mlflow.log_metric("accuracy", accuracy)  # the final value is what lineage keeps
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="income-classifier",
            pip_requirements=["scikit-learn"],
        )
    run_id = run.info.run_id
    client = mlflow.MlflowClient()
    finished = client.get_run(run_id)
    assert finished.info.status == "FINISHED"
    assert finished.data.tags["aims.system"] == SYSTEM
    assert finished.data.tags[f"aims.dataset_sha256.{train_ds.digest}"] == frame_sha256(train)
    assert finished.data.tags[f"aims.dataset_sha256.{eval_ds.digest}"] == frame_sha256(holdout)

    records = by_kind(evidence_on_run(run_id))
    assert set(records) == LINEAGE_KINDS
    [version] = client.search_model_versions("name='income-classifier'")
    for record in records.values():
        assert record.outcome == "info"
        assert record.system == SYSTEM
        assert record.subject.run_id == run_id
        assert record.subject.experiment_id == run.info.experiment_id
        assert record.subject.model_name == "income-classifier"
        assert record.subject.model_version == str(version.version)
        assert record.controls == load_catalog().controls_for_kind(record.kind)

    datasets = records["lineage.datasets"]
    expected_digests = {train_ds.digest, frame_sha256(train), eval_ds.digest, frame_sha256(holdout)}
    assert set(datasets.subject.dataset_digests) == expected_digests
    entries = {d["name"]: d for d in datasets.details["datasets"]}
    assert entries["adult-train"]["digest"] == train_ds.digest
    assert entries["adult-train"]["sha256"] == frame_sha256(train)
    assert entries["adult-train"]["num_rows"] == len(train)
    assert entries["adult-train"]["context"] == "training"
    assert entries["adult-train"]["source"] == {"uri": "file:///data/adult.data"}
    assert [c["name"] for c in entries["adult-train"]["columns"]] == list(train.columns)
    assert entries["adult-eval"]["context"] == "evaluation"
    assert entries["adult-eval"]["num_rows"] == len(holdout)
    assert datasets.metrics["datasets"] == 2

    code = records["lineage.code"]
    assert code.details["source_name"] == str(script)
    assert code.details["git"]["commit"] == _git(repo, "rev-parse", "HEAD")
    assert code.details["git"]["branch"] == "main"
    assert code.details["git"]["dirty"] is True
    assert code.details["git"]["changed_files"] == 1
    assert code.details["git"]["remote_url"] == "https://git.example.test/ml/income.git"
    assert "t0ken" not in code.to_json()

    params = records["lineage.params"]
    assert params.details["params"] == {"C": "0.5", "max_iter": "300", "note": "x" * 250}
    assert params.details["params_total"] == 3
    assert params.metrics["accuracy"] == pytest.approx(accuracy)
    assert params.details["status"] == "FINISHED"
    assert params.details["user"] == finished.data.tags["mlflow.user"]
    assert params.details["parent_run_id"] is None
    assert params.details["end_time"] is not None

    environment = records["lineage.environment"]
    assert environment.details["packages"]["mlflow"] == mlflow.__version__
    assert environment.details["packages"]["scikit-learn"] == sklearn.__version__

    compute = records["lineage.compute"]
    assert compute.details["cpu_count"] == os.cpu_count()

    model_record = records["lineage.model"]
    [logged] = model_record.details["logged_models"]
    assert logged["model_id"] == info.model_id
    assert {"sklearn", "python_function"} <= set(logged["flavors"])
    [registered] = model_record.details["registered_versions"]
    assert registered["name"] == "income-classifier"
    assert registered["version"] == str(version.version)
    assert registered["model_id"] == info.model_id


def test_full_content_hash_sees_a_change_mlflow_digest_misses(autolog: str, adult: Any) -> None:
    import mlflow

    mlflow.set_experiment("income-digest")
    changed = adult.copy()
    changed.loc[20_000, "age"] = int(changed.loc[20_000, "age"]) + 1
    original_ds = mlflow.data.from_pandas(adult, source="file:///adult.csv", name="adult")
    changed_ds = mlflow.data.from_pandas(changed, source="file:///adult.csv", name="adult")
    assert original_ds.digest == changed_ds.digest  # MLflow hashes only the first 10,000 rows
    shas = []
    for dataset in (original_ds, changed_ds):
        with mlflow.start_run() as run:
            mlflow.log_input(dataset, context="training")
        [entry] = by_kind(evidence_on_run(run.info.run_id))["lineage.datasets"].details["datasets"]
        assert entry["digest"] == dataset.digest
        shas.append(entry["sha256"])
    assert shas == [frame_sha256(adult), frame_sha256(changed)]
    assert shas[0] != shas[1]


def test_failed_run_still_gets_lineage(autolog: str) -> None:
    import mlflow

    mlflow.set_experiment("income-failed")
    with pytest.raises(RuntimeError, match="diverged"), mlflow.start_run() as run:
        mlflow.log_param("lr", "0.1")
        raise RuntimeError("training diverged")
    assert mlflow.MlflowClient().get_run(run.info.run_id).info.status == "FAILED"
    records = by_kind(evidence_on_run(run.info.run_id))
    # no dataset and no model were logged: those kinds stay missing instead of empty
    assert set(records) == LINEAGE_KINDS - {"lineage.datasets", "lineage.model"}
    assert records["lineage.params"].details["status"] == "FAILED"
    assert records["lineage.params"].details["params"] == {"lr": "0.1"}


def _broken_compute_facts() -> dict[str, Any]:
    raise RuntimeError("cpuinfo unreadable")


def test_failing_collector_becomes_error_record(
    autolog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setattr(_lineage, "compute_facts", _broken_compute_facts)
    mlflow.set_experiment("income-error")
    with (
        pytest.warns(AimsWarning, match="lineage.compute capture failed"),
        mlflow.start_run() as run,
    ):
        mlflow.log_param("a", "1")
    assert mlflow.MlflowClient().get_run(run.info.run_id).info.status == "FINISHED"
    records = evidence_on_run(run.info.run_id)
    errors = [r for r in records if r.kind == "error"]
    assert len(errors) == 1
    assert errors[0].outcome == "error"
    assert errors[0].details["collector_kind"] == "lineage.compute"
    assert "cpuinfo unreadable" in errors[0].details["error"]
    assert errors[0].controls == load_catalog().controls_for_kind("lineage.compute")
    assert {r.kind for r in records} == {
        "error",
        "lineage.code",
        "lineage.params",
        "lineage.environment",
    }


def _broken_frame_sha256(frame: Any) -> str:
    raise MemoryError("frame too large to hash")


def test_dataset_hash_failure_warns_and_keeps_the_input(
    autolog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    import pandas as pd

    from aims_mlops.collectors import _digest

    monkeypatch.setattr(_digest, "frame_sha256", _broken_frame_sha256)
    mlflow.set_experiment("income-hash-failure")
    dataset = mlflow.data.from_pandas(pd.DataFrame({"a": [1, 2, 3]}), source="x.csv", name="small")
    with mlflow.start_run() as run, pytest.warns(AimsWarning, match="frame too large to hash"):
        mlflow.log_input(dataset, context="training")
    finished = mlflow.MlflowClient().get_run(run.info.run_id)
    assert [d.dataset.digest for d in finished.inputs.dataset_inputs] == [dataset.digest]
    assert not [key for key in finished.data.tags if key.startswith("aims.dataset_sha256.")]
    [entry] = by_kind(evidence_on_run(run.info.run_id))["lineage.datasets"].details["datasets"]
    assert entry["digest"] == dataset.digest
    assert entry["sha256"] is None


def test_strict_mode_raises_capture_error(autolog: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    _autolog.enable(strict=True)
    monkeypatch.setattr(_lineage, "compute_facts", _broken_compute_facts)
    mlflow.set_experiment("income-strict")
    with pytest.raises(CaptureError, match="cpuinfo unreadable"), mlflow.start_run() as run:
        mlflow.log_param("a", "1")
    # the run itself was ended before lineage was collected
    assert mlflow.MlflowClient().get_run(run.info.run_id).info.status == "FINISHED"
    assert mlflow.active_run() is None


def test_run_without_a_system_gets_no_lineage(
    autolog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.delenv("AIMS_SYSTEM")
    reset_session()
    mlflow.set_experiment("unbound")
    with mlflow.start_run() as run:
        mlflow.log_param("a", "1")
    tags = mlflow.MlflowClient().get_run(run.info.run_id).data.tags
    assert not [key for key in tags if key.startswith("aims.")]


def test_store_record_runs_are_not_lineaged(autolog: str) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment("aims-evidence-like")
    run = client.create_run(experiment_id, tags={"aims.kind": "attestation", "aims.system": SYSTEM})
    client.set_terminated(run.info.run_id, "FINISHED")
    tags = client.get_run(run.info.run_id).data.tags
    assert not [key for key in tags if key.startswith("aims.evidence.")]


def test_enable_is_idempotent_and_disable_restores(autolog: str) -> None:
    import mlflow
    from mlflow.tracking.client import MlflowClient

    wrapped = MlflowClient.set_terminated
    _autolog.enable()
    _autolog.enable()
    assert MlflowClient.set_terminated is wrapped
    mlflow.set_experiment("income-idempotent")
    with mlflow.start_run() as run:
        mlflow.log_param("a", "1")
    kinds = [r.kind for r in evidence_on_run(run.info.run_id)]
    assert sorted(kinds) == sorted(set(kinds))  # one record per kind, not one per enable()

    _autolog.disable()
    assert not _autolog.is_enabled()
    assert getattr(MlflowClient.set_terminated, "__aims_autolog_original__", None) is None
    assert getattr(mlflow.log_input, "__aims_autolog_original__", None) is None
    with mlflow.start_run() as plain:
        mlflow.log_param("a", "1")
    tags = mlflow.MlflowClient().get_run(plain.info.run_id).data.tags
    assert not [key for key in tags if key.startswith("aims.evidence.")]


def test_lineage_records_without_datasets_models_and_with_frames(autolog: str) -> None:
    import mlflow

    _autolog.disable()
    mlflow.set_experiment("income-direct")
    frame_digest = "0123abcd"
    with mlflow.start_run() as run:
        mlflow.log_params({f"p{i:03d}": "v" * 300 for i in range(120)})
    client = mlflow.MlflowClient()
    records = by_kind(
        _lineage.lineage_records(
            run.info.run_id,
            client=client,
            system=SYSTEM,
            config_digest="cfg",
            frames={frame_digest: "f" * 64},
        )
    )
    assert set(records) == LINEAGE_KINDS - {"lineage.datasets", "lineage.model"}
    params = records["lineage.params"]
    assert params.config_digest == "cfg"
    assert params.details["params_total"] == 120
    kept = params.details["params"]
    assert 0 < len(kept) < 120  # bounded; the full set is hashed
    assert params.details["params_omitted"] == 120 - len(kept)
    assert all(len(value) == 250 for value in kept.values())
    import hashlib

    from aims_mlops.evidence import canonical_json

    expected = hashlib.sha256(
        canonical_json(client.get_run(run.info.run_id).data.params).encode()
    ).hexdigest()
    assert params.details["params_sha256"] == expected


def test_lineage_against_a_tracking_server(
    mlflow_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, adult: Any
) -> None:
    import mlflow
    from sklearn.linear_model import LogisticRegression

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("AIMS_SYSTEM", SYSTEM)
    reset_session()
    reset_plugin_state()
    _autolog.enable()
    try:
        mlflow.set_experiment("income-server-lineage")
        sample = adult.iloc[:5_000]
        dataset = mlflow.data.from_pandas(sample, source="file:///adult.csv", name="adult-5k")
        with mlflow.start_run() as run:
            mlflow.log_input(dataset, context="training")
            model = LogisticRegression(max_iter=300).fit(sample[FEATURES], sample["label"])
            mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
        records = by_kind(evidence_on_run(run.info.run_id))
    finally:
        _autolog.disable()
        reset_session()
    assert set(records) == LINEAGE_KINDS
    [entry] = records["lineage.datasets"].details["datasets"]
    assert entry["sha256"] == frame_sha256(sample)
    [logged] = records["lineage.model"].details["logged_models"]
    assert "sklearn" in logged["flavors"]
    assert records["lineage.model"].subject.model_name is None  # logged, not registered


def test_params_come_from_the_logged_model_when_the_run_logged_none(
    autolog: str, adult: Any
) -> None:
    """MLflow's wine example and many scripts log no parameters; the sklearn model they log
    holds them. Those are taken (and say where from); with no model the record stays empty."""
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    mlflow.set_experiment("params-from-model")
    train = adult.iloc[:2_000]
    with mlflow.start_run() as run:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.25, max_iter=200))
        model.fit(train[FEATURES], train["label"])
        mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
    params = by_kind(evidence_on_run(run.info.run_id))["lineage.params"]
    assert params.details["params"]["logisticregression__C"] == "0.25"
    assert params.details["params"]["logisticregression__max_iter"] == "200"
    assert "standardscaler" not in params.details["params"]  # estimators themselves left out
    source = params.details["params_source"]
    assert source.startswith("logged model m-") and source.endswith("(scikit-learn get_params)")
    assert params.details["params_total"] == len(params.details["params"])

    with mlflow.start_run() as bare:
        mlflow.log_metric("rmse", 0.5)
    empty = by_kind(evidence_on_run(bare.info.run_id))["lineage.params"]
    assert empty.details["params"] == {} and empty.details["params_source"] is None
