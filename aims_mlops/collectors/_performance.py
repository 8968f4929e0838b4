"""Performance evidence: a model's evaluation metrics judged against the declared thresholds.

Metrics come from a mapping, an ``mlflow.models.EvaluationResult`` or an MLflow run's logged
metrics. Evaluation tools name the same metric differently (MLflow's default evaluator logs
``accuracy_score``; training scripts log ``test_accuracy`` or ``val/accuracy``), while ``aims.yaml``
declares ``accuracy``. :func:`resolve_metric_names` bridges the two:

* a name may carry one held-out-data prefix from :data:`EVALUATION_PREFIXES` (``test``, ``eval``,
  ``holdout``, ``val``, ``validation``) joined by ``_``, ``/`` or ``.``; ``training_`` is not one of
  them on purpose: a score on the training data says nothing about performance;
* the rest is looked up in :data:`METRIC_ALIASES` (``accuracy_score`` → ``accuracy``, ``auc`` →
  ``roc_auc``, ``f1_score`` → ``f1``, …), else kept as it is.

The canonical name is added next to the original names, never replacing a metric logged under that
exact name. When several names map to the same canonical name, the unprefixed one wins, then
the prefixes in the order listed above (test data first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aims_mlops._errors import DataError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._thresholds import judge_thresholds
from aims_mlops.evidence._record import EvidenceRecord, Outcome, Subject

KIND = "performance"
COLLECTOR = "aims_mlops.performance"

#: At most this many metrics go into a record (thresholded ones first, then by name).
MAX_RECORD_METRICS = 200

#: Prefixes marking metrics measured on held-out data, most preferred first.
EVALUATION_PREFIXES: tuple[str, ...] = ("test", "eval", "holdout", "val", "validation")
_SEPARATORS: tuple[str, ...] = ("_", "/", ".")

#: Other spellings of a metric (after any prefix) → the name thresholds use in ``aims.yaml``.
METRIC_ALIASES: Mapping[str, str] = {
    "accuracy_score": "accuracy",
    "acc": "accuracy",
    "balanced_accuracy_score": "balanced_accuracy",
    "roc_auc_score": "roc_auc",
    "auc": "roc_auc",
    "rocauc": "roc_auc",
    "auroc": "roc_auc",
    "f1_score": "f1",
    "precision_score": "precision",
    "recall_score": "recall",
    "logloss": "log_loss",
    "average_precision_score": "average_precision",
    "r2_score": "r2",
    "mean_absolute_error": "mae",
    "mean_squared_error": "mse",
    "root_mean_squared_error": "rmse",
}

ERROR_NOT_METRICS = (
    "expected a mapping of metric names to numbers or an mlflow.models.EvaluationResult; got {got}"
)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if hasattr(value, "item") and callable(value.item) and not hasattr(value, "__len__"):
        value = value.item()  # numpy scalars
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _canonical(name: str) -> tuple[str, int]:
    """The canonical name of a metric and the rank of its prefix (0: none, 1: test, ...)."""
    lowered = name.lower()
    rank = 0
    for position, prefix in enumerate(EVALUATION_PREFIXES, start=1):
        stem = next(
            (
                lowered[len(prefix) + 1 :]
                for sep in _SEPARATORS
                if lowered.startswith(prefix + sep) and len(lowered) > len(prefix) + 1
            ),
            None,
        )
        if stem is not None:
            lowered, rank = stem, position
            break
    return METRIC_ALIASES.get(lowered, lowered), rank


def resolve_metric_names(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric metrics under their own names, plus each canonical name (see the
    module docstring) that was not logged under that exact name."""
    finite = ((str(k), _finite(v)) for k, v in metrics.items())
    measured = {name: value for name, value in finite if value is not None}
    best: dict[str, tuple[int, str]] = {}
    for name in measured:
        canonical, rank = _canonical(name)
        if canonical == name or canonical in measured:
            continue
        if canonical not in best or (rank, name) < best[canonical]:
            best[canonical] = (rank, name)
    resolved = dict(measured)
    for canonical, (_, source) in sorted(best.items()):
        resolved[canonical] = measured[source]
    return resolved


def metrics_from_evaluation(result: Any) -> dict[str, float]:
    """Metrics of an ``mlflow.models.EvaluationResult`` (its ``.metrics``) or of a mapping."""
    metrics = result if isinstance(result, Mapping) else getattr(result, "metrics", None)
    if not isinstance(metrics, Mapping):
        raise DataError(ERROR_NOT_METRICS.format(got=type(result).__name__))
    return resolve_metric_names(metrics)


def metrics_from_run(run_id: str, *, client: Any) -> dict[str, float]:
    """The latest value of each metric logged to an MLflow run (``client``: an MlflowClient)."""
    return resolve_metric_names(client.get_run(run_id).data.metrics)


def performance_record(
    metrics: Mapping[str, float],
    *,
    thresholds: Mapping[str, Mapping[str, float]],
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
    source: str = "run",
) -> EvidenceRecord:
    """Judge ``metrics`` against ``thresholds`` (``{"accuracy": {"min": 0.8}}``): a
    ``performance`` record (control A.6.2.4), outcome ``info`` when nothing is thresholded."""
    resolved = resolve_metric_names(metrics)
    checks = judge_thresholds(resolved, thresholds)
    outcome: Outcome = "info" if not checks else "pass" if all(c.passed for c in checks) else "fail"
    ordered = [n for n in thresholds if n in resolved]
    ordered += sorted(n for n in resolved if n not in thresholds)
    kept = ordered[:MAX_RECORD_METRICS]
    details: dict[str, Any] = {"source": source, "checks": [c.to_dict() for c in checks]}
    if len(ordered) > len(kept):
        details["metrics_omitted"] = len(ordered) - len(kept)
    return catalog_record(
        kind=KIND,
        system=system,
        outcome=outcome,
        collector=COLLECTOR,
        subject=subject,
        metrics={name: resolved[name] for name in kept},
        details=details,
        config_digest=config_digest,
    )
