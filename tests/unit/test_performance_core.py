"""Performance evidence, the pure part: metric-name resolution, threshold judgement, the record."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from types import SimpleNamespace

import pytest

from aims_mlops import DataError
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors._performance import (
    ERROR_NOT_METRICS,
    MAX_RECORD_METRICS,
    metrics_from_evaluation,
    performance_record,
    resolve_metric_names,
)
from aims_mlops.evidence import EvidenceRecord, Subject


def test_mlflow_default_evaluator_names_resolve_to_config_names() -> None:
    logged = {"accuracy_score": 0.85, "roc_auc": 0.9, "f1_score": 0.6, "log_loss": 0.33}
    resolved = resolve_metric_names(logged)
    assert resolved == {**logged, "accuracy": 0.85, "f1": 0.6}


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("test_accuracy", "accuracy"),
        ("val/roc_auc_score", "roc_auc"),
        ("eval.auc", "roc_auc"),
        ("holdout_precision_score", "precision"),
        ("validation_recall_score", "recall"),
        ("TEST_F1_SCORE", "f1"),
    ],
)
def test_prefixed_and_suffixed_names(name: str, canonical: str) -> None:
    assert resolve_metric_names({name: 0.5}) == {name: 0.5, canonical: 0.5}


def test_training_scores_never_stand_for_performance() -> None:
    resolved = resolve_metric_names({"training_accuracy_score": 0.99})
    assert "accuracy" not in resolved


def test_exact_name_wins_and_test_data_beats_validation_data() -> None:
    resolved = resolve_metric_names(
        {"accuracy": 0.7, "accuracy_score": 0.9, "val_roc_auc": 0.8, "test_roc_auc": 0.75}
    )
    assert resolved["accuracy"] == 0.7
    assert resolved["roc_auc"] == 0.75


def test_non_numeric_and_non_finite_values_are_dropped() -> None:
    numpy = pytest.importorskip("numpy")
    resolved = resolve_metric_names(
        {"a": float("nan"), "b": "x", "c": True, "d": numpy.float64(0.25), "e": 3, "f": math.inf}
    )
    assert resolved == {"d": 0.25, "e": 3.0}


def test_passing_record() -> None:
    record = performance_record(
        {"accuracy_score": 0.86, "roc_auc": 0.91},
        thresholds={"accuracy": {"min": 0.8}, "roc_auc": {"min": 0.85}},
        system="credit-scoring",
        subject=Subject(run_id="r1"),
        config_digest="abc",
        source="evaluation",
    )
    assert record.kind == "performance"
    assert record.outcome == "pass"
    assert record.controls == load_catalog().controls_for_kind("performance")
    assert record.system == "credit-scoring"
    assert record.subject.run_id == "r1"
    assert record.config_digest == "abc"
    assert record.details["source"] == "evaluation"
    assert [c["metric"] for c in record.details["checks"]] == ["accuracy", "roc_auc"]
    assert all(c["passed"] for c in record.details["checks"])
    assert record.metrics["accuracy"] == 0.86
    record.verify()
    assert EvidenceRecord.from_json(record.to_json()) == record


def test_a_metric_below_its_minimum_fails_with_the_reason() -> None:
    record = performance_record(
        {"accuracy": 0.75, "roc_auc": 0.9},
        thresholds={"accuracy": {"min": 0.8}, "roc_auc": {"min": 0.85, "max": 0.99}},
        system="s",
    )
    assert record.outcome == "fail"
    failing = [c for c in record.details["checks"] if not c["passed"]]
    assert failing == [
        {
            "metric": "accuracy",
            "value": 0.75,
            "min": 0.8,
            "max": None,
            "passed": False,
            "reason": "accuracy = 0.75 is below the minimum 0.8",
        }
    ]


def test_a_thresholded_metric_that_was_not_measured_fails() -> None:
    record = performance_record({"accuracy": 0.9}, thresholds={"roc_auc": {"min": 0.8}}, system="s")
    assert record.outcome == "fail"
    assert record.details["checks"][0]["reason"] == "roc_auc was not measured"


def test_no_thresholds_is_information_only() -> None:
    record = performance_record({"accuracy": 0.9}, thresholds={}, system=None)
    assert record.outcome == "info"
    assert json.loads(record.to_json())["details"] == {"source": "run", "checks": []}
    assert record.metrics == {"accuracy": 0.9}


def test_metrics_are_bounded_and_thresholded_ones_kept() -> None:
    many = {f"m{i:04d}": float(i) for i in range(MAX_RECORD_METRICS + 50)}
    many["zz_accuracy"] = 0.9
    record = performance_record(many, thresholds={"zz_accuracy": {"min": 0.5}}, system="s")
    assert len(record.metrics) == MAX_RECORD_METRICS
    assert record.metrics["zz_accuracy"] == 0.9
    assert record.details["metrics_omitted"] == 51
    assert record.outcome == "pass"


def test_metrics_from_evaluation_reads_the_metrics_attribute_or_a_mapping() -> None:
    result = SimpleNamespace(metrics={"accuracy_score": 0.8, "example_count": 100})
    assert metrics_from_evaluation(result) == {
        "accuracy_score": 0.8,
        "example_count": 100.0,
        "accuracy": 0.8,
    }
    assert metrics_from_evaluation({"auc": 0.7}) == {"auc": 0.7, "roc_auc": 0.7}
    with pytest.raises(DataError) as caught:
        metrics_from_evaluation(42)
    assert str(caught.value) == ERROR_NOT_METRICS.format(got="int")


def test_record_json_is_plain() -> None:
    record = performance_record(
        {"accuracy": 0.9}, thresholds={"accuracy": {"min": 0.8}}, system="s"
    )
    data = json.loads(record.to_json())
    assert data["details"]["checks"][0]["reason"] == "accuracy = 0.9 >= 0.8"


def test_the_module_imports_no_heavy_library() -> None:
    heavy = {"mlflow", "great_expectations", "sklearn", "fairlearn"}
    code = (
        "import sys, aims_mlops.collectors._performance; "
        f"print(sorted(m for m in {sorted(heavy)!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
