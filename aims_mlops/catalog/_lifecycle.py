"""The AIMS lifecycle as catalog data: ordered phases, each catalog entry in exactly one, with an
effort estimate in person-days (``lifecycle.yaml``)."""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aims_mlops._errors import CatalogError
from aims_mlops._yaml import safe_load
from aims_mlops.catalog._catalog import Catalog, load_catalog

LIFECYCLE_RESOURCE = "lifecycle.yaml"

ERROR_LIFECYCLE_MALFORMED = "{source}: not a lifecycle document: {problem}"
ERROR_LIFECYCLE_UNKNOWN = "{source}: phase {phase!r} names {id!r}, which is not a catalog id"
ERROR_LIFECYCLE_TWICE = "{source}: {id!r} is in phase {first!r} and again in phase {second!r}"
ERROR_LIFECYCLE_MISSING = "{source}: catalog entries in no phase: {ids}"
ERROR_LIFECYCLE_EFFORT = (
    "{source}: phase {phase!r}: the effort of {id!r} must be a number of days >= 0; got {value!r}"
)
ERROR_LIFECYCLE_PHASE_ID = "{source}: phase #{index} needs an id and a title"


@dataclass(frozen=True, kw_only=True)
class Phase:
    """One phase: its id, title, one line of what it is, and its entries with their effort."""

    id: str
    title: str
    what: str
    effort_days: Mapping[str, float]

    @property
    def entries(self) -> tuple[str, ...]:
        return tuple(self.effort_days)


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """The ordered phases; every catalog entry is in exactly one."""

    phases: tuple[Phase, ...]

    def phase_of(self, entry_id: str) -> Phase:
        for phase in self.phases:
            if entry_id in phase.effort_days:
                return phase
        raise CatalogError(ERROR_LIFECYCLE_MISSING.format(source="lifecycle", ids=entry_id))

    def effort(self, entry_id: str, overrides: Mapping[str, float] | None = None) -> float:
        """Person-days to close ``entry_id`` once (``overrides``: aims.yaml's, when given)."""
        if overrides and entry_id in overrides:
            return float(overrides[entry_id])
        return float(self.phase_of(entry_id).effort_days[entry_id])


def _effort(source: str, phase: str, entry_id: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CatalogError(
            ERROR_LIFECYCLE_EFFORT.format(source=source, phase=phase, id=entry_id, value=value)
        )
    return float(value)


def parse_lifecycle(text: str, catalog: Catalog, *, source: str = LIFECYCLE_RESOURCE) -> Lifecycle:
    """Parse and check a lifecycle document against ``catalog``: every entry in exactly one
    phase, no unknown id, efforts numbers of days."""
    data = safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("phases"), list):
        raise CatalogError(
            ERROR_LIFECYCLE_MALFORMED.format(source=source, problem="no list under 'phases'")
        )
    phases: list[Phase] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(data["phases"], start=1):
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("title"):
            raise CatalogError(ERROR_LIFECYCLE_PHASE_ID.format(source=source, index=index))
        phase_id = str(raw["id"])
        entries = raw.get("entries") or {}
        if not isinstance(entries, dict):
            raise CatalogError(
                ERROR_LIFECYCLE_MALFORMED.format(
                    source=source, problem=f"phase {phase_id!r}: entries must be a mapping"
                )
            )
        efforts: dict[str, float] = {}
        for entry_id, value in entries.items():
            key = str(entry_id)
            if key not in catalog:
                raise CatalogError(
                    ERROR_LIFECYCLE_UNKNOWN.format(source=source, phase=phase_id, id=key)
                )
            if key in seen:
                raise CatalogError(
                    ERROR_LIFECYCLE_TWICE.format(
                        source=source, id=key, first=seen[key], second=phase_id
                    )
                )
            seen[key] = phase_id
            efforts[key] = _effort(source, phase_id, key, value)
        phases.append(
            Phase(
                id=phase_id,
                title=str(raw["title"]),
                what=str(raw.get("what") or ""),
                effort_days=efforts,
            )
        )
    missing = [e.id for e in catalog.entries if e.id not in seen]
    if missing:
        raise CatalogError(ERROR_LIFECYCLE_MISSING.format(source=source, ids=", ".join(missing)))
    return Lifecycle(phases=tuple(phases))


@functools.cache
def load_lifecycle() -> Lifecycle:
    """The lifecycle shipped with aims_mlops, checked against the shipped catalog (cached)."""
    resource = importlib.resources.files("aims_mlops.catalog").joinpath(LIFECYCLE_RESOURCE)
    return parse_lifecycle(resource.read_text(encoding="utf-8"), load_catalog())
