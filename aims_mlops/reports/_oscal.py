"""OSCAL Assessment Results (1.1.2 JSON) from a judgement, for GRC tools that read OSCAL.

One ``result`` per assessed system. Each clause or control judged for the system (everything
but ``not_applicable``, which is listed under ``reviewed-controls`` as excluded) is a
``finding`` whose target is the objective ``iso42001-<id>_obj`` with state ``satisfied`` or
``not-satisfied`` and the engine's reasons. Each evidence record of the system (and each
organization-level record) is an ``observation`` (method ``EXAMINE`` for attestations, ``TEST``
otherwise) whose ``relevant-evidence`` names the record id, its content hash and its member in the
audit pack (``records/<id>.json``, hashed in ``back-matter``); declarations in ``aims.yaml`` are
one more observation about ``config/aims.yaml``. Findings link the observations behind them.

Links carry only ``http(s)`` URLs and relative references (:func:`aims_mlops._escape.safe_link`):
an attested document named by any other scheme (``javascript:``, ``data:``, ``file:``, a Windows
drive) keeps its ``relevant-evidence`` entry without an ``href``, its description saying so and a
``document-link`` prop ``dropped``.

Every UUID is a UUID5 over stable ids, so exporting the same judgement twice gives the same
document.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aims_mlops import __version__
from aims_mlops._escape import safe_link
from aims_mlops.presentation import percent
from aims_mlops.reports._content import is_record_id
from aims_mlops.reports._pack import CONFIG_MEMBER, RECORDS_DIR, PackJudgement, pack_records

if TYPE_CHECKING:
    from aims_mlops.engine import ControlStatus, SystemAssessment
    from aims_mlops.evidence import EvidenceRecord

OSCAL_VERSION = "1.1.2"
#: Namespace of this project's OSCAL properties.
PROP_NS = "urn:aims-mlops:oscal"
#: Namespace of every UUID in an export.
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:aims-mlops:oscal")
#: The assessment plan the results refer to: the internal audit plan of ``aims audit-plan``.
PLAN_HREF = "audit-plan.json"
PLAN_REMARKS = (
    "Placeholder: aims_mlops does not write an OSCAL assessment plan. The plan behind these "
    "results is the internal audit plan written by `aims audit-plan --format json`."
)
#: Said of an attested document whose link was left out (see :func:`aims_mlops._escape.safe_link`).
LINK_DROPPED = "Its link was left out: only http(s) URLs and relative references are carried."
DOCUMENT_TITLE = "ISO/IEC 42001 assessment results: {organization}"

_STATE = {"satisfied": ("satisfied", "pass"), "failing": ("not-satisfied", "fail")}


def control_token(control_id: str) -> str:
    """A catalog id as an OSCAL token (tokens cannot start with a digit): ``iso42001-4.1``."""
    return f"iso42001-{control_id}"


def objective_id(control_id: str) -> str:
    return f"{control_token(control_id)}_obj"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, "/".join(parts)))


def _prop(name: str, value: Any, **extra: str) -> dict[str, Any]:
    return {"name": name, "ns": PROP_NS, "value": str(value), **extra}


def _text(value: str, fallback: str) -> str:
    """OSCAL strings must not be blank nor start/end with spaces."""
    cleaned = " ".join(str(value).split())
    return cleaned or fallback


def _record_bytes_sha256(record: EvidenceRecord) -> str:
    """SHA-256 of the record's pack member (its canonical JSON)."""
    return hashlib.sha256(record.to_json().encode("utf-8")).hexdigest()


def _describe_record(record: EvidenceRecord) -> str:
    parts = [
        f"{record.kind} evidence {record.id} collected {record.collected_at} by "
        f"{record.collector.name} {record.collector.version}: outcome {record.outcome}"
    ]
    if record.metrics:
        parts.append(
            "metrics: " + ", ".join(f"{k} = {v:g}" for k, v in sorted(record.metrics.items()))
        )
    if record.kind == "attestation":
        details = record.details
        parts.append(
            f"attested by {details.get('by')}: {details.get('document')}"
            + (f" ({details.get('statement')})" if details.get("statement") else "")
        )
    if record.kind == "error":
        parts.append(f"collector error: {record.details.get('error')}")
    if record.controls:
        parts.append("speaks to " + ", ".join(record.controls))
    return "; ".join(parts)


