"""The one place this package reaches into capture and judgement."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aims_mlops.capture import CaptureContext
    from aims_mlops.evidence import EvidenceRecord


def judge(**kwargs: Any) -> Any:
    """:func:`aims_mlops.judgement.judge` (config, catalog, evidence, then the engine)."""
    from aims_mlops.judgement import judge as _judge

    return _judge(**kwargs)


def capture_context(config: str | os.PathLike[str] | None) -> CaptureContext:
    """A capture context for ``config`` (a context of its own: the process's session is left
    alone), else the session's (``aims_mlops.init`` or ``$AIMS_CONFIG`` / ``./aims.yaml``)."""
    from aims_mlops.capture import CaptureContext, get_session

    if config is None:
        return get_session().context(key_required=True)
    from aims_mlops.config import load_config

    return CaptureContext.from_config(load_config(config))


def act_context(
    config: str | os.PathLike[str] | None, *, by: str | None, key: Any
) -> tuple[str | None, CaptureContext]:
    """The person acting and a capture context signing with their own key (a person's act:
    never the pipeline key; see :func:`aims_mlops.capture._acts.act_context`)."""
    from aims_mlops.capture._acts import act_context as _act_context

    return _act_context(config, by=by, key=key)


def emit(context: CaptureContext, record: EvidenceRecord) -> EvidenceRecord:
    """Store ``record`` through ``context`` (signed when a key is set; spooled when the store is
    unreachable)."""
    from aims_mlops.capture import emit as _emit

    return _emit(context, record)
