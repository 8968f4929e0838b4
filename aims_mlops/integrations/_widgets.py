"""The notebook widgets wired to capture: ``aims_mlops.dashboard`` and ``aims_mlops.portfolio``.

The views only read; their attestation form hands an
:class:`~aims_mlops.views.AttestationRequest` to a callback. This module is that callback's
caller-side wiring: :func:`record_attestation` records it through
:func:`aims_mlops.capture.attest`, and :func:`dashboard` / :func:`portfolio` pass the session's
bound system and config (``aims_mlops.init``) to the views.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops import views
from aims_mlops.capture import attest, get_session, resolve_system

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.judgement import Judgement
    from aims_mlops.views import AttestationRequest, Dashboard, Portfolio


def _default_config() -> str | os.PathLike[str] | None:
    """The config the session was bound to (``aims_mlops.init(config=...)``), if any."""
    session = get_session()
    return session.config_path if session.config is not None else None


def _config_for(path: Path | None) -> str | None:
    """The config to hand to ``attest``: None when the session already uses ``path``."""
    if path is None:
        return None
    bound = get_session().config_path
    if bound is not None and Path(bound).resolve() == path.resolve():
        return None
    return str(path)


def record_attestation(request: AttestationRequest) -> EvidenceRecord:
    """Record a dashboard form's attestation through capture (signed by ``$AIMS_SIGNING_KEY``)."""
    return attest(
        request.control,
        by=request.by,
        document=request.document,
        valid_days=request.valid_days,
        statement=request.statement,
        config=_config_for(request.config_path),
        **({"org": True} if request.system is None else {"system": request.system}),
    )


def dashboard(
    system: str | None = None,
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    model_version: str | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
) -> Dashboard:
    """The dashboard of ``system`` (default: the bound system, or the only in-scope one).

    ``read_only=True`` leaves out the attestation form (for Voila and reviewers); otherwise the
    form records through :func:`record_attestation`.
    """
    return views.dashboard(
        resolve_system(system),
        config=config if config is not None or judgement is not None else _default_config(),
        model_version=model_version,
        judgement=judgement,
        read_only=read_only,
        on_attest=None if read_only else record_attestation,
    )


def portfolio(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
) -> Portfolio:
    """The table of every in-scope system; its dashboards record attestations unless
    ``read_only``."""
    return views.portfolio(
        config=config if config is not None or judgement is not None else _default_config(),
        judgement=judgement,
        read_only=read_only,
        on_attest=None if read_only else record_attestation,
    )
