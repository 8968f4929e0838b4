"""Evidence that cannot be faked, against a real local MLflow store: a forged unsigned record and
a tampered signed one under ``trust:``, a wrong key, a record copied onto another run, and the
"unsigned" notes without trust (summary, verify, gate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.capture import reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.cli import cli
from aims_mlops.engine import FAILING
from aims_mlops.evidence import EvidenceRecord, Subject, generate_keys, load_signing_key, new_record
from aims_mlops.evidence._trust import NOTE_UNSIGNED, WHY_BAD_SIGNATURE, WHY_UNSIGNED
from aims_mlops.judgement import judge
from aims_mlops.store import EvidenceStore
from aims_mlops.store import _contract as contract
from tests.unit.test_gate import CONFIG

pytestmark = pytest.mark.slow

MODEL = "credit-model"
FAIRNESS = load_catalog().controls_for_kind("fairness")
TRUST = "trust:\n  public_keys: [keys/aims-signing.pub]\n"


@pytest.fixture
def ws(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    from mlflow import MlflowClient

    reset_session()
    key = generate_keys(tmp_path / "keys")
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "keys" / "aims-signing.key"))
    (tmp_path / "aims.yaml").write_text(CONFIG + TRUST)
    client = MlflowClient(tracking_uri=isolated_mlflow)
    experiment_id = client.create_experiment("credit")
    run_id = client.create_run(experiment_id).info.run_id
    other_run = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    version = client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    yield {
        "uri": isolated_mlflow,
        "run_id": run_id,
        "other_run": other_run,
        "version": str(version.version),
        "key": key,
        "dir": tmp_path,
        "client": client,
    }
    reset_session()


def fairness(ws: dict, outcome: str, *, signed: bool, at: str | None = None) -> EvidenceRecord:
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
        signing_key=load_signing_key(ws["dir"] / "keys" / "aims-signing.key") if signed else None,
    )


def set_tag(
    ws: dict, record: EvidenceRecord, run_id: str | None = None, *, artifact: bool = True
) -> None:
    """What an attacker with write access does: the tag, and the artifact the reader looks for
    (a tag alone is a finding of its own: ``artifact=False``)."""
    run = run_id or ws["run_id"]
    if artifact:
        ws["client"].log_text(run, record.to_json(), contract.artifact_path(record))
    ws["client"].set_tag(run, contract.evidence_tag(record.id), record.to_json())


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_forged_unsigned_and_tampered_signed_records_fail_under_trust(ws: dict) -> None:
    real = fairness(ws, "fail", signed=True)
    EvidenceStore(tracking_uri=ws["uri"]).write(real, run_id=ws["run_id"])
    forged = fairness(ws, "pass", signed=False, at="2099-01-01T00:00:00Z")
    set_tag(ws, forged)
    tampered = fairness(ws, "pass", signed=True)
    tampered = EvidenceRecord.from_dict({**tampered.to_dict(), "outcome": "fail"})
    tampered = EvidenceRecord.from_dict(
        {**tampered.to_dict(), "content_hash": tampered.compute_hash()}
    )  # the outcome changed and the hash recomputed; the signature is the old one
    set_tag(ws, tampered)

    result = judge(config=ws["dir"] / "aims.yaml", model_versions={"credit": ws["version"]})
    sa = result.assessment.systems["credit"]
    found = {f.record_id: f.why for f in result.integrity_findings}
    assert found[forged.id].startswith("collected_at 2099")  # future first, unsigned too
    assert found[tampered.id] == WHY_BAD_SIGNATURE.format(key_id=ws["key"].key_id)
    assert real.id not in found
    for control in FAIRNESS:
        status = sa.control(control)
        assert status.status == FAILING
        assert any(
            r.startswith(f"record {tampered.id} failed verification") for r in status.reasons
        )

    code, out, _ = invoke(
        "gate", "credit", "--model-version", ws["version"], "--require", FAIRNESS[0]
    )
    assert code == 1 and f"integrity: record {forged.id} failed verification" in out

    code, out, err = invoke("verify")
    assert code == 1
    assert f"record {forged.id} on run {ws['run_id']}: failed verification" in err
    assert f"record {tampered.id} on run {ws['run_id']}: failed verification" in err

    code, out, _ = invoke("summary", "credit", "--format", "json")
    data = json.loads(out)
    assert data["integrity"]["signed"] is True
    assert {f["record_id"] for f in data["integrity"]["findings"]} == {forged.id, tampered.id}


def test_unsigned_records_fail_under_trust_and_a_wrong_key_fails_everything(ws: dict) -> None:
    unsigned = fairness(ws, "pass", signed=False)
    EvidenceStore(tracking_uri=ws["uri"]).write(unsigned, run_id=ws["run_id"])
    result = judge(config=ws["dir"] / "aims.yaml", model_versions={"credit": ws["version"]})
    [finding] = result.integrity_findings
    assert (finding.record_id, finding.why) == (unsigned.id, WHY_UNSIGNED)
    assert result.assessment.systems["credit"].control(FAIRNESS[0]).status == FAILING

    signed = fairness(ws, "pass", signed=True)
    EvidenceStore(tracking_uri=ws["uri"]).write(signed, run_id=ws["run_id"])
    generate_keys(ws["dir"] / "other")
    (ws["dir"] / "aims.yaml").write_text(CONFIG + TRUST.replace("keys/", "other/"))
    result = judge(config=ws["dir"] / "aims.yaml", model_versions={"credit": ws["version"]})
    assert {f.record_id for f in result.integrity_findings} == {unsigned.id, signed.id}
    whys = {f.record_id: f.why for f in result.integrity_findings}
    assert whys[unsigned.id] == WHY_UNSIGNED
    assert whys[signed.id].endswith("which is not one of the trusted public keys")
    assert result.assessment.systems["credit"].control(FAIRNESS[0]).status == FAILING


def test_a_record_copied_onto_another_run_is_a_finding(ws: dict) -> None:
    record = fairness(ws, "pass", signed=True)
    set_tag(ws, record, run_id=ws["other_run"])
    ws["client"].set_tag(ws["other_run"], contract.TAG_SYSTEM, "credit")
    result = judge(
        config=ws["dir"] / "aims.yaml", model_versions={"credit": ws["version"]}, full_history=True
    )
    [finding] = result.integrity_findings
    assert (
        finding.why
        == f"it is stored on run {ws['other_run']} but its subject names run {ws['run_id']}"
    )


def test_without_trust_every_output_says_unsigned(ws: dict) -> None:
    (ws["dir"] / "aims.yaml").write_text(CONFIG)
    forged = fairness(ws, "pass", signed=False)
    EvidenceStore(tracking_uri=ws["uri"]).write(forged, run_id=ws["run_id"])
    code, out, _ = invoke("summary", "credit", "--format", "json")
    assert code == 0
    assert json.loads(out)["integrity"] == {
        "signed": False,
        "require_signatures": False,
        "public_keys": [],
        "people_keys": {},
        "unsigned_opt_out": False,
        "note": NOTE_UNSIGNED,
        "findings": [],
    }
    code, out, _ = invoke("summary", "credit")
    assert f"integrity: {NOTE_UNSIGNED}" in out
    code, out, _ = invoke("verify")
    assert code == 0 and f"integrity: {NOTE_UNSIGNED}" in out
