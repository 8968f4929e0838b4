"""The model version an AI system currently uses: what the store finds in the registry and the
engine judges evidence against (below both: neither imports the other for it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace


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


@dataclass(frozen=True, kw_only=True)
class ModelBinding(Mapping[str, "str | None"]):
    """Where a system's current model is found: a registered model at an alias (or pinned to a
    version), else the latest finished run of an experiment. A read-only mapping of those
    keywords too, as the store's ``current_models`` takes them."""

    registered_model: str | None = None
    alias: str | None = None
    version: str | None = None
    experiment: str | None = None

    def pinned(self, version: str) -> ModelBinding:
        """The same binding at ``version``."""
        return replace(self, version=version)

    def __getitem__(self, key: str) -> str | None:
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    @classmethod
    def _keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


#: No current model: judged without one.
UNBOUND = ModelBinding()
