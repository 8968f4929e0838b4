"""``genai_evaluation`` evidence from a user's own ``mlflow.genai.evaluate`` run.

When a user evaluates with the aims_mlops scorers in their own call, the run's traces carry the
scorers' assessments (``aims_pii_leak``, ...) and the run's metrics the means of every scorer:
:func:`genai_evaluation_from_run` reads them back into the same record :func:`assess_genai`
makes (without a red-team suite unless the rows carried our rogue-string expectations). Autolog
calls :func:`collect_ended_run` when such a run ends.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

from aims_mlops._errors import AimsWarning, CaptureError
from aims_mlops.evidence import EvidenceRecord, Subject
from aims_mlops.genai import _bridge
from aims_mlops.genai._assess import ASSESSED_TAG, KIND, RowVerdict, genai_record
from aims_mlops.genai._red_team import DATA_CATEGORY
from aims_mlops.genai._scorers import ATTACK_TAG, CATEGORY_TAG, SCORER_NAMES
from aims_mlops.store._contract import GENAI_EVALUATE, RUN_TYPE_TAG, TAG_SYSTEM

#: MLflow's run-type tag and the value ``mlflow.genai.evaluate`` sets.

WARNING_FROM_RUN_FAILED = (
    "aims_mlops: GenAI evidence of evaluation run {run_id} could not be collected ({error}); "
    "the run is unaffected."
)


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


def genai_evaluation_from_run(
    run_id: str, *, system: str | None = None, name: str | None = None
) -> EvidenceRecord:
    """Record ``genai_evaluation`` evidence from an ``mlflow.genai.evaluate`` run that used the
    aims_mlops scorers, judged against the system's ``genai.thresholds``."""
    import mlflow

    run = mlflow.MlflowClient().get_run(run_id)
    system_id = _bridge.resolve_system(system or run.data.tags.get(TAG_SYSTEM))
    settings = _bridge.genai_settings(system_id)
    limits = settings.bounds() if settings is not None else {}

    def produce() -> EvidenceRecord:
        traces = mlflow.search_traces(run_id=run_id, return_type="list", include_spans=False)
        return genai_record(
            _verdicts(traces),
            system=system_id,
            name=name or run.info.run_name or run_id,
            thresholds=limits,
            user_scorers=_user_means(run.data.metrics),
            subject=Subject(run_id=run_id),
            config_digest=_bridge.config_digest(),
            details={"evaluation_run_id": run_id, "source": "mlflow.genai.evaluate run"},
        )

    return _bridge.capture(KIND, system=system_id, produce=produce, run_id=run_id)


def collect_ended_run(
    client: Any, run_id: str, *, strict: bool, run: Any = None
) -> EvidenceRecord | None:
    """Autolog's hook: a ended ``mlflow.genai.evaluate`` run that used our scorers (and that
    :func:`assess_genai` did not record itself) becomes ``genai_evaluation`` evidence. ``run``:
    the ended run when the caller fetched it already."""
    from aims_mlops import capture as _capture

    try:
        run = run if run is not None else client.get_run(run_id)
        tags = run.data.tags
        if tags.get(RUN_TYPE_TAG) != GENAI_EVALUATE or tags.get(ASSESSED_TAG):
            return None
        if not any(k.split("/")[0] in SCORER_NAMES for k in run.data.metrics):
            return None
        session = _capture.get_session()
        explicit = tags.get(TAG_SYSTEM) or session.system or os.environ.get(_capture.ENV_SYSTEM)
        experiment = None if explicit else client.get_experiment(run.info.experiment_id).name
        system = _capture.resolve_system(explicit, experiment_name=experiment)
        if not system:
            return None
        return genai_evaluation_from_run(run_id, system=system)
    except Exception as exc:  # reported: capture never breaks the run
        if strict:
            raise CaptureError(WARNING_FROM_RUN_FAILED.format(run_id=run_id, error=exc)) from exc
        warnings.warn(
            AimsWarning(WARNING_FROM_RUN_FAILED.format(run_id=run_id, error=exc)), stacklevel=4
        )
        return None
