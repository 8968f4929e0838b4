"""Autolog: capture lineage evidence whenever an MLflow run ends, and hash logged data frames.

MLflow has no public run-end hook, but ``mlflow.end_run()`` and the exit of a ``with
mlflow.start_run()`` block both call ``MlflowClient.set_terminated``: :func:`enable` wraps that
method (and ``mlflow.log_input`` / ``mlflow.log_inputs``), :func:`disable` restores them.
Capture never breaks the run: a failing collector becomes an ``error`` record and an
:class:`~aims_mlops.AimsWarning` (strict mode raises :class:`~aims_mlops.CaptureError`).
"""

from __future__ import annotations

import contextvars
import functools
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsWarning, CaptureError
from aims_mlops.store._contract import GENAI_EVALUATE, RUN_TYPE_TAG, TAG_KIND, TAG_SYSTEM

if TYPE_CHECKING:
    from mlflow import MlflowClient

ERROR_LINEAGE_FAILED = "lineage of run {run_id} could not be collected: {error}"
ERROR_DATASET_HASH_FAILED = (
    "the full-content hash of dataset {name!r} could not be recorded: {error}"
)
WARNING_LINEAGE_FAILED = (
    "aims_mlops: lineage of run {run_id} could not be collected ({error}); the run is unaffected."
)
WARNING_DATASET_HASH_FAILED = (
    "aims_mlops: the full-content hash of dataset {name!r} could not be recorded ({error}); its "
    "lineage evidence keeps only MLflow's partial digest."
)

# Tag of the store's own record runs (org/system-level evidence): never collect lineage for them.
_EVIDENCE_RUN_TAG = TAG_KIND
_WRAPPED = "__aims_autolog_original__"

_lock = threading.Lock()
_strict = False
_enabled = False
# (owner object, attribute name, original) for everything patched, to restore on disable()
_patches: list[tuple[Any, str, Any]] = []
# True while aims_mlops itself is talking to MLflow: our own calls must not re-trigger capture
_busy: contextvars.ContextVar[bool] = contextvars.ContextVar("aims_autolog_busy", default=False)
_experiment_names: dict[tuple[str, str], str] = {}


@contextmanager
def _reentry_guard() -> Iterator[bool]:
    """Yields False when already inside aims_mlops capture (the caller then does nothing)."""
    if _busy.get():
        yield False
        return
    token = _busy.set(True)
    try:
        yield True
    finally:
        _busy.reset(token)


def is_enabled() -> bool:
    """Whether MLflow runs currently get lineage evidence when they end."""
    return _enabled


def enable(*, strict: bool = False) -> None:
    """Capture lineage at the end of every MLflow run whose AI system resolves (idempotent).

    ``strict=True`` raises :class:`CaptureError` from ``end_run()`` when a collector fails;
    otherwise the session's ``strict`` setting decides.
    """
    global _strict, _enabled
    import mlflow
    import mlflow.tracking.fluent as fluent
    from mlflow.tracking.client import MlflowClient

    with _lock:
        _strict = strict
        if _enabled:
            return
        _patch(MlflowClient, "set_terminated", _wrap_set_terminated)
        for owner in (fluent, mlflow):
            _patch(owner, "log_input", _wrap_log_input)
            _patch(owner, "log_inputs", _wrap_log_inputs)
        _enabled = True


def disable() -> None:
    """Stop capturing at run end and restore MLflow's functions (idempotent)."""
    global _enabled, _strict
    with _lock:
        _strict = False
        while _patches:
            owner, name, original = _patches.pop()
            setattr(owner, name, original)
        _enabled = False


