"""What capture knows: the session a process is bound to, and the explicit context of one capture.

:class:`Session` is what ``aims_mlops.init(...)`` binds (or what the environment gives): the
config, the bound system, the capture settings. Only ``init`` binds one; nobody swaps it to
reach another store. :class:`CaptureContext` is the frozen, explicit input of every emit and
capture: the store records go to, the system, strict mode, the row-value rule, the config and the
signing key. Callers that hold their own config and store (the gate, reports, ``attest(config=)``)
build their own context and leave the session alone.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError, AimsWarning, CaptureError, ConfigError
from aims_mlops.capture._configuration import record_configuration
from aims_mlops.config import config_digest, default_config_path, load_config
from aims_mlops.evidence import SigningKeyError
from aims_mlops.evidence._signing import default_pipeline_key_path, pipeline_key
from aims_mlops.store import make_store

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord, SigningKey
    from aims_mlops.store import EvidenceStore

ENV_SYSTEM = "AIMS_SYSTEM"
ENV_STRICT = "AIMS_STRICT"

ERROR_NO_SYSTEM = (
    "no AI system is bound: pass system=..., call aims_mlops.init(system=...), or set $AIMS_SYSTEM"
)
WARNING_NO_EXPERIMENT = (
    "aims_mlops: the active run's experiment could not be read ({error}); bind a system with "
    "aims_mlops.init(system=...) or $AIMS_SYSTEM"
)
WARNING_NOT_MIRRORED = (
    "aims_mlops: the evidence metrics were not mirrored as metrics of run {run_id} ({error}); "
    "the evidence record holds them"
)
WARNING_CONFIG_UNUSABLE = (
    "aims_mlops: {path} could not be loaded, capture runs without it:\n{error}"
)
WARNING_SIGNING_KEY_MISSING = (
    "aims_mlops: no signing key: neither {path} nor $AIMS_SIGNING_KEY names one, but aims.yaml "
    "trust: requires signatures; this session's records will be unsigned, each a finding"
)
WARNING_SIGNING_KEY_UNUSABLE = (
    "aims_mlops: {error}; this capture writes unsigned records (findings where trust: asks "
    "for signatures)"
)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def env_strict() -> bool:
    """Whether ``$AIMS_STRICT`` asks for strict capture."""
    return _truthy(os.environ.get(ENV_STRICT))


def _config_dir(config_path: str | os.PathLike[str] | None) -> Path:
    if config_path is not None:
        return Path(config_path).parent
    return default_config_path().parent


def strict_or_warn(
    strict: bool, message: str, error: BaseException, *, stacklevel: int = 2
) -> None:
    """Capture never breaks a run, written once: in strict mode raise :class:`CaptureError`
    (``message``, from ``error``; an :class:`AimsError` that already is one is raised as it
    is), otherwise warn ``message`` as an :class:`AimsWarning` and let the caller go on."""
    if strict:
        if isinstance(error, CaptureError):
            raise error
        raise CaptureError(message) from error
    warnings.warn(AimsWarning(message), stacklevel=stacklevel + 1)


def signing_key(config_path: str | os.PathLike[str] | None = None) -> SigningKey | None:
    """The private key records are signed with: the file ``$AIMS_SIGNING_KEY`` names, else
    ``.aims/keys/pipeline.key`` beside aims.yaml (``config_path``, default ``$AIMS_CONFIG`` or
    ./aims.yaml) when it exists (read in one place: the evidence package); a clear error when
    that file is not a key."""
    return pipeline_key(_config_dir(config_path))


def run_signing_key(
    *, strict: bool, config_path: str | os.PathLike[str] | None = None
) -> SigningKey | None:
    """:func:`signing_key` for capture inside a user's run: a bad key file is an error only in
    strict mode; otherwise it warns and the run's records go unsigned (never a broken run)."""
    try:
        return signing_key(config_path)
    except SigningKeyError as exc:
        if strict:
            raise  # the key's own error names the file
        strict_or_warn(False, WARNING_SIGNING_KEY_UNUSABLE.format(error=exc), exc, stacklevel=3)
        return None


