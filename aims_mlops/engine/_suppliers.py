"""Suppliers found in lineage (pure): the one answer to "which third parties does the AI work
depend on", read by A.10.2 / A.10.3 (the engine), ``aims validate`` (an SoA that excludes them)
and the supplier register document (``aims docs init``).

A third-party data source is a dataset of a ``lineage.datasets`` record whose source is outside
the organization: a remote URL (http(s), Hugging Face), another's bucket (``s3://``, ``gs://``,
Azure) or a DOI; MLflow's ``source_type`` http / huggingface says so too. A third-party model is
an external foundation model of ``systems[].genai`` or a ``lineage.model`` record marked
``external``. Each supplier has one name (the host, the DOI, the bucket, the model provider), the
name the supplier register lists and covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aims_mlops.catalog._catalog import THIRD_PARTY_LINEAGE

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord

#: dataset source types that are someone else's (MLflow's ``source_type``)
REMOTE_SOURCE_TYPES = frozenset({"http", "https", "huggingface", "hf", "url"})
_LOCATION = re.compile(
    r"\b(?:(?:https?|s3a?|gs|hf|huggingface|abfss?|wasbs?)://|doi\.org/)[^\s,;)\]]+", re.I
)
_BUCKET_SCHEMES = frozenset({"s3", "s3a", "gs", "abfs", "abfss", "wasb", "wasbs"})


@dataclass(frozen=True, kw_only=True)
class Supplier:
    """A third party the AI systems depend on: its name, what it supplies, where it was seen."""

    name: str
    supplies: str  # "data" | "model"
    source: str
    systems: tuple[str, ...]
    evidence: tuple[str, ...]
    #: the datasets (or models) seen from it, by name
    items: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "supplies": self.supplies,
            "source": self.source,
            "systems": list(self.systems),
            "evidence": list(self.evidence),
            "items": list(self.items),
        }

    @property
    def label(self) -> str:
        """``dataset adult-train from doi.org/10.24432/C5XW20``: what a reason names."""
        seen = ", ".join(self.items[:3]) or f"{self.supplies} {self.source[:120]}"
        return f"{seen} from {self.name}"


def _uri(source: Any) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        for key in ("url", "uri", "path", "hf_dataset_name", "repo_id", "table_name"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def supplier_of(source_type: str | None, source: Any) -> tuple[str, str] | None:
    """``(supplier name, the location)`` of a dataset source outside the organization, or None
    (a local path, a table of our own)."""
    text = _uri(source)
    if not text:
        return None
    kind = (source_type or "").lower()
    found = _LOCATION.search(text)
    location = found.group(0).rstrip(".") if found else text.strip()
    parts = urlsplit(location if "://" in location else f"https://{location}")
    scheme = parts.scheme.lower() if "://" in location else ""
    if kind in ("huggingface", "hf") or scheme in ("hf", "huggingface"):
        repo = location.split("://", 1)[-1].split("@")[0]
        return f"Hugging Face ({repo})", location
    if found is None and kind not in REMOTE_SOURCE_TYPES:
        return None
    host = (parts.hostname or "").lower()
    if host in ("doi.org", "dx.doi.org"):
        return f"doi.org{parts.path}", location
    if scheme in _BUCKET_SCHEMES:
        return f"{scheme}://{parts.netloc}", location
    return (host or location), location


def find_suppliers(
    config: AimsConfig | None, records: Iterable[EvidenceRecord]
) -> list[Supplier]:
    """Every third-party data or model source in the lineage records and the configuration
    (None: the records only), merged by name and what it supplies, sorted."""
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def add(
        name: str, supplies: str, source: str, system: str | None, evidence: str, item: str
    ) -> None:
        entry = found.setdefault(
            (name, supplies), {"source": source, "systems": [], "evidence": [], "items": []}
        )
        for key, value in (("systems", system), ("evidence", evidence), ("items", item)):
            if value and value not in entry[key]:
                entry[key].append(value)

    for record in records:
        details = record.details if isinstance(record.details, Mapping) else {}
        if record.kind == "lineage.datasets":
            for dataset in details.get("datasets") or ():
                if not isinstance(dataset, Mapping):
                    continue
                seen = supplier_of(dataset.get("source_type"), dataset.get("source"))
                if seen is not None:
                    name = str(dataset.get("name") or "unnamed")
                    add(seen[0], "data", seen[1], record.system, record.id, f"dataset {name}")
        elif record.kind == "lineage.model" and details.get("external"):
            model = str(details.get("model") or record.subject.model_name or "unnamed")
            provider = str(details.get("provider") or model)
            add(provider, "model", model, record.system, record.id, f"model {model}")
    for system in config.systems if config is not None else ():
        genai = getattr(system, "genai", None)
        model = genai.foundation_model if genai is not None else None
        if model is not None and model.external:
            pinned = model.version or (model.snapshot_date and model.snapshot_date.isoformat())
            add(
                model.provider,
                "model",
                f"{model.model} {pinned}",
                system.id,
                f"aims.yaml systems[{system.id}].genai.foundation_model",
                f"model {model.model}",
            )
    return [
        Supplier(
            name=name,
            supplies=supplies,
            source=entry["source"],
            systems=tuple(entry["systems"]),
            evidence=tuple(entry["evidence"]),
            items=tuple(entry["items"]),
        )
        for (name, supplies), entry in sorted(found.items())
    ]


def uncovered(suppliers: Iterable[Supplier], listed: Iterable[str]) -> list[Supplier]:
    """The ``suppliers`` a register listing ``listed`` (names, compared without case or
    surrounding space) does not cover."""
    names = {" ".join(str(n).split()).casefold() for n in listed}
    return [s for s in suppliers if " ".join(s.name.split()).casefold() not in names]


ERROR_LINEAGE_SUPPLIER_EXCLUDED = (
    "{control!r} cannot be excluded: the lineage in the store shows third-party data or models "
    "({suppliers}); their suppliers must be managed (declare applicable: true and list them in "
    "the supplier register)"
)


def exclusions_against_lineage(
    config: AimsConfig, catalog: Catalog, records: Iterable[EvidenceRecord]
) -> list[tuple[tuple[str | int, ...], str]]:
    """``(location in aims.yaml, message)`` for every SoA exclusion of an entry about suppliers
    (``not_excludable_when: [third_party_lineage]``) while the lineage of an in-scope system it
    covers shows a third party's data or models (what ``aims validate`` refuses)."""
    bound = {e.id for e in catalog.entries if THIRD_PARTY_LINEAGE in e.not_excludable_when}
    in_scope = {s.id for s in config.in_scope_systems}
    lineage = [r for r in records if r.system in in_scope]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, decision in enumerate(config.soa):
        if decision.applicable or decision.control not in bound:
            continue
        covered = set(decision.systems) if decision.systems else in_scope
        found = find_suppliers(None, [r for r in lineage if r.system in covered])
        if found:
            problems.append(
                (
                    ("soa", index, "applicable"),
                    ERROR_LINEAGE_SUPPLIER_EXCLUDED.format(
                        control=decision.control,
                        suppliers="; ".join(s.label for s in found[:3]),
                    ),
                )
            )
    return problems
