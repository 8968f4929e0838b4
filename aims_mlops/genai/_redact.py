"""Redaction of personal data in the traces MLflow writes (an MLflow 3 span processor).

``mlflow.tracing.configure(span_processors=[...])`` runs each processor on a span as it ends,
before it is exported: :func:`redact_span` replaces the personal data :func:`find_pii` finds in
the span's inputs and outputs with ``<ENTITY_TYPE>``. The trace's request and response previews
are taken from the root span, so they are redacted too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from aims_mlops.genai._detect import redact_value

_lock = threading.Lock()
_redacted = 0


def redact_span(span: Any) -> None:
    """Redact personal data in a live span's inputs and outputs (in place)."""
    global _redacted
    changed = False
    inputs = span.inputs
    if inputs is not None:
        clean = redact_value(inputs)
        if clean != inputs:
            span.set_inputs(clean)
            changed = True
    outputs = span.outputs
    if outputs is not None:
        clean = redact_value(outputs)
        if clean != outputs:
            span.set_outputs(clean)
            changed = True
    if changed:
        with _lock:
            _redacted += 1


def redacted_count() -> int:
    """How many spans :func:`redact_span` changed in this process."""
    return _redacted


@contextlib.contextmanager
def redacting_traces(enabled: bool = True) -> Iterator[None]:
    """Within the block, every span MLflow ends is redacted (after any processors already set)."""
    if not enabled:
        yield
        return
    import mlflow
    from mlflow.tracing.config import get_config

    current = list(get_config().span_processors)
    if redact_span in current:
        yield
        return
    with mlflow.tracing.configure(span_processors=[*current, redact_span]):
        yield