def current_tracking_uri() -> str:
    """MLflow's tracking URI now (``mlflow.set_tracking_uri``, ``$MLFLOW_TRACKING_URI`` or its
    default), where the fluent API's runs live."""
    import mlflow

    return str(mlflow.get_tracking_uri())


def _system_config(config: AimsConfig | None, system: str | None) -> Any:
    if config is None or system is None:
        return None
    return next((s for s in config.systems if s.id == system), None)


def _digest(config: AimsConfig | None) -> str | None:
    if config is None:
        return None
    return config_digest(config)


@dataclass(frozen=True, kw_only=True)
class CaptureContext:
    """Everything one capture needs, passed explicitly to :func:`emit` and :func:`capture`.

    ``system`` is the AI system the records are about (None: organization-level); ``strict``
    makes a failing collector or store raise :class:`~aims_mlops.CaptureError`;
    ``include_values`` lets row values into evidence; ``signing_key`` signs every record emitted
    through this context (None: unsigned).
    """

    store: EvidenceStore
    system: str | None = None
    strict: bool = False
    include_values: bool = False
    config: AimsConfig | None = None
    signing_key: SigningKey | None = None
    #: a person's own key: signs the records of their act (the pipeline key still signs what
    #: capture itself writes, such as checkpoints)
    act_key: SigningKey | None = None

    @classmethod
    def from_config(
        cls,
        config: AimsConfig,
        *,
        store: EvidenceStore | None = None,
        tracking_uri: str | None = None,
        system: str | None = None,
        strict: bool | None = None,
        include_values: bool | None = None,
        key: SigningKey | None = None,
        config_path: str | os.PathLike[str] | None = None,
    ) -> CaptureContext:
        """A context of its own for ``config``: its store (unless ``store`` is given), its capture
        settings (``$AIMS_STRICT`` also turns strict on), the pipeline key (``$AIMS_SIGNING_KEY``,
        else ``.aims/keys/pipeline.key`` beside ``config_path``) unless ``key``."""
        return cls(
            store=store if store is not None else make_store(config, tracking_uri=tracking_uri),
            system=system,
            strict=(config.capture.strict or env_strict()) if strict is None else strict,
            include_values=(
                config.capture.include_values if include_values is None else include_values
            ),
            config=config,
            signing_key=key if key is not None else signing_key(config_path),
        )

    def with_system(self, system: str | None) -> CaptureContext:
        """The same context for another system."""
        return replace(self, system=system)

    def with_strict(self, strict: bool) -> CaptureContext:
        """The same context with strict mode on or off."""
        return replace(self, strict=strict)

    @cached_property
    def config_digest(self) -> str | None:
        """The digest of the config the evidence was captured under (None without one)."""
        return _digest(self.config)

    def system_config(self, system: str | None = None) -> Any:
        """The ``aims.yaml`` entry of ``system`` (default: the context's system), or None."""
        return _system_config(self.config, system if system is not None else self.system)

    def thresholds(self, section: str, system: str | None = None) -> dict[str, dict[str, float]]:
        """The declared ``fairness`` or ``performance`` thresholds of a system, as plain dicts."""
        system_config = self.system_config(system)
        if system_config is None:
            return {}
        declared = getattr(system_config, section, None) or {}
        return {
            name: {k: v for k, v in bound.model_dump().items() if v is not None}
            for name, bound in declared.items()
        }


