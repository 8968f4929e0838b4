"""``monitor_traces``: a GenAI system's MLflow traces read back as monitoring evidence.

The traces of the system's experiment (production or evaluation requests) since a point in time
give: how many requests were traced, over how many days, the share that ended in error, the
share of responses holding personal data (presidio pattern recognizers on the response preview;
counts by entity type only), and latency percentiles. The ``monitoring.traces`` record checks
that requests are being traced, that a retention period is declared
(``systems[].genai.traces.retention_days``), that no kept trace is older than that period, and
the declared ``genai.traces.thresholds`` (``error_rate``, ``pii_output_rate``,
``latency_p95_ms``, ...).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aims_mlops._errors import AimsError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._thresholds import ThresholdCheck, judge_thresholds
from aims_mlops.evidence import EvidenceRecord, Subject
from aims_mlops.genai._binding import GenaiBinding
from aims_mlops.genai._detect import find_pii

KIND = "monitoring.traces"
COLLECTOR = "aims_mlops.genai.traces"
#: At most this many traces are read per call (the newest first).
MAX_TRACES = 10_000

ERROR_BAD_SINCE = (
    "since must be a datetime, a timedelta or a duration like '30d', '12h' or '90m'; got {got!r}"
)
ERROR_NO_EXPERIMENT = (
    "no MLflow experiment holds the traces of system {system!r}: declare "
    "systems[].mlflow.experiment in aims.yaml or pass experiment=..."
)
ERROR_UNKNOWN_EXPERIMENT = "MLflow experiment {name!r} does not exist in the tracking store"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@dataclass(frozen=True, kw_only=True)
class TraceStats:
    """What the traces of a window say, without their content."""

    timestamps_ms: Sequence[int] = ()
    durations_ms: Sequence[float] = ()
    errors: int = 0
    pii_outputs: int = 0
    pii_entities: Mapping[str, int] = field(default_factory=dict)
    oldest_kept_ms: int | None = None


def parse_since(since: datetime | timedelta | str, *, now: datetime) -> datetime:
    """The start of the window: a datetime, ``now - timedelta`` or ``now - '30d'``."""
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    if isinstance(since, timedelta):
        return now - since
    match = _DURATION.match(since) if isinstance(since, str) else None
    if match is None:
        raise AimsError(ERROR_BAD_SINCE.format(got=since))
    return now - timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), ``q`` in 0..100."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def trace_record(
    stats: TraceStats,
    *,
    system: str,
    since: datetime,
    now: datetime,
    retention_days: int | None,
    thresholds: Mapping[str, Mapping[str, float]],
    experiment: str | None = None,
    config_digest: str | None = None,
) -> EvidenceRecord:
    """A ``monitoring.traces`` record from trace statistics (pure)."""
    count = len(stats.timestamps_ms)
    metrics: dict[str, float] = {"traced_requests": float(count)}
    if count:
        first, last = min(stats.timestamps_ms), max(stats.timestamps_ms)
        metrics["days_covered"] = round((last - first) / 86_400_000, 4)
        days = {datetime.fromtimestamp(t / 1000, UTC).date() for t in stats.timestamps_ms}
        metrics["active_days"] = float(len(days))
        metrics["error_rate"] = stats.errors / count
        metrics["pii_output_rate"] = stats.pii_outputs / count
        if stats.durations_ms:
            for q in (50, 95, 99):
                metrics[f"latency_p{q}_ms"] = round(_percentile(stats.durations_ms, q), 3)
    oldest_age = None
    if stats.oldest_kept_ms is not None:
        oldest = datetime.fromtimestamp(stats.oldest_kept_ms / 1000, UTC)
        oldest_age = (now - oldest).total_seconds() / 86_400
        metrics["oldest_trace_age_days"] = round(oldest_age, 3)
    checks: list[ThresholdCheck] = [
        ThresholdCheck(
            "traced_requests",
            float(count),
            1.0,
            None,
            count > 0,
            f"{count} requests traced since {since.date().isoformat()}"
            if count
            else f"no request was traced since {since.date().isoformat()}",
        )
    ]
    if retention_days is None:
        checks.append(
            ThresholdCheck(
                "retention_days",
                None,
                None,
                None,
                False,
                "no trace retention is declared (systems[].genai.traces.retention_days)",
            )
        )
    else:
        kept_too_long = oldest_age is not None and oldest_age > retention_days
        checks.append(
            ThresholdCheck(
                "oldest_trace_age_days",
                oldest_age,
                None,
                float(retention_days),
                not kept_too_long,
                f"the oldest kept trace is {oldest_age:.0f} days old, beyond the declared "
                f"retention of {retention_days} days"
                if kept_too_long
                else f"traces are kept for a declared {retention_days} days",
            )
        )
    checks += judge_thresholds(metrics, thresholds)
    outcome = "pass" if all(c.passed for c in checks) else "fail"
    return catalog_record(
        kind=KIND,
        system=system,
        outcome=outcome,
        collector=COLLECTOR,
        subject=Subject(experiment_id=experiment),
        metrics=metrics,
        details={
            "since": since.isoformat().replace("+00:00", "Z"),
            "until": now.isoformat().replace("+00:00", "Z"),
            "retention_days": retention_days,
            "errors": stats.errors,
            "pii_outputs": stats.pii_outputs,
            "pii_entities": dict(sorted(stats.pii_entities.items())),
            "checks": [c.to_dict() for c in checks],
        },
        config_digest=config_digest,
    )


def read_trace_stats(
    experiment_id: str, *, since: datetime, max_traces: int = MAX_TRACES
) -> TraceStats:
    """Statistics of the experiment's traces since ``since`` (content scanned, never kept)."""
    import mlflow

    since_ms = int(since.timestamp() * 1000)
    traces = mlflow.search_traces(
        locations=[experiment_id],
        filter_string=f"trace.timestamp_ms >= {since_ms}",
        max_results=max_traces,
        order_by=["timestamp_ms DESC"],
        return_type="list",
        include_spans=False,
    )
    oldest = mlflow.search_traces(
        locations=[experiment_id],
        max_results=1,
        order_by=["timestamp_ms ASC"],
        return_type="list",
        include_spans=False,
    )
    timestamps, durations, errors, pii_outputs = [], [], 0, 0
    entities: Counter[str] = Counter()
    for trace in traces:
        info = trace.info
        timestamps.append(int(info.request_time))
        if info.execution_duration is not None:
            durations.append(float(info.execution_duration))
        if str(getattr(info.state, "value", info.state)).upper() == "ERROR":
            errors += 1
        findings = find_pii(info.response_preview or "")
        if findings:
            pii_outputs += 1
            entities.update(f.entity for f in findings)
    return TraceStats(
        timestamps_ms=timestamps,
        durations_ms=durations,
        errors=errors,
        pii_outputs=pii_outputs,
        pii_entities=dict(entities),
        oldest_kept_ms=int(oldest[0].info.request_time) if oldest else None,
    )


