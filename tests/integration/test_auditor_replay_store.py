"""Holes an attacker/auditor replay found on main, replayed on a real local MLflow store (issue 24
finding 8: fairness that proves nothing; issue 23 finding 1: a deleted training run). Each
docstring gives the auditor's reasoning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from aims_mlops.engine import FAILING, SATISFIED
from aims_mlops.judgement import judge
from tests.integration.test_ledger import (  # noqa: F401 - ws: fixture
    FAIRNESS,
    fairness,
    invoke,
    minutes_ago,
    ws,
)

pytestmark = pytest.mark.slow


def test_a_model_that_never_predicts_the_positive_class_passes_nothing(ws: dict) -> None:  # noqa: F811
    """``assess_fairness(y, np.zeros_like(y), X)``: a model that selects nobody has every
    difference 0. The collector fails the record ("no positive prediction"), but the verdicts
    re-judge records from their metrics against the configuration's thresholds, and a re-judgement
    that keeps only threshold checks made A.5.4 / A.6.2.4 satisfied and R1 fall to
    likelihood 1. An auditor reads the 0s as what they are: no measurement at all."""
    import aims_mlops
    from aims_mlops.capture import reset_session

    rng = np.random.default_rng(7)
    sex = pd.Series(rng.choice(["female", "male"], size=400), name="sex")
    y = pd.Series(rng.integers(0, 2, size=400))
    aims_mlops.init(system="credit", config=ws["dir"] / "aims.yaml", autolog=False, quiet=True)
    try:
        record = aims_mlops.assess_fairness(y, np.zeros_like(y), sex, run_id=ws["run_id"])
    finally:
        reset_session()
    assert record.outcome == "fail"
    assert "no positive prediction" in " ".join(record.details["reasons"])

    system = judge(config=ws["dir"] / "aims.yaml").assessment.systems["credit"]
    for entry in FAIRNESS:
        status = system.control(entry)
        assert status.status != SATISFIED or status.result_fails, (entry, status.reasons)
    r1 = next(r for r in system.risks if r.id == "R1")
    assert r1.inherent_likelihood == 4 and r1.above_appetite
    assert "treated as not measured" in " ".join(r1.reasons)


def test_soft_deleting_the_training_run_after_a_checkpoint_is_a_finding(ws: dict) -> None:  # noqa: F811
    """The records of the current model's training run were listed in a checkpoint; then the
    run is soft-deleted (``MlflowClient().delete_run``). MLflow still returns a deleted run by
    its id, so the summary and the gate kept reading its records as if nothing happened and only
    ``aims verify`` said so. Evidence is append-only: every entry the records spoke to is failing,
    naming the record and "removed after checkpoint N", and the gate fails, as for an incident's
    run."""
    from aims_mlops.capture import emit

    passing = emit(ws["context"], fairness(ws, "pass", at=minutes_ago(5)), run_id=ws["run_id"])
    code, _, err = invoke("checkpoint")
    assert code == 0, err
    assert (
        judge(config=ws["dir"] / "aims.yaml")
        .assessment.systems["credit"]
        .control(FAIRNESS[0])
        .status
        == SATISFIED
    )

    ws["client"].delete_run(ws["run_id"])
    system = judge(config=ws["dir"] / "aims.yaml").assessment.systems["credit"]
    for entry in FAIRNESS:
        status = system.control(entry)
        assert status.status == FAILING, (entry, status.reasons)
        assert any(
            passing.id in reason and "removed after checkpoint" in reason
            for reason in status.reasons
        ), status.reasons
    code, out, _ = invoke("gate", "credit", "--require", FAIRNESS[0])
    assert code == 1 and passing.id in out and "removed after checkpoint" in out
    code, out, _ = invoke("summary", "credit", "--format", "json")
    assert json.loads(out)["ledger"]["findings"] >= 1
    code, _, err = invoke("verify")
    assert code == 1 and passing.id in err