def _observation(doc: str, system: str, record: EvidenceRecord) -> dict[str, Any]:
    props = [
        _prop("record-id", record.id),
        _prop("evidence-kind", record.kind),
        _prop("outcome", record.outcome),
        _prop("content-sha256", record.content_hash),
        _prop("scope", record.system or "organization"),
    ]
    if record.subject.model_name:
        model = record.subject.model_name
        if record.subject.model_version:
            model += f" version {record.subject.model_version}"
        props.append(_prop("model", model))
    if record.subject.run_id:
        props.append(_prop("mlflow-run-id", record.subject.run_id))
    evidence: list[dict[str, Any]] = [
        {
            "href": f"{RECORDS_DIR}{record.id}.json",
            "description": "The evidence record in the audit pack (canonical JSON).",
            "props": [
                _prop("record-id", record.id),
                _prop("content-sha256", record.content_hash),
            ],
            "links": [{"href": f"#{_uuid('resource', record.id)}", "rel": "reference"}],
        }
    ]
    if record.kind == "attestation" and record.details.get("document"):
        href = safe_link(record.details["document"])
        document: dict[str, Any] = {
            "description": _text(
                f"The document attested by {record.details.get('by')}."
                + ("" if href is not None else " " + LINK_DROPPED),
                "Attested document.",
            ),
        }
        document_props = []
        if href is not None:
            document = {"href": href, **document}
        else:
            document_props.append(_prop("document-link", "dropped"))
        if record.details.get("document_sha256"):
            document_props.append(_prop("document-sha256", record.details["document_sha256"]))
        if document_props:
            document["props"] = document_props
        evidence.append(document)
    observation: dict[str, Any] = {
        "uuid": _uuid(doc, "observation", system, record.id),
        "title": f"{record.kind} evidence {record.id[:8]}",
        "description": _text(_describe_record(record), record.id),
        "props": props,
        "methods": ["EXAMINE" if record.kind == "attestation" else "TEST"],
        "relevant-evidence": evidence,
        "collected": record.collected_at,
    }
    if record.valid_until:
        observation["expires"] = record.valid_until
    return observation


def _config_observation(doc: str, system: str, judgement: PackJudgement) -> dict[str, Any]:
    digest = judgement.assessment.config_digest
    return {
        "uuid": _uuid(doc, "observation", system, "config"),
        "title": "Declarations in aims.yaml",
        "description": (
            "Declarations of the AI management system configuration (scope, owners, intended use, "
            f"thresholds, risks, impact assessments, SoA decisions); digest {digest}."
        ),
        "props": [_prop("config-digest", digest)],
        "methods": ["EXAMINE"],
        "relevant-evidence": [
            {
                "href": CONFIG_MEMBER,
                "description": "The configuration file in the audit pack.",
                "props": [_prop("config-digest", digest)],
            }
        ],
        "collected": judgement.assessment.evaluated_at,
    }


def _finding(
    doc: str, system: str, status: ControlStatus, observed: Mapping[str, str]
) -> dict[str, Any]:
    state, reason = _STATE.get(status.status, ("not-satisfied", "other"))
    related = [observed[e] for e in status.evidence if e in observed]
    if any(not is_record_id(e) for e in status.evidence) and "config" in observed:
        related.append(observed["config"])
    reasons = "; ".join(status.reasons)
    finding: dict[str, Any] = {
        "uuid": _uuid(doc, "finding", system, status.id),
        "title": f"{status.id} {status.title}",
        "description": _text(f"{status.status}: {reasons}", status.status),
        "props": [
            _prop("control-id", status.id),
            _prop("aims-status", status.status),
            _prop("owner", _text(status.owner, "unassigned")),
            _prop("scope", status.scope),
        ],
        "target": {
            "type": "objective-id",
            "target-id": objective_id(status.id),
            "title": status.title,
            "status": {"state": state, "reason": reason},
        },
    }
    if status.status != "satisfied":
        finding["remarks"] = _text(f"To close: {status.how_to_close}", "To close: see the owner.")
    if related:
        finding["related-observations"] = [{"observation-uuid": u} for u in dict.fromkeys(related)]
    return finding


