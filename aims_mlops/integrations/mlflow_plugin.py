"""MLflow run-context plugin: tags every new run with the AI system it belongs to.

Registered through the ``mlflow.run_context_provider`` entry point, so MLflow loads it in the
middle of ``import mlflow``: this module imports no MLflow at module level (that import would be
circular and MLflow would skip the plugin), is cheap, and never raises into MLflow.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

from aims_mlops._errors import AimsWarning
from aims_mlops.store._contract import TAG_CONFIG_DIGEST, TAG_SYSTEM

WARNING_PLUGIN_FAILED = (
    "aims_mlops: the MLflow run-context plugin could not tag the run ({error}); runs are not "
    "tagged with their AI system until this is fixed. Further failures are not reported."
)

_warned = False
_warn_lock = threading.Lock()
# (path, mtime_ns, size) -> config digest (None: the file did not load)
_digest_cache: dict[tuple[str, int, int], str | None] = {}
# (tracking uri, experiment id) -> experiment name
_experiment_names: dict[tuple[str, str], str | None] = {}


def _warn_once(error: BaseException) -> None:
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        AimsWarning(WARNING_PLUGIN_FAILED.format(error=f"{type(error).__name__}: {error}")),
        stacklevel=3,
    )


def reset_plugin_state() -> None:
    """Forget cached config digests and experiment names, and warn again on the next failure."""
    global _warned
    with _warn_lock:
        _warned = False
    _digest_cache.clear()
    _experiment_names.clear()


def _file_config_digest(path: Path) -> str | None:
    """The digest of the config at ``path``, re-read only when the file changes."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _digest_cache:
        from aims_mlops._errors import ConfigError
        from aims_mlops.config import config_digest, load_config

        try:
            _digest_cache[key] = config_digest(load_config(path))
        except ConfigError:  # the capture layer reports a malformed config; the run goes on
            _digest_cache[key] = None
    return _digest_cache[key]


def _config_digest(session: Any) -> str | None:
    from aims_mlops.config import default_config_path

    path = session.config_path or default_config_path()
    if path is not None and Path(path).is_file():
        return _file_config_digest(Path(path))
    return session.config_digest


def _active_experiment_name() -> str | None:
    """The experiment the next run goes to, when it is known without much work."""
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return name
    fluent = sys.modules.get("mlflow.tracking.fluent")
    experiment_id = getattr(fluent, "_active_experiment_id", None) or os.environ.get(
        "MLFLOW_EXPERIMENT_ID"
    )
    if not experiment_id:
        return None
    from mlflow.tracking import get_tracking_uri
    from mlflow.tracking.client import MlflowClient

    key = (get_tracking_uri(), str(experiment_id))
    if key not in _experiment_names:
        experiment = MlflowClient().get_experiment(str(experiment_id))
        _experiment_names[key] = experiment.name if experiment is not None else None
    return _experiment_names[key]


def run_context_tags() -> dict[str, str]:
    """The tags a new run gets: ``aims.system`` and ``aims.config_digest`` ({} when no system)."""
    from aims_mlops import capture

    session = capture.get_session()
    system = capture.resolve_system(experiment_name=_active_experiment_name)
    if not system:
        return {}
    tags = {TAG_SYSTEM: system}
    digest = _config_digest(session)
    if digest:
        tags[TAG_CONFIG_DIGEST] = digest
    return tags


class AimsRunContextProvider:
    """MLflow ``RunContextProvider`` (duck-typed): in context when a system resolves."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _resolve(self) -> dict[str, str]:
        try:
            return run_context_tags()
        except Exception as exc:  # never into MLflow: it would only log and drop the tags
            _warn_once(exc)
            return {}

    def in_context(self) -> bool:
        tags = self._resolve()
        self._local.pending = tags  # MLflow calls tags() right after in_context()
        return bool(tags)

    def tags(self) -> dict[str, str]:
        pending = getattr(self._local, "pending", None)
        self._local.pending = None
        return dict(pending) if pending is not None else self._resolve()