@dataclass(frozen=True, kw_only=True)
class Session:
    """What this process is bound to: the config, the system, the capture settings.

    Frozen: ``aims_mlops.init(...)`` binds a new one; the store is built on first use.
    :meth:`context` turns it into the explicit :class:`CaptureContext` of one capture.
    """

    config_path: Path | None = None
    config: AimsConfig | None = None
    system: str | None = None
    strict: bool = False
    include_values: bool = False
    tracking_uri: str | None = None

    #: the stores written so far, one per tracking URI (this session's own cache)
    _stores: dict[str, EvidenceStore] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _stores_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )
    #: whether this session already warned that its records go unsigned (warned once)
    _unsigned_warned: list[bool] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @property
    def pinned_uri(self) -> str | None:
        """The tracking URI ``init(tracking_uri=...)`` or the config's ``store.tracking_uri``
        names; None: records follow MLflow's current tracking URI."""
        if self.tracking_uri:
            return self.tracking_uri
        return self.config.store.tracking_uri if self.config is not None else None

    def store_for(self, tracking_uri: str | None = None) -> EvidenceStore:
        """The evidence store at ``tracking_uri`` (default: the pinned URI, else MLflow's
        current one, read now: a later ``mlflow.set_tracking_uri()`` moves capture with it),
        with the config's evidence experiment and spool; one per URI."""
        uri = tracking_uri or self.pinned_uri or current_tracking_uri()
        with self._stores_lock:
            if uri not in self._stores:
                self._stores[uri] = make_store(self.config, tracking_uri=uri)
            return self._stores[uri]

    @property
    def store(self) -> EvidenceStore:
        """The evidence store records without a run go to now (see :meth:`store_for`)."""
        return self.store_for()

    @cached_property
    def config_digest(self) -> str | None:
        return _digest(self.config)

    @cached_property
    def recorded_configuration(self) -> EvidenceRecord | None:
        """The working copy's ``configuration`` record, written once per session before its
        first capture (None: already in the store, no aims.yaml, or it could not be written)."""
        if self.config_path is None or self.config is None:
            return None
        try:
            key = run_signing_key(strict=self.strict, config_path=self.config_path)
        except SigningKeyError:
            key = None
        context = CaptureContext(
            store=self.store, strict=self.strict, config=self.config, signing_key=key
        )
        return record_configuration(context, self.config_path)

    def system_config(self, system: str | None) -> Any:
        return _system_config(self.config, system)

    def context(
        self,
        *,
        system: str | None = None,
        strict: bool | None = None,
        include_values: bool | None = None,
        key_required: bool = False,
        for_run: bool = False,
        tracking_uri: str | None = None,
    ) -> CaptureContext:
        """The capture context of this session (for ``system``, default the bound one).

        Its store: ``tracking_uri`` (the store of the run the records are about, as autolog
        knows it), else for evidence about the active run (``for_run``) MLflow's current
        tracking URI, where that run lives; else :meth:`store_for`'s default.
        In a run, an unusable ``$AIMS_SIGNING_KEY`` warns and leaves records unsigned unless
        strict; ``key_required`` (a person's act: an attestation, an incident) raises instead.
        """
        strict = self.strict if strict is None else strict
        if tracking_uri is None and for_run:
            tracking_uri = current_tracking_uri()
        _ = self.recorded_configuration  # aims.yaml is recorded before capture uses it
        key = (
            signing_key(self.config_path)
            if key_required
            else run_signing_key(strict=strict, config_path=self.config_path)
        )
        if key is None and not key_required:
            self._missing_key(strict=strict)
        return CaptureContext(
            store=self.store_for(tracking_uri),
            system=system if system is not None else self.system,
            strict=strict,
            include_values=self.include_values if include_values is None else include_values,
            config=self.config,
            signing_key=key,
        )

    def _missing_key(self, *, strict: bool) -> None:
        """No key signs this session's records though aims.yaml ``trust:`` requires signatures:
        warn once per session (raise in strict mode); capture goes on unsigned otherwise."""
        trust = self.config.trust if self.config is not None else None
        if trust is None or not trust.requires_signatures or trust.unsigned:
            return
        message = WARNING_SIGNING_KEY_MISSING.format(
            path=default_pipeline_key_path(_config_dir(self.config_path))
        )
        if strict:
            raise CaptureError(message)
        with self._stores_lock:
            if self._unsigned_warned:
                return
            self._unsigned_warned.append(True)
        warnings.warn(AimsWarning(message), stacklevel=4)


