"""``aims gate`` over a real local MLflow store: fails on failing fairness, passes, promotes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aims_mlops.capture import reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.cli._gate import register
from aims_mlops.cli._options import AimsGroup
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.store import EvidenceStore
from tests.ledger_fixtures import approved_workspace
from tests.unit.test_gate import CONFIG

pytestmark = pytest.mark.slow

MODEL = "credit-model"


@pytest.fixture
def group() -> click.Group:
    @click.group(cls=AimsGroup)
    def aims() -> None:
        """Test group holding only the gate."""

    register(aims)
    return aims


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    from mlflow import MlflowClient

    reset_session()
    key = approved_workspace(tmp_path, CONFIG)  # signed evidence, an approved configuration
    client = MlflowClient(tracking_uri=isolated_mlflow)
    experiment_id = client.create_experiment("credit")
    run_id = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    version = client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    yield {
        "uri": isolated_mlflow,
        "run_id": run_id,
        "version": str(version.version),
        "key": key,  # type: ignore[dict-item]
    }
    reset_session()


def _write(
    ws: dict[str, str], kind: str, outcome: str, metrics: dict[str, float]
) -> EvidenceRecord:
    record = new_record(
        kind=kind,
        system="credit",
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        subject=Subject(run_id=ws["run_id"], model_name=MODEL, model_version=ws["version"]),
        metrics=metrics,
        details={
            "checks": [
                {"passed": outcome == "pass", "reason": f"{name} = {value:g}"}
                for name, value in metrics.items()
            ],
            **({"sensitive_features": ["sex"]} if kind == "fairness" else {}),  # as measured
        },
        controls=load_catalog().controls_for_kind(kind),
    ).signed(ws["key"])  # type: ignore[arg-type]
    EvidenceStore(tracking_uri=ws["uri"]).write(record, run_id=ws["run_id"])
    return record


def fairness(ws: dict[str, str], dpd: float, outcome: str) -> EvidenceRecord:
    return _write(ws, "fairness", outcome, {"demographic_parity_difference": dpd})


def verification(ws: dict[str, str]) -> None:
    """Passing performance and data-quality evidence of the workspace's version (with fairness,
    the verification that A.6.2.4 needs)."""
    _write(ws, "performance", "pass", {"accuracy": 0.86})
    _write(ws, "data_quality", "pass", {"success_percent": 100.0})


def deployments(ws: dict[str, str]) -> list[EvidenceRecord]:
    return EvidenceStore(tracking_uri=ws["uri"]).records(system="credit", kinds=["deployment"])


def alias_target(ws: dict[str, str]) -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient(ws["uri"]).get_model_version_by_alias(MODEL, "champion").version)
    except MlflowException:
        return None


def invoke(group: click.Group, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_failing_fairness_fails_then_passing_evidence_promotes(
    group: click.Group, workspace: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace
    failing = fairness(ws, 0.19, "fail")
    code, out, err = invoke(group, "gate", "credit", "--model-version", ws["version"])
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == f"FAIL credit ({MODEL} version {ws['version']}): {len(lines) - 2} failures"
    assert lines[1].startswith("trust: signed (keys ")  # the gate's line on trust
    # the failing result fails verification (A.6.2.4); A.5.4 says the assessment was done
    a624 = [line for line in lines if line.startswith("A.6.2.4 failing: ")]
    assert len(a624) == 1 and failing.id[:8] in a624[0] and "0.19" in a624[0]
    assert "risk R1 (bias): residual score 12 is above the appetite 6" in lines

    # a blocked promotion is evidence too, and the alias stays where it was (nowhere)
    monkeypatch.setenv("USER", "ci-bot")
    code, out, err = invoke(group, "gate", "credit", "--model-version", ws["version"], "--promote")
    assert code == 1, err
    assert "blocked" in out.splitlines()[-1]
    assert alias_target(ws) is None
    [blocked] = deployments(ws)
    assert blocked.outcome == "fail" and blocked.controls == ("A.6.2.5",)
    assert blocked.details["action"] == "blocked"
    assert blocked.details["approver"] == "ci-bot"
    assert blocked.subject.model_version == ws["version"] and blocked.subject.run_id == ws["run_id"]

    fairness(ws, 0.03, "pass")
    code, out, err = invoke(
        group, "gate", "credit", "--model-version", ws["version"], "--require", "A.5.4",
        "--promote", "--approver", "Dana Smith",
    )  # fmt: skip
    assert code == 0, out + err
    assert out.splitlines()[0].startswith(f"PASS credit ({MODEL} version {ws['version']}): 1 ")
    assert alias_target(ws) == ws["version"]
    promoted = [r for r in deployments(ws) if r.outcome == "pass"]
    assert len(promoted) == 1
    record = promoted[0]
    assert record.details["alias"] == "champion"
    assert record.details["approver"] == "Dana Smith"
    assert record.details["action"] == "promoted"
    assert record.details["gate"]["passed"] is True
    assert record.subject.model_name == MODEL and record.subject.model_version == ws["version"]
    from mlflow import MlflowClient

    tags = MlflowClient(ws["uri"]).get_run(ws["run_id"]).data.tags
    assert f"aims.evidence.{record.id}" in tags  # attached to the version's source run

    # now the alias holder is judged by default, and A.6.2.5 counts as satisfied; the default
    # gate also needs the version's verification evidence (A.6.2.4: performance, data quality)
    code, out, err = invoke(group, "gate", "credit", "--format", "json")
    assert code == 1
    assert any(f.startswith("A.6.2.4 missing") for f in json.loads(out)["failures"])
    verification(ws)
    code, out, err = invoke(group, "gate", "credit", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["passed"] is True and data["model"]["version"] == ws["version"]
    assert data["promoted"] is False and data["deployment_record"] is None


def test_min_score_and_user_errors(group: click.Group, workspace: dict[str, str]) -> None:
    ws = workspace
    fairness(ws, 0.03, "pass")
    verification(ws)
    code, out, _ = invoke(group, "gate", "credit", "--model-version", ws["version"])
    assert code == 0, out
    code, out, _ = invoke(
        group, "gate", "credit", "--model-version", ws["version"], "--min-score", "0.99"
    )
    assert code == 1
    [line] = [x for x in out.splitlines() if x.startswith("score ")]
    assert "below the minimum 0.99" in line

    code, _, err = invoke(group, "gate", "credit", "--require", "A.99.9")
    assert code == 2 and "A.99.9" in err and "Traceback" not in err
    code, _, err = invoke(group, "gate", "no-such-system")
    assert code == 2 and "no-such-system" in err and "Traceback" not in err
    code, _, err = invoke(group, "gate", "credit", "--min-score", "1.5")
    assert code == 2
    code, _, err = invoke(group, "gate", "credit", "--model-version", "99")
    assert code == 2 and "has no version '99'" in err
    # --promote with no version behind the alias and none given: a user error, no record
    code, _, err = invoke(group, "gate", "credit", "--promote")
    assert code == 2 and "--model-version" in err
    assert deployments(ws) == []


def test_moving_the_alias_to_an_uncaptured_version_fails_the_gate_and_keeps_the_risk(
    group: click.Group, workspace: dict[str, str]
) -> None:
    """Version 1 is verified; version 2 reaches the alias with no evidence at all. The default
    gate must fail naming the verification controls (their evidence is about version 1), and no
    risk may look better for the unmeasured version than it did for the measured one."""
    from mlflow import MlflowClient

    from aims_mlops.judgement import judge

    ws = workspace
    fairness(ws, 0.03, "pass")
    verification(ws)
    client = MlflowClient(tracking_uri=ws["uri"])
    client.set_registered_model_alias(MODEL, "champion", ws["version"])
    code, out, err = invoke(group, "gate", "credit")
    assert code == 0, out + err
    config = Path("aims.yaml").resolve()  # the workspace's (isolated_mlflow works in tmp_path)
    before = judge(config=config, systems=["credit"]).assessment.systems["credit"]

    experiment_id = client.get_experiment_by_name("credit").experiment_id
    run_2 = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_2)
    version_2 = client.create_model_version(MODEL, source=f"runs:/{run_2}/model", run_id=run_2)
    client.set_registered_model_alias(MODEL, "champion", version_2.version)

    code, out, err = invoke(group, "gate", "credit")
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"FAIL credit ({MODEL} version {version_2.version}): ")
    for control in ("A.5.4", "A.6.2.4"):
        [line] = [x for x in lines if x.startswith(f"{control} stale: ")]
        assert f"version {version_2.version} must be current before release" in line
    after = judge(config=config, systems=["credit"]).assessment.systems["credit"]
    assert after.model is not None and after.model.version == str(version_2.version)
    residuals = {r.id: r.residual for r in before.risks}
    for risk in after.risks:
        assert risk.residual >= residuals[risk.id], risk.id


def test_a_lost_deployment_record_is_an_error_not_a_blocked_promotion(
    group: click.Group, workspace: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aims_mlops.store._connection import Unavailable
    from aims_mlops.store._writer import Writer

    fairness(workspace, 0.19, "fail")
    import shutil

    spool = tmp_path / ".aims" / "spool"
    shutil.rmtree(spool, ignore_errors=True)
    spool.write_text("a file where the spool folder should be")

    def unreachable(self: Writer, record: object, **kwargs: object) -> str:
        raise Unavailable("the tracking store is unreachable (test)")

    monkeypatch.setattr(Writer, "store_now", unreachable)
    code, out, err = invoke(
        group, "gate", "credit", "--model-version", workspace["version"], "--promote"
    )
    assert code == 2, out + err
    assert "deployment record" not in out
    [line] = err.strip().splitlines()
    assert line.startswith("error: deployment record ") and "was not recorded" in line
