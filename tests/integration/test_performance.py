"""Performance evidence from a real ``mlflow.models.evaluate`` run on the Adult data (slow)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aims_mlops.collectors._performance import (
    metrics_from_evaluation,
    metrics_from_run,
    performance_record,
)
from aims_mlops.datasets import load_adult
from aims_mlops.evidence import EvidenceRecord, Subject

pytestmark = pytest.mark.slow

FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A logistic regression on Adult, logged and evaluated by MLflow's default evaluator in a
    fresh sqlite store (built once for the module: logging and evaluating take about 10 s)."""
    root = tmp_path_factory.mktemp("performance")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        yield _evaluate()


def _evaluate() -> dict[str, Any]:
    import mlflow
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = load_adult("train")
    test = load_adult("test").sample(n=4000, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(train[FEATURES].astype("float64"), train["label"])
    data = test[[*FEATURES, "label"]].astype({name: "float64" for name in FEATURES})
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=data[FEATURES].head(3))
        result = mlflow.models.evaluate(
            info.model_uri,
            data,
            targets="label",
            model_type="classifier",
            evaluators=["default"],
        )
    scores = model.predict_proba(data[FEATURES])[:, 1]
    predicted = model.predict(data[FEATURES])
    return {
        "result": result,
        "run_id": run.info.run_id,
        "expected": {
            "accuracy": accuracy_score(data["label"], predicted),
            "roc_auc": roc_auc_score(data["label"], scores),
            "f1": f1_score(data["label"], predicted),
        },
    }


def test_evaluation_metrics_are_judged(evaluated: dict[str, Any]) -> None:
    expected = evaluated["expected"]
    metrics = metrics_from_evaluation(evaluated["result"])
    for name, value in expected.items():  # MLflow's names resolved to the aims.yaml names
        assert metrics[name] == pytest.approx(value, abs=1e-12)
    assert metrics["accuracy_score"] == metrics["accuracy"]

    passing = {"accuracy": {"min": 0.75}, "roc_auc": {"min": 0.8}}
    assert expected["accuracy"] >= 0.75 and expected["roc_auc"] >= 0.8
    record = performance_record(
        metrics,
        thresholds=passing,
        system="credit-scoring",
        subject=Subject(run_id=evaluated["run_id"]),
        source="evaluation",
    )
    assert record.outcome == "pass"
    assert record.controls == ("A.6.2.4",)
    assert record.details["source"] == "evaluation"
    assert [c["metric"] for c in record.details["checks"]] == ["accuracy", "roc_auc"]
    record.verify()
    assert EvidenceRecord.from_json(record.to_json()) == record

    # this model is weak on the positive class: an F1 floor of 0.6 fails
    assert expected["f1"] < 0.6
    failing = performance_record(
        metrics, thresholds={**passing, "f1": {"min": 0.6}}, system="credit-scoring"
    )
    assert failing.outcome == "fail"
    (f1_check,) = [c for c in failing.details["checks"] if not c["passed"]]
    assert f1_check["metric"] == "f1"
    assert f1_check["reason"] == f"f1 = {expected['f1']:.4g} is below the minimum 0.6"


def test_metrics_from_the_run_equal_the_evaluation(evaluated: dict[str, Any]) -> None:
    from mlflow import MlflowClient

    from_run = metrics_from_run(evaluated["run_id"], client=MlflowClient())
    from_result = metrics_from_evaluation(evaluated["result"])
    for name in ("accuracy", "roc_auc", "f1", "precision", "recall", "log_loss"):
        assert from_run[name] == pytest.approx(from_result[name], abs=1e-12)
    record = performance_record(
        from_run, thresholds={"accuracy": {"min": 0.99}}, system="s", source="run"
    )
    assert record.outcome == "fail"
    assert record.metrics["accuracy"] == pytest.approx(evaluated["expected"]["accuracy"])