def _patch(owner: Any, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    current = getattr(owner, name)
    if getattr(current, _WRAPPED, None) is not None:  # wrapped by an earlier copy of this module
        return
    wrapper = wrap(current)
    setattr(wrapper, _WRAPPED, current)
    setattr(owner, name, wrapper)
    _patches.append((owner, name, current))


def _strict_override() -> bool | None:
    """``True`` when enable(strict=True); None lets the session's setting decide."""
    return True if _strict else None


def _session_strict() -> bool:
    from aims_mlops.capture import get_session

    return _strict or get_session().strict


# -- run end -------------------------------------------------------------------------------------
def _wrap_set_terminated(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def set_terminated(
        self: MlflowClient, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        result = original(self, run_id, status, end_time)
        with _reentry_guard() as outermost:
            if outermost:
                run = _ended_run(self, run_id)
                collect_run_lineage(self, run_id, run=run)
                if run is not None and run.data.tags.get(RUN_TYPE_TAG) == GENAI_EVALUATE:
                    _collect_genai_evaluation(self, run_id, run)
        return result

    return set_terminated


def _ended_run(client: MlflowClient, run_id: str) -> Any:
    """The ended run, fetched once for every collector of the run's end (None when it cannot
    be read: each collector then fetches it itself and reports the failure as it does)."""
    try:
        return client.get_run(run_id)
    except Exception:  # not lost: collect_run_lineage fetches it again and reports the error
        return None


def _collect_genai_evaluation(client: MlflowClient, run_id: str, run: Any) -> None:
    """An ``mlflow.genai.evaluate`` run scored with aims_mlops scorers: its GenAI evidence."""
    from aims_mlops.genai._from_run import collect_ended_run

    collect_ended_run(client, run_id, strict=_session_strict(), run=run)


def _experiment_name(client: MlflowClient, experiment_id: str) -> str | None:
    key = (client.tracking_uri, experiment_id)
    if key not in _experiment_names:
        experiment = client.get_experiment(experiment_id)
        if experiment is None:
            return None
        _experiment_names[key] = experiment.name
    return _experiment_names[key]


def collect_run_lineage(client: MlflowClient, run_id: str, *, run: Any = None) -> list[Any]:
    """Collect and store the lineage records of an ended run (nothing when no system resolves).
    ``run``: the ended run when the caller fetched it already.

    Returns the stored records (``error`` records included). Never raises unless strict.
    """
    from aims_mlops import capture
    from aims_mlops.collectors._lineage import lineage_tasks
    from aims_mlops.collectors._notebook import notebook_tasks

    try:
        run = run if run is not None else client.get_run(run_id)
        tags = run.data.tags
        if _EVIDENCE_RUN_TAG in tags:
            return []
        session = capture.get_session()
        experiment_name = None
        if not (tags.get(TAG_SYSTEM) or session.system or os.environ.get(capture.ENV_SYSTEM)):
            if session.config is None:
                return []
            experiment_name = _experiment_name(client, run.info.experiment_id)
        system = capture.resolve_system(tags.get(TAG_SYSTEM), experiment_name=experiment_name)
        if not system:
            return []
        context = session.context(system=system, strict=_strict_override())
        tasks = lineage_tasks(
            run, client=client, system=system, config_digest=session.config_digest
        )
        tasks += notebook_tasks(run_id, system=system, config_digest=session.config_digest)
    except Exception as exc:  # reported below: capture never breaks the run
        if _session_strict():
            raise CaptureError(ERROR_LINEAGE_FAILED.format(run_id=run_id, error=exc)) from exc
        warnings.warn(
            AimsWarning(WARNING_LINEAGE_FAILED.format(run_id=run_id, error=exc)), stacklevel=4
        )
        return []
    try:
        return capture.capture_many(
            context,
            [capture.CaptureTask(kind=t.kind, produce=t.produce) for t in tasks],
            run_id=run_id,
        )
    except Exception as exc:  # capture itself failed (its store, say): report, go on
        if _session_strict():
            raise
        warnings.warn(
            AimsWarning(WARNING_LINEAGE_FAILED.format(run_id=run_id, error=exc)), stacklevel=4
        )
        return []


# -- datasets ------------------------------------------------------------------------------------
def _wrap_log_input(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def log_input(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        dataset = kwargs["dataset"] if "dataset" in kwargs else (args[0] if args else None)
        if dataset is not None:
            record_full_hashes([dataset])
        return result

    return log_input


def _wrap_log_inputs(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def log_inputs(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        datasets = kwargs["datasets"] if "datasets" in kwargs else (args[0] if args else None)
        if datasets:
            record_full_hashes([d for d in datasets if d is not None])
        return result

    return log_inputs


def record_full_hashes(datasets: Iterable[Any], *, run_id: str | None = None) -> dict[str, str]:
    """Tag the run (default: the active run) with the full-content SHA-256 of each pandas or
    Spark dataset (``mlflow.data.from_spark``: the row-set digest, one Spark job), as
    ``aims.dataset_sha256.<mlflow digest>``; returns ``{mlflow digest: sha256}``."""
    import mlflow
    from mlflow.data.pandas_dataset import PandasDataset
    from mlflow.entities import RunTag

    from aims_mlops.collectors._spark import is_spark_frame
    from aims_mlops.datasets import dataset_digest
    from aims_mlops.store._contract import TAG_DATASET_SHA256_PREFIX as DATASET_SHA256_TAG_PREFIX

    frames = [
        d
        for d in datasets
        if isinstance(d, PandasDataset) or is_spark_frame(getattr(d, "df", None))
    ]
    if not frames:
        return {}
    hashes: dict[str, str] = {}
    with _reentry_guard() as outermost:
        if not outermost:
            return {}
        for dataset in frames:
            try:
                hashes[dataset.digest] = dataset_digest(dataset.df)
            except Exception as exc:  # reported: a hash failure must not break log_input
                _dataset_problem(dataset, exc)
        if not hashes:
            return {}
        try:
            target = run_id or _active_run_id()
            if target is None:
                return hashes
            tags = [RunTag(DATASET_SHA256_TAG_PREFIX + d, h) for d, h in hashes.items()]
            mlflow.MlflowClient().log_batch(target, tags=tags)
        except Exception as exc:  # reported: a tag failure must not break log_input
            _dataset_problem(frames[0], exc)
    return hashes


def _active_run_id() -> str | None:
    import mlflow

    active = mlflow.active_run()
    return active.info.run_id if active is not None else None


def _dataset_problem(dataset: Any, error: BaseException) -> None:
    name = getattr(dataset, "name", None)
    text = f"{type(error).__name__}: {error}"
    if _session_strict():
        raise CaptureError(ERROR_DATASET_HASH_FAILED.format(name=name, error=text)) from error
    warnings.warn(
        AimsWarning(WARNING_DATASET_HASH_FAILED.format(name=name, error=text)), stacklevel=5
    )
