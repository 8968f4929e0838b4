"""``genai_evaluation`` evidence from a user's own ``mlflow.genai.evaluate`` run.

When a user evaluates with the aims_mlops scorers in their own call, the run's traces carry the
scorers' assessments (``aims_pii_leak``, ...) and the run's metrics the means of every scorer:
:func:`genai_evaluation_from_run` reads them back into the same record :func:`assess_genai`
makes (without a red-team suite unless the rows carried our rogue-string expectations). Autolog
calls :func:`collect_ended_run` when such a run ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aims_mlops.evidence import EvidenceRecord, Subject
from aims_mlops.genai._assess import ASSESSED_TAG, RowVerdict, genai_record
from aims_mlops.genai._binding import GenaiBinding
from aims_mlops.genai._red_team import DATA_CATEGORY
from aims_mlops.genai._scorers import ATTACK_TAG, CATEGORY_TAG, SCORER_NAMES
from aims_mlops.store._contract import GENAI_EVALUATE, RUN_TYPE_TAG


def _verdicts(traces: list[Any]) -> list[RowVerdict]:
    rows = []
    for trace in traces:
        values: dict[str, Any] = {}
        for assessment in trace.info.assessments or ():
            if assessment.name in SCORER_NAMES and getattr(assessment, "feedback", None):
                values[assessment.name] = assessment.feedback.value
        tags = trace.info.tags or {}
        rows.append(
            RowVerdict(
                category=str(tags.get(CATEGORY_TAG, DATA_CATEGORY)),
                attack=tags.get(ATTACK_TAG),
                values=values,
                error=str(getattr(trace.info.state, "value", trace.info.state)).upper() == "ERROR",
            )
        )
    return rows


def _user_means(metrics: Mapping[str, float]) -> dict[str, float | None]:
    means: dict[str, float | None] = {}
    for key, value in metrics.items():
        name, _, stat = key.rpartition("/")
        if stat == "mean" and name and name not in SCORER_NAMES:
            means[name] = float(value)
    return means


def evaluation_from_run(
    binding: GenaiBinding, run_id: str, *, name: str | None = None
) -> EvidenceRecord:
    """The ``genai_evaluation`` record of an ``mlflow.genai.evaluate`` run that used the
    aims_mlops scorers, judged against the system's ``genai.thresholds`` (records nothing:
    :func:`aims_mlops.capture.genai_evaluation_from_run` does)."""
    import mlflow

    run = mlflow.MlflowClient().get_run(run_id)
    settings = binding.settings
    limits = settings.bounds() if settings is not None else {}
    traces = mlflow.search_traces(run_id=run_id, return_type="list", include_spans=False)
    return genai_record(
        _verdicts(traces),
        system=binding.system,
        name=name or run.info.run_name or run_id,
        thresholds=limits,
        user_scorers=_user_means(run.data.metrics),
        subject=Subject(run_id=run_id),
        config_digest=binding.config_digest,
        details={"evaluation_run_id": run_id, "source": "mlflow.genai.evaluate run"},
    )


def is_aims_evaluation(run: Any) -> bool:
    """Whether ``run`` is an ``mlflow.genai.evaluate`` run scored with the aims_mlops scorers
    that :func:`aims_mlops.capture.assess_genai` did not record itself."""
    tags = run.data.tags
    if tags.get(RUN_TYPE_TAG) != GENAI_EVALUATE or tags.get(ASSESSED_TAG):
        return False
    return any(k.split("/")[0] in SCORER_NAMES for k in run.data.metrics)
