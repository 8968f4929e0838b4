"""The one place this package reaches into capture and judgement (their modules are moving).

After the capture/judgement split, re-point these two imports and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord
    from aims_mlops.store import EvidenceStore


def judge(**kwargs: Any) -> Any:
    """:func:`aims_mlops._judge.judge` (config, catalog, evidence, then the engine)."""
    from aims_mlops._judge import judge as _judge

    return _judge(**kwargs)


def session_config(config: str | os.PathLike[str] | None) -> AimsConfig | None:
    """The configuration capture uses: ``config`` when given (it becomes the session's), else
    the current session's (``$AIMS_CONFIG`` / ``./aims.yaml``)."""
    from aims_mlops import _capture

    if config is None:
        return _capture.get_session().config
    from aims_mlops.config import load_config

    loaded = load_config(config)
    _capture.set_session(
        _capture.Session(config_path=Path(config), config=loaded, strict=loaded.capture.strict)
    )
    return loaded


def emit(record: EvidenceRecord) -> EvidenceRecord:
    """Store ``record`` through the session (signed when a key is set; spooled when the store
    is unreachable)."""
    from aims_mlops import _capture

    return _capture.emit(record)


def store() -> EvidenceStore:
    """The session's evidence store."""
    from aims_mlops import _capture

    return _capture.get_session().store
