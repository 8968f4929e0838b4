"""Views: what an AI system's owner sees in a notebook — its score, risks, controls, evidence, gaps.

A view renders the conformity engine's result and never decides a status itself. The data each
view shows is the pure view-model (:func:`dashboard_model`, :func:`portfolio_model`; no
ipywidgets needed, testable on its own); :func:`dashboard` and :func:`portfolio` render it with
standard ipywidgets 8 widgets (imported on first use).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aims_mlops.views._model import (
    PAGE_SIZE,
    SORT_KEYS,
    ControlGroup,
    ControlRow,
    DashboardModel,
    EvidenceRow,
    HeatCell,
    Page,
    PortfolioModel,
    PortfolioRow,
    RiskRow,
    dashboard_model,
    portfolio_model,
)

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.judgement import Judgement
    from aims_mlops.views._attest_form import AttestationRequest, AttestCallback
    from aims_mlops.views._dashboard import Dashboard
    from aims_mlops.views._portfolio import Portfolio


def dashboard(
    system: str | None = None,
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    model_version: str | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
    on_attest: AttestCallback | None = None,
) -> Dashboard:
    """The ipywidgets dashboard of one system (default: the only in-scope system).

    The attestation form shows only with ``on_attest`` (a callback that records the request;
    ``aims_mlops.dashboard`` wires it to capture) and not ``read_only``.
    """
    from aims_mlops.views._dashboard import dashboard as _dashboard

    return _dashboard(
        system,
        config=config,
        model_version=model_version,
        judgement=judgement,
        read_only=read_only,
        on_attest=on_attest,
    )


def portfolio(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
    on_attest: AttestCallback | None = None,
) -> Portfolio:
    """The ipywidgets table of every in-scope system; choosing one opens its dashboard."""
    from aims_mlops.views._portfolio import portfolio as _portfolio

    return _portfolio(
        config=config, judgement=judgement, read_only=read_only, on_attest=on_attest
    )


_LAZY = {
    "AttestationForm": "aims_mlops.views._attest_form",
    "AttestationRequest": "aims_mlops.views._attest_form",
    "Dashboard": "aims_mlops.views._dashboard",
    "Portfolio": "aims_mlops.views._portfolio",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'aims_mlops.views' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)


__all__ = [
    "PAGE_SIZE",
    "SORT_KEYS",
    "AttestationRequest",
    "ControlGroup",
    "ControlRow",
    "Dashboard",
    "DashboardModel",
    "EvidenceRow",
    "HeatCell",
    "Page",
    "Portfolio",
    "PortfolioModel",
    "PortfolioRow",
    "RiskRow",
    "dashboard",
    "dashboard_model",
    "portfolio",
    "portfolio_model",
]
