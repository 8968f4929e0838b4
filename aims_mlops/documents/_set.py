"""The AIMS document set as catalog data (``catalog/documents.yaml``): which documents exist,
which catalog entries each serves, and their sections."""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass

from aims_mlops._errors import CatalogError
from aims_mlops._yaml import safe_load
from aims_mlops.catalog import Catalog, load_catalog

DOCUMENTS_RESOURCE = "documents.yaml"
DEFAULT_REVIEW_DAYS = 365

ERROR_DOCUMENTS_MALFORMED = "{source}: {problem}"
ERROR_DOCUMENTS_UNKNOWN = "{source}: document {id} serves {entry!r}, which is not a catalog id"
ERROR_DOCUMENTS_UNSERVED = (
    "{source}: the catalog asks for an attestation for {entries}, which no document serves"
)


@dataclass(frozen=True, kw_only=True)
class SectionSpec:
    """A section: its heading, and either what the tool fills in or what a person writes."""

    heading: str
    fill: str | None = None
    ask: str | None = None


@dataclass(frozen=True, kw_only=True)
class DocumentSpec:
    """One document of the set."""

    id: str
    file: str
    title: str
    entries: tuple[str, ...]
    sections: tuple[SectionSpec, ...]
    per_system: bool = False
    review_days: int = DEFAULT_REVIEW_DAYS


def parse_documents(
    text: str, catalog: Catalog, *, source: str = DOCUMENTS_RESOURCE
) -> tuple[DocumentSpec, ...]:
    """Parse the document set and check it: known entries, every attestation part served."""
    data = safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise CatalogError(
            ERROR_DOCUMENTS_MALFORMED.format(source=source, problem="no list under 'documents'")
        )
    specs: list[DocumentSpec] = []
    for raw in data["documents"]:
        entries = tuple(str(e) for e in raw.get("entries") or ())
        for entry in entries:
            if entry not in catalog:
                raise CatalogError(
                    ERROR_DOCUMENTS_UNKNOWN.format(source=source, id=raw.get("id"), entry=entry)
                )
        specs.append(
            DocumentSpec(
                id=str(raw["id"]),
                file=str(raw["file"]),
                title=str(raw["title"]),
                entries=entries,
                per_system=bool(raw.get("per_system", False)),
                review_days=int(raw.get("review_days", DEFAULT_REVIEW_DAYS)),
                sections=tuple(
                    SectionSpec(heading=str(s["heading"]), fill=s.get("fill"), ask=s.get("ask"))
                    for s in raw.get("sections") or ()
                ),
            )
        )
    served = {e for spec in specs for e in spec.entries}
    wanted = [
        e.id
        for e in catalog.entries
        if any(q.kind == "attestation" for p in e.rule.parts for q in p.walk())
    ]
    unserved = [e for e in wanted if e not in served]
    if unserved:
        raise CatalogError(
            ERROR_DOCUMENTS_UNSERVED.format(source=source, entries=", ".join(unserved))
        )
    return tuple(specs)


@functools.cache
def load_documents() -> tuple[DocumentSpec, ...]:
    """The document set shipped with aims_mlops (cached)."""
    resource = importlib.resources.files("aims_mlops.catalog").joinpath(DOCUMENTS_RESOURCE)
    return parse_documents(resource.read_text(encoding="utf-8"), load_catalog())


def document_for(entry_id: str) -> DocumentSpec | None:
    """The document of the set that serves ``entry_id`` (None: none does)."""
    return next((d for d in load_documents() if entry_id in d.entries), None)
