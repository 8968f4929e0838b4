"""The one place aims_mlops.genai talks to the capture layer.

Everything GenAI capture needs from the session (the bound system, its ``genai`` settings,
``include_values``, the store) and the one call that stores a record go through here, so a change
of the capture API is re-pointed in this module alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from aims_mlops import capture as _capture
from aims_mlops._errors import AimsError, AimsWarning
from aims_mlops.catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord

ERROR_NO_SYSTEM = (
    "no AI system is bound: pass system=..., call aims_mlops.init(system=...), or set $AIMS_SYSTEM"
)
WARNING_NOT_MIRRORED = (
    "aims_mlops: the GenAI metrics were not mirrored as metrics of run {run_id} ({error}); "
    "the evidence record holds them"
)


def session() -> _capture.Session:
    return _capture.get_session()


def resolve_system(explicit: str | None) -> str:
    """explicit > ``init`` > ``$AIMS_SYSTEM`` > the active run's experiment mapping."""
    system = _capture.resolve_system(explicit)
    if not system:
        system = _capture.resolve_system(None, experiment_name=_active_experiment_name())
    if not system:
        raise AimsError(ERROR_NO_SYSTEM)
    return system


def _active_experiment_name() -> str | None:
    import sys

    if "mlflow" not in sys.modules:
        return None
    import mlflow

    active = mlflow.active_run()
    if active is None:
        return None
    experiment = mlflow.MlflowClient().get_experiment(active.info.experiment_id)
    return experiment.name if experiment is not None else None


def genai_settings(system: str) -> Any:
    """The system's ``genai`` section of aims.yaml (None when undeclared or no config)."""
    config = session().system_config(system)
    return getattr(config, "genai", None) if config is not None else None


def system_config(system: str) -> Any:
    return session().system_config(system)


def include_values(explicit: bool | None) -> bool:
    return session().include_values if explicit is None else explicit


def config_digest() -> str | None:
    return session().config_digest


def controls_for(kind: str) -> tuple[str, ...]:
    return load_catalog().controls_for_kind(kind)


def capture(
    kind: str,
    *,
    system: str,
    produce: Callable[[], EvidenceRecord],
    run_id: str | None = None,
    artifacts: Callable[[EvidenceRecord], Mapping[str, bytes]] | None = None,
) -> EvidenceRecord:
    """Run ``produce`` and store its record (an ``error`` record when it fails, unless strict)
    through a capture context of the session's, for ``system``."""
    return _capture.capture(
        session().context(system=system),
        kind,
        produce=produce,
        run_id=run_id,
        artifacts=artifacts,
    )


def mirror_metrics(run_id: str | None, metrics: Mapping[str, float], prefix: str) -> None:
    """Best effort: the record's headline numbers as metrics of the run, for MLflow's own UI."""
    if run_id is None or not metrics:
        return
    try:
        session().store.log_run_metrics(run_id, {f"{prefix}.{k}": v for k, v in metrics.items()})
    except AimsError as exc:
        warnings.warn(
            AimsWarning(WARNING_NOT_MIRRORED.format(run_id=run_id, error=exc)), stacklevel=3
        )
