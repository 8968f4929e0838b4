"""What the tool fills into the AIMS documents from what it knows (aims.yaml, the evidence, the
EU AI Act classification). Each filler returns Markdown lines; where the tool knows nothing, a
marked place a person must complete."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aims_mlops._escape import md_escape
from aims_mlops.documents._format import MARK
from aims_mlops.documents._suppliers import find_suppliers

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig, SystemConfig
    from aims_mlops.evidence import EvidenceRecord

ROLE_TOP_MANAGEMENT = "top_management"


def mark(ask: str) -> str:
    """A place a person must complete."""
    return MARK.format(ask=ask)


def _e(value: Any) -> str:
    return md_escape(str(value)) if value is not None else ""


def _latest(
    records: Iterable[EvidenceRecord], kind: str, system: str | None
) -> EvidenceRecord | None:
    found = [r for r in records if r.kind == kind and r.system == system]
    return max(found, key=lambda r: r.collected_at) if found else None


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What the fillers read: the configuration, the records, and (optionally) the EU AI Act
    obligation rows per system."""

    config: AimsConfig
    records: tuple[EvidenceRecord, ...] = ()
    obligations: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    system: SystemConfig | None = None
    #: the catalog entries the document being filled serves
    entries: tuple[str, ...] = ()

    # -- organization -------------------------------------------------------------------------
    def organization(self) -> list[str]:
        org = self.config.organization
        lines = [f"- Organization: {_e(org.name)}"]
        lines.append(
            "- Policy owner: "
            + (_e(org.policy_owner) if org.policy_owner else mark("the policy owner"))
        )
        roles = sorted(
            {
                s.eu_ai_act.role
                for s in self.config.in_scope_systems
                if getattr(s, "eu_ai_act", None) is not None and s.eu_ai_act.role
            }
        )
        lines.append(
            "- Roles under the EU AI Act: "
            + (", ".join(roles) if roles else mark("developer, provider, deployer or user of AI"))
        )
        return lines

    def scope(self) -> list[str]:
        scope = self.config.organization.aims_scope
        lines = [_e(scope) if scope else mark("the scope statement of the AIMS")]
        if self.config.pilot:
            lines.append("")
            lines.append(
                f"Pilot scope: {', '.join(self.config.pilot)}; readiness covers these systems only."
            )
        return lines

    def systems(self) -> list[str]:
        if not self.config.systems:
            return [mark("the AI systems of the organization")]
        lines = [
            "| system | name | owner | stage | in scope | intended use |",
            "|---|---|---|---|---|---|",
        ]
        for s in self.config.systems:
            scope = "yes" if s.in_scope else f"no: {_e(s.scope_reason)}"
            lines.append(
                f"| {s.id} | {_e(s.name)} | {_e(s.owner)} | {s.lifecycle_stage} | {scope} | "
                f"{_e(s.intended_use) if s.intended_use else mark('intended use')} |"
            )
        return lines

    def processes(self) -> list[str]:
        config = self.config
        return [
            "- Evidence capture: every MLflow run of an in-scope system records lineage, data "
            "quality, fairness and performance evidence (aims_mlops).",
            "- Release gate: `aims gate` before a model version is promoted.",
            "- Monitoring: "
            + (
                ", ".join(
                    f"{s.id} every {s.monitoring.interval_days} days"
                    for s in config.in_scope_systems
                    if s.monitoring is not None
                )
                or mark("how each system is monitored")
            ),
            "- Internal audit: "
            + (
                f"every {config.audit_programme.interval_days} days"
                if config.audit_programme is not None
                else mark("the audit programme (audit_programme in aims.yaml)")
            ),
            "- Management review: "
            + (
                f"every {config.management_review.interval_days} days"
                if config.management_review is not None
                else mark("how often top management reviews the AIMS")
            ),
            "- Nonconformities and corrective action: `aims nonconformities`, `aims nc`.",
        ]

    def obligations_lines(self) -> list[str]:
        lines: list[str] = []
        for system_id, rows in self.obligations.items():
            if not rows:
                continue
            lines.append(f"### {system_id}")
            lines.append("| obligation | title | applies from | status |")
            lines.append("|---|---|---|---|")
            for row in rows:
                lines.append(
                    f"| {_e(row.get('id'))} | {_e(row.get('title'))} | "
                    f"{_e(row.get('applies_from') or '')} | {row.get('status')} |"
                )
            lines.append("")
        if not lines:
            lines.append("No EU AI Act classification is declared in aims.yaml.")
        lines.append(
            mark("other legal, regulatory and contractual requirements (GDPR, sector rules)")
        )
        return lines

    # -- people ---------------------------------------------------------------------------------
    def people(self) -> list[str]:
        if not self.config.people:
            return [mark("the people of the AIMS with their roles (people: in aims.yaml)")]
        lines = ["| person | roles |", "|---|---|"]
        for person in self.config.people:
            lines.append(f"| {_e(person.name)} | {', '.join(person.roles) or mark('roles')} |")
        return lines

    def raci(self) -> list[str]:
        top = [p.name for p in self.config.people_with_role(ROLE_TOP_MANAGEMENT)]
        systems = [self.system] if self.system is not None else list(self.config.in_scope_systems)
        if not systems:
            return [mark("the AI systems and who is responsible for them")]
        lines = [
            "| system | responsible | accountable | consulted | informed |",
            "|---|---|---|---|---|",
        ]
        for s in systems:
            approvers = sorted(
                {a for e in self.entries for a in self.config.approvers_for(e) or ()}
            )
            lines.append(
                f"| {s.id} | {mark('who does the work')} | {_e(s.owner) or mark('owner')} | "
                f"{', '.join(_e(a) for a in approvers) or mark('who is consulted')} | "
                f"{', '.join(_e(t) for t in top) or mark('top management')} |"
            )
        return lines

    def _record_table(
        self,
        kind: str,
        *,
        empty: str,
        columns: tuple[str, ...],
        row: Callable[[EvidenceRecord], tuple[object, ...]],
    ) -> list[str]:
        """One Markdown row per record of ``kind``, oldest first (``empty`` when there is none)."""
        found = [r for r in self.records if r.kind == kind]
        if not found:
            return [empty]
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for r in sorted(found, key=lambda r: r.collected_at):
            lines.append("| " + " | ".join(str(cell) for cell in row(r)) + " |")
        return lines

    def training(self) -> list[str]:
        return self._record_table(
            "training",
            empty="No training recorded yet (`aims record training`).",
            columns=("person", "topic", "date", "record"),
            row=lambda r: (
                _e(r.details.get("person")),
                _e(r.details.get("topic")),
                r.details.get("date"),
                r.id[:8],
            ),
        )

    def acknowledgements(self) -> list[str]:
        return self._record_table(
            "acknowledgement",
            empty="No acknowledgement recorded yet (`aims record acknowledgement`).",
            columns=("person", "document", "on", "record"),
            row=lambda r: (
                _e(r.details.get("person")),
                _e(r.details.get("document")),
                r.collected_at[:10],
                r.id[:8],
            ),
        )

    # -- objectives -------------------------------------------------------------------------------
    def objectives(self) -> list[str]:
        lines = [
            "| system | objective | threshold | last measured | record |",
            "|---|---|---|---|---|",
        ]
        count = 0
        for s in self.config.in_scope_systems:
            for kind, section in (("performance", s.performance), ("fairness", s.fairness)):
                latest = _latest(self.records, kind, s.id)
                for metric, bound in (section or {}).items():
                    count += 1
                    parts = []
                    if bound.min is not None:
                        parts.append(f">= {bound.min:g}")
                    if bound.max is not None:
                        parts.append(f"<= {bound.max:g}")
                    value = latest.metrics.get(metric) if latest is not None else None
                    shown = f"{value:.4g}" if isinstance(value, int | float) else "not measured yet"
                    ref = latest.id[:8] if latest is not None and value is not None else ""
                    lines.append(f"| {s.id} | {metric} | {' and '.join(parts)} | {shown} | {ref} |")
        if count == 0:
            return [
                mark("measurable AI objectives (performance and fairness thresholds in aims.yaml)")
            ]
        return lines

    def objectives_summary(self) -> list[str]:
        return [
            "AI objectives are set per system as measurable thresholds (see the objectives "
            "document, AIMS-08) and reviewed at every management review."
        ]

    def changes(self) -> list[str]:
        found = [r for r in self.records if r.kind == "configuration_approval"]
        if not found:
            return [
                "No approved configuration change is recorded yet.",
                mark("the changes to the AIMS planned, with their approvals"),
            ]
        lines = ["| approved on | by | config digest |", "|---|---|---|"]
        for r in sorted(found, key=lambda r: r.collected_at):
            d = r.details
            lines.append(
                f"| {r.collected_at[:10]} | {_e(d.get('by') or d.get('approved_by'))} | "
                f"{str(d.get('config_digest') or r.config_digest or '')[:12]} |"
            )
        return lines

    def document_control(self) -> list[str]:
        return [
            "Each document of the set carries a header: document id, title, version, owner, "
            "approver, next review, and the catalog entries it serves.",
            "An attestation (`aims attest`) records the document's SHA-256; `aims verify` names "
            "any attested document that changed or vanished since.",
            "The index of the documented information is generated from the attestations "
            "(clause 7.5.1 in `aims summary`).",
        ]

    def impact_triggers(self) -> list[str]:
        lines = [
            "- Before a system enters deployment, and for each new version in production "
            "(reassess_on: new_version, the default in deployment and operation)."
        ]
        lines.append("- At least every 365 days.")
        return lines

    def gates(self) -> list[str]:
        lines = []
        for s in self.config.in_scope_systems:
            checks = [k for k, v in (("performance", s.performance), ("fairness", s.fairness)) if v]
            if s.data_quality is not None and s.data_quality.expectations:
                checks.append("data quality")
            lines.append(f"- {s.id}: release gate checks {', '.join(checks) or mark('the checks')}")
        return lines or [mark("the stages and gates of development")]

    def incident_duties(self) -> list[str]:
        return [
            "Serious incidents of high-risk systems are reported to the market surveillance "
            "authority within 15 days of awareness (10 for a death, 2 for widespread or critical "
            "infrastructure incidents; EU AI Act Art. 73): `aims incident`.",
        ]

    def suppliers(self) -> list[str]:
        found = find_suppliers(self.config, self.records)
        if not found:
            return [
                "No third-party data or model source was found in lineage.",
                mark(
                    "any third-party supplier of data, models or AI services not visible in lineage"
                ),
            ]
        lines = ["| supplier | supplies | source | systems |", "|---|---|---|---|"]
        for s in found:
            lines.append(
                f"| {_e(s.name)} | {s.supplies} | {_e(s.source)} | {', '.join(s.systems)} |"
            )
        return lines

    def improvements(self) -> list[str]:
        verified = [
            r for r in self.records if r.kind == "nonconformity" and r.details.get("verified_by")
        ]
        if not verified:
            return ["No verified corrective action is recorded yet (`aims nc verify`)."]
        lines = ["| nonconformity | verified by | on |", "|---|---|---|"]
        for r in verified:
            d = r.details
            lines.append(
                f"| {str(d.get('amends'))[:8]} | {_e(d.get('verified_by'))} | "
                f"{d.get('verified_on')} |"
            )
        return lines

    # -- one system ------------------------------------------------------------------------------
    def system_information(self) -> list[str]:
        s = self.system
        if s is None:
            return [mark("the system")]
        lines = [
            f"- System: {s.id} ({_e(s.name)})",
            f"- Owner: {_e(s.owner)}",
            f"- Life-cycle stage: {s.lifecycle_stage}",
            f"- Intended use: {_e(s.intended_use) if s.intended_use else mark('intended use')}",
        ]
        eu = getattr(s, "eu_ai_act", None)
        if eu is not None:
            lines.append(f"- EU AI Act: {eu.risk_class} ({eu.role})")
        return lines

    def system_data(self) -> list[str]:
        s = self.system
        latest = _latest(self.records, "lineage.datasets", s.id if s else None)
        if latest is None:
            return [mark("the datasets used, their sources and digests")]
        lines = ["| dataset | source | digest |", "|---|---|---|"]
        for d in latest.details.get("datasets") or []:
            lines.append(
                f"| {_e(d.get('name'))} | {_e(d.get('source_type'))} | {_e(d.get('digest'))} |"
            )
        return lines

    def _impact(self, attribute: str, ask: str) -> list[str]:
        s = self.system
        assessment = self.config.impact_assessment_for(s.id) if s is not None else None
        values = getattr(assessment, attribute, ()) if assessment is not None else ()
        return [f"- {_e(v)}" for v in values] or [mark(ask)]

    def impact_affected(self) -> list[str]:
        return self._impact("affected", "the individuals and groups affected")

    def impact_harms(self) -> list[str]:
        return self._impact("harms", "the actual and foreseeable harms and benefits")

    def impact_mitigations(self) -> list[str]:
        return self._impact("mitigations", "the measures taken against each harm")

    def fillers(self) -> Mapping[str, Callable[[], list[str]]]:
        return {
            "organization": self.organization,
            "scope": self.scope,
            "systems": self.systems,
            "processes": self.processes,
            "obligations": self.obligations_lines,
            "people": self.people,
            "raci": self.raci,
            "training": self.training,
            "acknowledgements": self.acknowledgements,
            "objectives": self.objectives,
            "objectives_summary": self.objectives_summary,
            "changes": self.changes,
            "document_control": self.document_control,
            "impact_triggers": self.impact_triggers,
            "gates": self.gates,
            "incident_duties": self.incident_duties,
            "suppliers": self.suppliers,
            "improvements": self.improvements,
            "system_information": self.system_information,
            "system_data": self.system_data,
            "impact_affected": self.impact_affected,
            "impact_harms": self.impact_harms,
            "impact_mitigations": self.impact_mitigations,
        }