def _experiment_id(binding: GenaiBinding, experiment: str | None) -> str:
    import mlflow

    system, config = binding.system, binding.system_config
    name = experiment or (config.mlflow.experiment if config is not None else None)
    if name is None:
        active = mlflow.active_run()
        if active is not None:
            return active.info.experiment_id
        raise AimsError(ERROR_NO_EXPERIMENT.format(system=system))
    found = mlflow.get_experiment_by_name(name)
    if found is None:
        raise AimsError(ERROR_UNKNOWN_EXPERIMENT.format(name=name))
    return found.experiment_id


def trace_evidence(
    binding: GenaiBinding,
    *,
    since: datetime,
    now: datetime,
    experiment: str | None = None,
    thresholds: Mapping[str, Mapping[str, float]] | None = None,
    max_traces: int = MAX_TRACES,
) -> EvidenceRecord:
    """Read the system's MLflow traces since ``since`` and build the ``monitoring.traces``
    record (see the module docstring); :func:`aims_mlops.capture.monitor_traces` records it."""
    settings = binding.settings
    traces = settings.traces if settings is not None else None
    limits = dict(thresholds) if thresholds is not None else {}
    if thresholds is None and traces is not None:
        limits = {
            m: {k: v for k, v in t.as_bound().items() if v is not None}
            for m, t in traces.thresholds.items()
        }
    experiment_id = _experiment_id(binding, experiment)
    stats = read_trace_stats(experiment_id, since=since, max_traces=max_traces)
    return trace_record(
        stats,
        system=binding.system,
        since=since,
        now=now,
        retention_days=traces.retention_days if traces is not None else None,
        thresholds=limits,
        experiment=experiment_id,
        config_digest=binding.config_digest,
    )
