"""A CycloneDX 1.6 ML bill of materials of the judged systems, built with cyclonedx-python-lib.

Per system: its current model as a ``machine-learning-model`` component, each dataset of its
``lineage.datasets`` evidence as a ``data`` component with the dataset's full-content SHA-256,
the training environment's libraries (``lineage.environment``) as ``library`` components with
PyPI package URLs, and the dependency graph model → datasets and libraries. Every component
carries the id of the evidence record it was taken from (property ``aims:evidence``).

cyclonedx-python-lib 11 does not model the 1.6 ``modelCard`` (its ``Component`` leaves it as a
TODO), so the model card (performance and fairness metrics, intended use, considerations) is
added to the library's serialized JSON at the model component's ``bom-ref``; the result is
checked against the 1.6 schema by the library's strict validator in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from aims_mlops.evidence import EvidenceRecord

SCHEMA = "1.6"
PROPERTY_EVIDENCE = "aims:evidence"
PROPERTY_SYSTEM = "aims:system"


def _latest(records: Iterable[EvidenceRecord], kind: str) -> EvidenceRecord | None:
    found = [r for r in records if r.kind == kind]
    return max(found, key=lambda r: (r.collected_at, r.id)) if found else None


def _metrics(record: EvidenceRecord | None, kind: str) -> list[dict[str, Any]]:
    if record is None:
        return []
    return [
        {"type": name, "value": f"{value:.6g}", "slice": kind}
        for name, value in sorted(record.metrics.items())
    ]


def _model_card(
    system: Any, performance: EvidenceRecord | None, fairness: EvidenceRecord | None, risks: Any
) -> dict[str, Any]:
    """The CycloneDX 1.6 ``modelCard`` of a system's model (plain data, schema-shaped)."""
    metrics = _metrics(performance, "performance") + _metrics(fairness, "fairness")
    considerations: dict[str, Any] = {}
    if system.intended_use:
        considerations["useCases"] = [system.intended_use]
    if system.owner:
        considerations["users"] = [system.owner]
    if risks:
        considerations["ethicalConsiderations"] = [
            {"name": f"{r.id}: {r.description}", "mitigationStrategy": r.treatment} for r in risks
        ]
    if system.sensitive_features:
        considerations["fairnessAssessments"] = [
            {
                "groupAtRisk": feature,
                "benefits": "fairness metrics checked against the declared thresholds",
            }
            for feature in system.sensitive_features
        ]
    card: dict[str, Any] = {"modelParameters": {"task": "classification"}}
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if considerations:
        card["considerations"] = considerations
    return card


def build_bom(judgement: Any) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The :class:`cyclonedx.model.bom.Bom` of the judged systems and, by model ``bom-ref``,
    the model cards the library cannot hold."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    bom = Bom()
    cards: dict[str, dict[str, Any]] = {}
    libraries: dict[tuple[str, str], Component] = {}
    for system_id in judgement.assessment.systems:
        system = judgement.config.system(system_id)
        mine = [r for r in judgement.records if r.system == system_id]
        model = judgement.current_models.get(system_id)
        model_name = (model.name if model is not None else None) or system_id
        version = model.version if model is not None else None
        lineage = _latest(mine, "lineage.model")
        component = Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            name=model_name,
            version=str(version) if version is not None else None,
            bom_ref=f"model:{system_id}:{model_name}:{version or 'latest'}",
            description=system.intended_use,
            properties=[
                Property(name=PROPERTY_SYSTEM, value=system_id),
                *(
                    [Property(name=PROPERTY_EVIDENCE, value=lineage.id)]
                    if lineage is not None
                    else []
                ),
            ],
        )
        bom.components.add(component)
        depends: list[Component] = []
        datasets = _latest(mine, "lineage.datasets")
        for entry in (datasets.details.get("datasets") or []) if datasets is not None else []:
            if not isinstance(entry, Mapping):
                continue
            sha = entry.get("sha256")
            source = entry.get("source")
            data = Component(
                type=ComponentType.DATA,
                name=str(entry.get("name") or entry.get("digest") or "dataset"),
                bom_ref=f"data:{system_id}:{entry.get('name')}:{sha or entry.get('digest')}",
                description=str(source.get("uri") if isinstance(source, Mapping) else source or "")
                or None,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=str(sha))] if sha else [],
                properties=[
                    Property(name=PROPERTY_EVIDENCE, value=datasets.id),
                    Property(name="aims:context", value=str(entry.get("context") or "")),
                    Property(name="aims:rows", value=str(entry.get("num_rows"))),
                ],
            )
            bom.components.add(data)
            depends.append(data)
        environment = _latest(mine, "lineage.environment")
        packages = environment.details.get("packages") if environment is not None else None
        for name, pkg_version in sorted((packages or {}).items()):
            key = (str(name), str(pkg_version))
            if key not in libraries:
                libraries[key] = Component(
                    type=ComponentType.LIBRARY,
                    name=key[0],
                    version=key[1],
                    purl=PackageURL(type="pypi", name=key[0], version=key[1]),
                    bom_ref=f"pkg:pypi/{key[0]}@{key[1]}",
                    properties=[Property(name=PROPERTY_EVIDENCE, value=environment.id)]
                    if environment is not None
                    else [],
                )
                bom.components.add(libraries[key])
            depends.append(libraries[key])
        bom.register_dependency(component, depends)
        for dep in depends:
            bom.register_dependency(dep, [])
        cards[str(component.bom_ref)] = _model_card(
            system,
            _latest(mine, "performance"),
            _latest(mine, "fairness"),
            judgement.config.risks_for(system_id),
        )
    return bom, cards


def bom_json(judgement: Any) -> str:
    """The CycloneDX 1.6 JSON of the judged systems' ML bill of materials."""
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    bom, cards = build_bom(judgement)
    text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    document = json.loads(text)
    for component in document.get("components", []):
        card = cards.get(component.get("bom-ref"))
        if card is not None:
            component["modelCard"] = card
    return json.dumps(document, indent=2, ensure_ascii=False)


__all__ = ["bom_json", "build_bom"]
