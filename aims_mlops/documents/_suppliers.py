"""Suppliers found in lineage (pure): third-party data sources (a dataset whose source is a
remote location: http(s), Hugging Face, object stores of others) and external foundation models
(``systems[].genai.foundation_model``), for A.10.2 / A.10.3 and the supplier register."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.evidence import EvidenceRecord

#: dataset source types that are someone else's (MLflow's ``source_type``)
REMOTE_SOURCE_TYPES = frozenset({"http", "https", "huggingface", "hf", "url"})
REMOTE_SCHEMES = frozenset({"http", "https", "hf", "huggingface"})


@dataclass(frozen=True, kw_only=True)
class Supplier:
    """A third party the AI systems depend on: its name, what it supplies, where it was seen."""

    name: str
    supplies: str  # "data" | "model"
    source: str
    systems: tuple[str, ...]
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "supplies": self.supplies,
            "source": self.source,
            "systems": list(self.systems),
            "evidence": list(self.evidence),
        }


def _uri(source: Any) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, Mapping):
        for key in ("url", "uri", "path", "hf_dataset_name", "repo_id", "table_name"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _supplier_name(source_type: str | None, uri: str) -> str | None:
    kind = (source_type or "").lower()
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if kind in ("huggingface", "hf") or scheme in ("hf", "huggingface"):
        repo = uri.split("://", 1)[-1].split("@")[0]
        return f"Hugging Face ({repo})"
    if kind in REMOTE_SOURCE_TYPES or scheme in REMOTE_SCHEMES:
        return parts.hostname or uri
    return None


def find_suppliers(config: AimsConfig, records: Iterable[EvidenceRecord]) -> list[Supplier]:
    """Every third-party data or model source in the lineage records and the configuration,
    merged by name, sorted."""
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def add(name: str, supplies: str, source: str, system: str | None, evidence: str) -> None:
        item = found.setdefault((name, supplies), {"source": source, "systems": [], "evidence": []})
        if system and system not in item["systems"]:
            item["systems"].append(system)
        if evidence not in item["evidence"]:
            item["evidence"].append(evidence)

    for record in records:
        if record.kind != "lineage.datasets":
            continue
        for dataset in record.details.get("datasets") or []:
            if not isinstance(dataset, Mapping):
                continue
            uri = _uri(dataset.get("source"))
            if not uri:
                continue
            name = _supplier_name(dataset.get("source_type"), uri)
            if name is not None:
                add(name, "data", uri, record.system, record.id)
    for system in config.systems:
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
            )
    return [
        Supplier(
            name=name,
            supplies=supplies,
            source=item["source"],
            systems=tuple(item["systems"]),
            evidence=tuple(item["evidence"]),
        )
        for (name, supplies), item in sorted(found.items())
    ]
