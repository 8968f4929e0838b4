"""What a GenAI collector is told about the system it collects for; capture builds it.

The genai package never reaches into the capture layer: :mod:`aims_mlops.capture._genai`
resolves the system from the session, builds a :class:`GenaiBinding` and hands the record the
collector produced to the one writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class GenaiBinding:
    """The system a GenAI record is about and what ``aims.yaml`` declares for it."""

    system: str
    #: the system's entry of aims.yaml (None without a config or for an undeclared system)
    system_config: Any = None
    #: whether prompts and outputs may enter evidence
    include_values: bool = False
    #: the digest of the config the evidence is captured under
    config_digest: str | None = None

    @property
    def settings(self) -> Any:
        """The system's ``genai`` section (None when undeclared)."""
        return getattr(self.system_config, "genai", None)

