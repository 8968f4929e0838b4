"""aims_mlops: ISO/IEC 42001 AI management system evidence from everyday MLflow and Jupyter work.

Evidence is captured where models are built (MLflow runs, notebooks, pipelines), judged by a pure
conformity engine against the ISO/IEC 42001 clauses and Annex A controls, and shown to the people
who own each AI system.

The public API is loaded lazily: ``import aims_mlops`` imports no MLflow, Great Expectations,
fairlearn, scikit-learn or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import Any

from aims_mlops._errors import (
    AimsError,
    AimsWarning,
    CaptureError,
    CatalogError,
    ConfigError,
    DataError,
    EvidenceError,
    StoreError,
)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY: dict[str, str] = {
    "init": "aims_mlops.capture",
    "summary": "aims_mlops.judgement",
    "status": "aims_mlops.judgement",
    "attest": "aims_mlops.capture",
    "record_incident": "aims_mlops.capture",
    "record_internal_audit": "aims_mlops.capture",
    "record_management_review": "aims_mlops.capture",
    "autolog": "aims_mlops.capture",
    "check_data": "aims_mlops.capture",
    "assess_fairness": "aims_mlops.capture",
    "validate_performance": "aims_mlops.capture",
    "monitor": "aims_mlops.capture",
    "assess_genai": "aims_mlops.capture",
    "monitor_traces": "aims_mlops.capture",
    "dashboard": "aims_mlops.integrations._widgets",
    "portfolio": "aims_mlops.integrations._widgets",
    "load_config": "aims_mlops.config",
    "load_catalog": "aims_mlops.catalog",
    "EvidenceRecord": "aims_mlops.evidence",
    "evaluate_gate": "aims_mlops.judgement",
    "run_gate": "aims_mlops.capture",
    "GateResult": "aims_mlops.judgement",
}

__all__ = [
    "AimsError",
    "AimsWarning",
    "CaptureError",
    "CatalogError",
    "ConfigError",
    "DataError",
    "EvidenceError",
    "StoreError",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'aims_mlops' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext aims_mlops``: bind the notebook to a system and turn capture on."""
    from aims_mlops.integrations.ipython import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from aims_mlops.integrations.ipython import unload_ipython_extension as _unload

    _unload(ipython)
