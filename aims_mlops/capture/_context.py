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
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsWarning, ConfigError
from aims_mlops.capture._configuration import record_configuration
from aims_mlops.evidence import SigningKeyError
from aims_mlops.evidence._signing import pipeline_key

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord, SigningKey
    from aims_mlops.store import EvidenceStore

ENV_SYSTEM = "AIMS_SYSTEM"
ENV_STRICT = "AIMS_STRICT"
DEFAULT_EVIDENCE_EXPERIMENT = "aims-evidence"
DEFAULT_SPOOL_DIR = ".aims/spool"

WARNING_CONFIG_UNUSABLE = (
    "aims_mlops: {path} could not be loaded, capture runs without it:\n{error}"
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
    from aims_mlops.config import default_config_path

    return default_config_path().parent


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
            raise
        warnings.warn(AimsWarning(WARNING_SIGNING_KEY_UNUSABLE.format(error=exc)), stacklevel=3)
        return None


def make_store(config: AimsConfig | None, *, tracking_uri: str | None = None) -> EvidenceStore:
    """The evidence store the config (or MLflow's own defaults) points at."""
    from aims_mlops.store import EvidenceStore

    settings = config.store if config is not None else None
    return EvidenceStore(
        tracking_uri=tracking_uri or (settings.tracking_uri if settings else None),
        evidence_experiment=(
            settings.evidence_experiment if settings else DEFAULT_EVIDENCE_EXPERIMENT
        ),
        spool_dir=settings.spool_dir if settings else DEFAULT_SPOOL_DIR,
    )


def _system_config(config: AimsConfig | None, system: str | None) -> Any:
    if config is None or system is None:
        return None
    return next((s for s in config.systems if s.id == system), None)


def _digest(config: AimsConfig | None) -> str | None:
    if config is None:
        return None
    from aims_mlops.config import config_digest

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

    @cached_property
    def store(self) -> EvidenceStore:
        """The evidence store of the session's config (or MLflow's defaults), built once."""
        return make_store(self.config, tracking_uri=self.tracking_uri)

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
        return record_configuration(
            self.store, self.config_path, key=key, strict=self.strict
        )

    def system_config(self, system: str | None) -> Any:
        return _system_config(self.config, system)

    def context(
        self,
        *,
        system: str | None = None,
        strict: bool | None = None,
        include_values: bool | None = None,
        key_required: bool = False,
    ) -> CaptureContext:
        """The capture context of this session (for ``system``, default the bound one).

        In a run, an unusable ``$AIMS_SIGNING_KEY`` warns and leaves records unsigned unless
        strict; ``key_required`` (a person's act: an attestation, an incident) raises instead.
        """
        strict = self.strict if strict is None else strict
        _ = self.recorded_configuration  # aims.yaml is recorded before capture uses it
        return CaptureContext(
            store=self.store,
            system=system if system is not None else self.system,
            strict=strict,
            include_values=self.include_values if include_values is None else include_values,
            config=self.config,
            signing_key=(
                signing_key(self.config_path)
                if key_required
                else run_signing_key(strict=strict, config_path=self.config_path)
            ),
        )


_lock = threading.Lock()
_session: Session | None = None


def _load_config_quietly(path: Path) -> AimsConfig | None:
    from aims_mlops.config import load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        warnings.warn(
            AimsWarning(WARNING_CONFIG_UNUSABLE.format(path=path, error=exc)), stacklevel=3
        )
        return None


def default_session() -> Session:
    """A session from the environment: ``$AIMS_CONFIG`` / ``./aims.yaml`` and ``$AIMS_SYSTEM``."""
    from aims_mlops.config import default_config_path

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
    explicit: str | None = None, *, experiment_name: str | None = None
) -> str | None:
    """The AI system evidence belongs to: explicit > ``init`` > ``$AIMS_SYSTEM`` > the config's
    experiment-to-system mapping."""
    if explicit:
        return explicit
    session = get_session()
    if session.system:
        return session.system
    from_env = os.environ.get(ENV_SYSTEM)
    if from_env:
        return from_env
    if experiment_name and session.config is not None:
        return session.config.system_for_experiment(experiment_name)
    return None
