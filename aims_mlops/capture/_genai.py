"""GenAI evidence through the one writer: ``assess_genai``, ``monitor_traces``, and the
``genai_evaluation`` of a user's own ``mlflow.genai.evaluate`` run.

:mod:`aims_mlops.genai` evaluates, reads traces and builds the records (it never writes); here
the system is resolved from the session, the :class:`~aims_mlops.genai.GenaiBinding` built, the
collector run inside :func:`capture` (a failure becomes an ``error`` record unless strict) and
the record handed to the writer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aims_mlops.capture._context import (
    CaptureContext,
    get_session,
    mirror_metrics,
    required_system,
    resolve_system,
    strict_or_warn,
)
from aims_mlops.capture._emit import capture
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.genai._assess import KIND as EVALUATION_KIND
from aims_mlops.genai._assess import evaluate_genai
from aims_mlops.genai._binding import GenaiBinding
from aims_mlops.genai._from_run import evaluation_from_run, is_aims_evaluation
from aims_mlops.genai._scorers import SCORER_NAMES
from aims_mlops.genai._traces import KIND as TRACES_KIND
from aims_mlops.genai._traces import MAX_TRACES, parse_since, trace_evidence
from aims_mlops.store._contract import METRIC_PREFIX_GENAI, TAG_SYSTEM

WARNING_FROM_RUN_FAILED = (
    "aims_mlops: GenAI evidence of evaluation run {run_id} could not be collected ({error}); "
    "the run is unaffected."
)


def _bound(
    system: str | None,
    *,
    include_values: bool | None = None,
    for_run: bool = False,
    tracking_uri: str | None = None,
) -> tuple[CaptureContext, GenaiBinding]:
    """The session's capture context for ``system`` (on the run's store when the record is
    about a run) and what the collector is told of the system."""
    session = get_session()
    system_id = required_system(system)
    context = session.context(system=system_id, for_run=for_run, tracking_uri=tracking_uri)
    binding = GenaiBinding(
        system=system_id,
        system_config=session.system_config(system_id),
        include_values=session.include_values if include_values is None else include_values,
        config_digest=session.config_digest,
    )
    return context, binding


def assess_genai(
    predict_fn: Callable[..., Any],
    data: Any,
    *,
    name: str,
    scorers: Sequence[Any] = (),
    red_team: bool = True,
    input_key: str | None = None,
    system: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    include_values: bool | None = None,
    categories: Sequence[str] | None = None,
    seed: int | None = None,
    model_id: str | None = None,
) -> EvidenceRecord:
    """Evaluate ``predict_fn`` with ``mlflow.genai.evaluate`` and record ``genai_evaluation``
    evidence judged against the system's ``genai.thresholds`` (see :mod:`aims_mlops.genai`).

    ``data``: MLflow evaluation rows (``inputs``, optional ``expectations``, ``context``,
    ``tags``), a list or a DataFrame. ``scorers``: the user's own, added to ours.
    ``red_team=True`` sends the bundled attacks (``categories``: a subset) through the text input
    ``input_key`` (default: the declared ``genai.input_key``, else the only input key). Runs in
    the active MLflow run, else in a run of its own.
    """
    import mlflow

    context, binding = _bound(system, include_values=include_values, for_run=True)

    def produce(run_id: str) -> EvidenceRecord:
        return evaluate_genai(
            binding,
            predict_fn,
            data,
            run_id=run_id,
            name=name,
            scorers=scorers,
            red_team=red_team,
            input_key=input_key,
            thresholds=thresholds,
            categories=categories,
            seed=seed,
            model_id=model_id,
        )

    active = mlflow.active_run()
    own_run = active is None
    run = mlflow.start_run(run_name=f"genai_evaluation:{name}") if own_run else active
    try:
        run_id = run.info.run_id
        if own_run:
            mlflow.set_tag(TAG_SYSTEM, binding.system)
        record = capture(context, EVALUATION_KIND, produce=lambda: produce(run_id), run_id=run_id)
    finally:
        if own_run:
            mlflow.end_run()
    if record.kind == EVALUATION_KIND:
        mirror_metrics(
            context,
            run_id,
            {k: v for k, v in record.metrics.items() if k in SCORER_NAMES.values()},
            METRIC_PREFIX_GENAI,
        )
    return record


def monitor_traces(
    system: str | None = None,
    *,
    since: datetime | timedelta | str = "30d",
    experiment: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    max_traces: int = MAX_TRACES,
) -> EvidenceRecord:
    """Read the system's MLflow traces since ``since`` and record ``monitoring.traces``
    evidence (operation monitoring and the inference event log)."""
    context, binding = _bound(system)
    now = datetime.now(UTC)
    start = parse_since(since, now=now)
    return capture(
        context,
        TRACES_KIND,
        produce=lambda: trace_evidence(
            binding,
            since=start,
            now=now,
            experiment=experiment,
            thresholds=thresholds,
            max_traces=max_traces,
        ),
    )


def genai_evaluation_from_run(
    run_id: str,
    *,
    system: str | None = None,
    name: str | None = None,
    tracking_uri: str | None = None,
) -> EvidenceRecord:
    """Record ``genai_evaluation`` evidence from an ``mlflow.genai.evaluate`` run that used the
    aims_mlops scorers, judged against the system's ``genai.thresholds``. The run lives in the
    store at ``tracking_uri`` (default: MLflow's current one)."""
    import mlflow

    if system is None:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        system = client.get_run(run_id).data.tags.get(TAG_SYSTEM)
    context, binding = _bound(system, for_run=True, tracking_uri=tracking_uri)
    return capture(
        context,
        EVALUATION_KIND,
        produce=lambda: evaluation_from_run(binding, run_id, name=name),
        run_id=run_id,
    )


def collect_ended_run(
    client: Any, run_id: str, *, strict: bool, run: Any = None
) -> EvidenceRecord | None:
    """Autolog's hook: an ended ``mlflow.genai.evaluate`` run that used our scorers (and that
    :func:`assess_genai` did not record itself) becomes ``genai_evaluation`` evidence. ``run``:
    the ended run when the caller fetched it already."""
    try:
        run = run if run is not None else client.get_run(run_id)
        if not is_aims_evaluation(run):
            return None
        system = resolve_system(
            run.data.tags.get(TAG_SYSTEM),
            experiment_name=lambda: client.get_experiment(run.info.experiment_id).name,
        )
        if not system:
            return None
        return genai_evaluation_from_run(run_id, system=system, tracking_uri=client.tracking_uri)
    except Exception as exc:  # capture never breaks the run
        strict_or_warn(strict, WARNING_FROM_RUN_FAILED.format(run_id=run_id, error=exc), exc)
        return None