_lock = threading.Lock()
_session: Session | None = None


def _load_config_quietly(path: Path) -> AimsConfig | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        warnings.warn(
            AimsWarning(WARNING_CONFIG_UNUSABLE.format(path=path, error=exc)), stacklevel=3
        )
        return None


def default_session() -> Session:
    """A session from the environment: ``$AIMS_CONFIG`` / ``./aims.yaml`` and ``$AIMS_SYSTEM``."""
    path = default_config_path()
    config = _load_config_quietly(path) if path.is_file() else None
    capture = config.capture if config is not None else None
    return Session(
        config_path=path if config is not None else None,
        config=config,
        system=os.environ.get(ENV_SYSTEM) or None,
        strict=env_strict() or bool(capture and capture.strict),
        include_values=bool(capture and capture.include_values),
    )


def get_session() -> Session:
    """The session this process is bound to (built from the environment on first use)."""
    global _session
    with _lock:
        if _session is None:
            _session = default_session()
        return _session


def bind_session(session: Session) -> None:
    """Bind the process to ``session``: only ``aims_mlops.init`` does this."""
    global _session
    with _lock:
        _session = session


def reset_session() -> None:
    """Forget the bound session; the next use rebuilds it from the environment."""
    global _session
    with _lock:
        _session = None


def resolve_system(
    explicit: str | None = None,
    *,
    experiment_name: str | Callable[[], str | None] | None = None,
) -> str | None:
    """The AI system evidence belongs to, the one answer everywhere: explicit (an argument, a
    run's ``aims.system`` tag) > ``init`` > ``$AIMS_SYSTEM`` > the config's experiment-to-system
    mapping. ``experiment_name`` may be a function: it is called only when the mapping is the
    last resort (reading it can cost a round trip to the store)."""
    if explicit:
        return explicit
    session = get_session()
    if session.system:
        return session.system
    from_env = os.environ.get(ENV_SYSTEM)
    if from_env:
        return from_env
    if session.config is None or experiment_name is None:
        return None
    name = experiment_name() if callable(experiment_name) else experiment_name
    return session.config.system_for_experiment(name) if name else None


def required_system(explicit: str | None) -> str:
    """:func:`resolve_system` with the active run's experiment mapping; an error when none."""
    system = resolve_system(explicit, experiment_name=active_experiment_name)
    if not system:
        raise AimsError(ERROR_NO_SYSTEM)
    return system


def active_run_id(run_id: str | None) -> str | None:
    """``run_id``, else the active MLflow run's id (None without one)."""
    if run_id is not None:
        return run_id
    import mlflow

    active = mlflow.active_run()
    return active.info.run_id if active is not None else None


def active_experiment_name() -> str | None:
    """The active MLflow run's experiment name (None without one, or with a warning when it
    cannot be read)."""
    import sys

    if "mlflow" not in sys.modules:  # no run can be active without mlflow imported
        return None
    import mlflow

    active = mlflow.active_run()
    if active is None:
        return None
    try:
        return mlflow.MlflowClient().get_experiment(active.info.experiment_id).name
    except Exception as exc:  # an unreachable store must not break the caller's run
        warnings.warn(
            AimsWarning(WARNING_NO_EXPERIMENT.format(error=f"{type(exc).__name__}: {exc}")),
            stacklevel=4,
        )
        return None


def mirror_metrics(
    context: CaptureContext, run_id: str | None, metrics: Mapping[str, float], prefix: str
) -> None:
    """Mirror a record's numbers as run metrics, so they show up in MLflow's own UI.

    Best effort: the record already holds the numbers, so an unreachable store only costs the
    mirror, and any other refusal a warning, never the run.
    """
    if run_id is None or not metrics:
        return
    try:
        context.store.log_run_metrics(run_id, {f"{prefix}.{k}": v for k, v in metrics.items()})
    except AimsError as exc:
        warnings.warn(
            AimsWarning(WARNING_NOT_MIRRORED.format(run_id=run_id, error=exc)), stacklevel=3
        )
