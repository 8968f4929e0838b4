"""GenAI evidence: LLM applications evaluated, red-teamed and monitored from their traces.

A *GenAI evaluation* is one ``mlflow.genai.evaluate`` over a system's evaluation rows and the
bundled red-team suite (prompt-injection and jailbreak attacks in named categories, each carrying
a random rogue string whose appearance in the output marks success), scored by offline,
code-based scorers: personal data in outputs (presidio's pattern recognizers), toxicity
(alt-profanity-check), refusals, lexical groundedness against the retrieved context, and attack
success. The ``genai_evaluation`` record holds the rates per category, judged against the
system's ``genai.thresholds``; it is the verification evidence of an LLM application.

*Trace monitoring* reads a system's MLflow traces back (``monitor_traces``): how many requests,
over how many days, the share with errors, personal data in outputs, latency percentiles, and
whether a retention period is declared. Its ``monitoring.traces`` record is operation monitoring
and the inference event log of the system.

Evidence holds rates, counts and categories, never prompts or outputs unless
``include_values=True``; traces MLflow writes during :func:`assess_genai` are redacted of the
personal data found in them. The scorers are usable in a user's own ``mlflow.genai.evaluate``
call (``scorers=aims_mlops.genai.default_scorers()``); :func:`genai_evaluation_from_run` turns
such a run into evidence. This package builds records and never writes: ``assess_genai``,
``monitor_traces`` and ``genai_evaluation_from_run`` are :mod:`aims_mlops.capture`'s, which hands
the records to the one writer. Everything here loads MLflow, presidio and scikit-learn on first
use.
"""

from __future__ import annotations

import importlib
from typing import Any

from aims_mlops.genai._scorers import scorer

_LAZY: dict[str, str] = {
    "evaluate_genai": "aims_mlops.genai._assess",
    "GenaiBinding": "aims_mlops.genai._binding",
    "genai_record": "aims_mlops.genai._assess",
    "RowVerdict": "aims_mlops.genai._assess",
    "evaluation_from_run": "aims_mlops.genai._from_run",
    "trace_evidence": "aims_mlops.genai._traces",
    "trace_record": "aims_mlops.genai._traces",
    "TraceStats": "aims_mlops.genai._traces",
    "default_scorers": "aims_mlops.genai._scorers",
    "Attack": "aims_mlops.genai._red_team",
    "red_team_suite": "aims_mlops.genai._red_team",
    "redact_span": "aims_mlops.genai._redact",
    "redacting_traces": "aims_mlops.genai._redact",
    "find_pii": "aims_mlops.genai._detect",
    "redact_text": "aims_mlops.genai._detect",
    "genai_section_html": "aims_mlops.genai._views",
    "genai_section_markdown": "aims_mlops.genai._views",
    "genai_widget": "aims_mlops.genai._views",
}
#: The scorers, by public name (``aims_mlops.genai.pii_leak`` is an MLflow scorer object).
_SCORERS = ("injection_success", "pii_leak", "toxicity", "refusal", "groundedness")

__all__ = [*_LAZY, *_SCORERS]


def __getattr__(name: str) -> Any:
    if name in _SCORERS:
        value = scorer(name)
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'aims_mlops.genai' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
