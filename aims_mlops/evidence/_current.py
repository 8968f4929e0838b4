"""The model version an AI system currently uses: what the store finds in the registry and the
engine judges evidence against (below both: neither imports the other for it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class CurrentModel:
    """The model version an AI system currently uses (for example the registry alias target).

    Run-level evidence counts for the system only when it is about this version, its run, or (for
    data quality) one of its datasets.
    """

    name: str
    version: str | None
    run_id: str | None
    dataset_digests: tuple[str, ...] = ()
    alias: str | None = None
    #: when the version was registered (ISO 8601), if the registry says
    registered_at: str | None = None

    def describe(self) -> str:
        """Short human label, e.g. ``credit-model version 3``."""
        if self.version is not None:
            return f"{self.name} version {self.version}"
        if self.run_id is not None:
            return f"{self.name} (run {self.run_id[:8]})"
        return self.name