def _result(
    doc: str, sa: SystemAssessment, records: Sequence[EvidenceRecord], judgement: PackJudgement
) -> dict[str, Any]:
    mine = pack_records(records, [sa.system])
    observations = [_observation(doc, sa.system, r) for r in mine]
    observed = {r.id: o["uuid"] for r, o in zip(mine, observations, strict=True)}
    if any(not is_record_id(e) for c in sa.controls for e in c.evidence):
        config_observation = _config_observation(doc, sa.system, judgement)
        observations.append(config_observation)
        observed["config"] = config_observation["uuid"]
    judged = [c for c in sa.controls if c.status != "not_applicable"]
    excluded = [c for c in sa.controls if c.status == "not_applicable"]
    selection: dict[str, Any] = {
        "description": "Clauses 4-10 and the Annex A controls of ISO/IEC 42001:2023.",
        "include-controls": [{"control-id": control_token(c.id)} for c in sa.controls],
    }
    if excluded:
        selection["exclude-controls"] = [{"control-id": control_token(c.id)} for c in excluded]
    props = [
        _prop("system", sa.system),
        _prop("owner", _text(sa.owner, "unassigned")),
        _prop("conformity-score", sa.score),
    ]
    if sa.model is not None:
        props.append(_prop("model", sa.model.describe()))
    result: dict[str, Any] = {
        "uuid": _uuid(doc, "result", sa.system),
        "title": f"{sa.system}: {sa.name}",
        "description": _text(
            f"Conformity of AI system {sa.system} ({sa.name}, owner {sa.owner}) with ISO/IEC "
            f"42001 as judged by aims_mlops from its evidence: score {percent(sa.score)}.",
            sa.system,
        ),
        "start": judgement.assessment.evaluated_at,
        "end": judgement.assessment.evaluated_at,
        "props": props,
        "reviewed-controls": {"control-selections": [selection]},
        "findings": [_finding(doc, sa.system, c, observed) for c in judged],
    }
    if excluded:
        result["remarks"] = _text(
            "Not applicable (Statement of Applicability): "
            + "; ".join(f"{c.id}: {' '.join(c.reasons)}" for c in excluded),
            "Not applicable controls excluded.",
        )
    if observations:
        result["observations"] = observations
    return result


def assessment_results(judgement: PackJudgement) -> dict[str, Any]:
    """The judgement as an OSCAL Assessment Results document (a JSON-ready dict)."""
    assessment = judgement.assessment
    systems = list(assessment.systems)
    doc = _uuid("assessment-results", assessment.config_digest, assessment.evaluated_at, *systems)
    records = list(judgement.records)
    resources = [
        {
            "uuid": _uuid("resource", record.id),
            "title": f"Evidence record {record.id}",
            "props": [_prop("content-sha256", record.content_hash)],
            "rlinks": [
                {
                    "href": f"{RECORDS_DIR}{record.id}.json",
                    "media-type": "application/json",
                    "hashes": [{"algorithm": "SHA-256", "value": _record_bytes_sha256(record)}],
                }
            ],
        }
        for record in pack_records(records, systems)
    ]
    document: dict[str, Any] = {
        "uuid": doc,
        "metadata": {
            "title": DOCUMENT_TITLE.format(organization=judgement.config.organization.name),
            "last-modified": assessment.evaluated_at,
            "version": assessment.evaluated_at,
            "oscal-version": OSCAL_VERSION,
            "props": [
                _prop("config-digest", assessment.config_digest),
                _prop("generator", f"aims-mlops {__version__}"),
            ],
        },
        "import-ap": {"href": PLAN_HREF, "remarks": PLAN_REMARKS},
        "results": [_result(doc, assessment.systems[s], records, judgement) for s in systems],
    }
    if resources:
        document["back-matter"] = {"resources": resources}
    return {"assessment-results": document}
