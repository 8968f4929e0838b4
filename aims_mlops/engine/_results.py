"""Result types of the conformity engine: frozen, keyword-only, JSON-ready through the row helpers.

Statuses (:data:`STATUSES`):

- ``satisfied``: current evidence (or a declaration, or a valid attestation) shows the entry is met;
- ``failing``: the latest current automated evidence says no;
- ``missing``: there is no evidence at all (or the collector that should produce it failed);
- ``stale``: evidence exists but is too old, expired, or about another model version, run or
  dataset than the one in use;
- ``not_applicable``: excluded for the system in the Statement of Applicability, with the
  justification as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aims_mlops.evidence import IntegrityFinding

SATISFIED = "satisfied"
FAILING = "failing"
MISSING = "missing"
STALE = "stale"
NOT_APPLICABLE = "not_applicable"

#: Every status, in display order.
STATUSES: tuple[str, ...] = (SATISFIED, FAILING, STALE, MISSING, NOT_APPLICABLE)

Status = Literal["satisfied", "failing", "missing", "stale", "not_applicable"]

IMPLEMENTED = "implemented"
PARTIALLY_IMPLEMENTED = "partially implemented"
NOT_IMPLEMENTED = "not implemented"
IMPLEMENTATION_NOT_APPLICABLE = "not applicable"


def _empty_mapping() -> Mapping[str, object]:
    return MappingProxyType({})


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


PartKind = Literal["declared", "evidence", "attestation", "derived", "any_of"]


@dataclass(frozen=True, kw_only=True)
class PartStatus:
    """The verdict on one part of an entry's rule (every part must hold)."""

    requirement: str
    kind: PartKind
    status: Status
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    #: satisfied by captured evidence or an attestation, not by aims.yaml text alone
    evidenced: bool = False
    #: the assessment was done but its result fails (it treats no risk)
    result_fails: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "requirement": self.requirement,
            "kind": self.kind,
            "status": self.status,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, kw_only=True)
class ControlStatus:
    """The verdict on one catalog entry (clause or Annex A control) for one system."""

    id: str
    title: str
    kind: Literal["clause", "control"]
    group: str
    status: Status
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    owner: str
    how_to_close: str
    scope: Literal["organization", "system"]
    parts: tuple[PartStatus, ...] = ()

    @property
    def evidenced(self) -> bool:
        """Satisfied, and resting on captured evidence or an attestation in at least one part
        (a control met by aims.yaml text alone does not show that it works)."""
        return self.status == SATISFIED and any(p.evidenced for p in self.parts)

    @property
    def result_fails(self) -> bool:
        """Satisfied as an assessment done whose result fails: it shows no risk treated."""
        return any(p.result_fails for p in self.parts)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "group": self.group,
            "status": self.status,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
            "owner": self.owner,
            "how_to_close": self.how_to_close,
            "scope": self.scope,
            "parts": [p.to_dict() for p in self.parts],
        }


@dataclass(frozen=True, kw_only=True)
class RiskResult:
    """One risk of the register, evaluated: inherent and residual scores against the appetite."""

    id: str
    system: str | None
    category: str
    description: str
    owner: str
    treatment: str
    controls: tuple[str, ...]
    inherent_likelihood: int
    impact: int
    inherent: int
    residual_likelihood: int
    residual_impact: int
    residual: int
    appetite: int
    above_appetite: bool
    inherent_above_appetite: bool
    indicator_value: float | None
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    #: "by NAME on DATE" when a risk above the appetite is accepted with a named approver
    acceptance: str | None = None
    #: the risk belongs to a system outside the AIMS scope (evaluated on its declarations only)
    out_of_scope: bool = False

    @property
    def unresolved(self) -> bool:
        """Above the appetite after treatment and not accepted by a named approver."""
        return self.above_appetite and self.acceptance is None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "system": self.system,
            "category": self.category,
            "description": self.description,
            "owner": self.owner,
            "treatment": self.treatment,
            "controls": list(self.controls),
            "inherent_likelihood": self.inherent_likelihood,
            "impact": self.impact,
            "inherent": self.inherent,
            "residual_likelihood": self.residual_likelihood,
            "residual_impact": self.residual_impact,
            "residual": self.residual,
            "appetite": self.appetite,
            "above_appetite": self.above_appetite,
            "inherent_above_appetite": self.inherent_above_appetite,
            "indicator_value": self.indicator_value,
            "acceptance": self.acceptance,
            "out_of_scope": self.out_of_scope,
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, kw_only=True)
class Gap:
    """An applicable entry that is not satisfied, with who closes it and how.

    ``system`` is ``None`` for an organization-scope entry (owned by the policy owner).
    """

    system: str | None
    control: str
    title: str
    status: Status
    owner: str
    how_to_close: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "control": self.control,
            "title": self.title,
            "status": self.status,
            "owner": self.owner,
            "how_to_close": self.how_to_close,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, kw_only=True)
class SystemAssessment:
    """Where one AI system stands: every clause and control, its risks, its gaps and its score."""

    system: str
    name: str
    owner: str
    model: CurrentModel | None
    controls: tuple[ControlStatus, ...]
    score: float
    risks: tuple[RiskResult, ...]
    gaps: tuple[Gap, ...]
    #: stored records about this system (or naming none) that failed verification
    integrity_findings: tuple[IntegrityFinding, ...] = ()

    def control(self, id: str) -> ControlStatus:
        """The status of catalog entry ``id``; ``KeyError`` when the entry is not in the result."""
        for status in self.controls:
            if status.id == id:
                return status
        raise KeyError(id)

    def counts(self) -> dict[str, int]:
        """Number of entries per status (every status present, zero included)."""
        counts = dict.fromkeys(STATUSES, 0)
        for status in self.controls:
            counts[status.status] += 1
        return counts

    @property
    def risks_above_appetite(self) -> tuple[RiskResult, ...]:
        return tuple(risk for risk in self.risks if risk.above_appetite)


@dataclass(frozen=True, kw_only=True)
class SoaEntry:
    """One line of the Statement of Applicability (an Annex A control)."""

    control: str
    title: str
    group: str
    applicable: bool
    justification: str
    implementation: Literal[
        "implemented", "partially implemented", "not implemented", "not applicable"
    ]
    systems: Mapping[str, str] = field(default_factory=_empty_mapping)
    linked_risks: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "control": self.control,
            "title": self.title,
            "group": self.group,
            "applicable": self.applicable,
            "justification": self.justification,
            "implementation": self.implementation,
            "systems": dict(self.systems),
            "linked_risks": list(self.linked_risks),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, kw_only=True)
class Blocker:
    """Something that stops a certification audit from passing, whatever the percentage says."""

    id: str
    reason: str
    system: str | None = None
    #: who must act (an entry's or a risk's owner; None: nobody declared)
    owner: str | None = None
    #: what blocks: an entry's status (``failing``, ``stale``, ``missing``), or ``risk``,
    #: ``out_of_scope_risk``, ``unverifiable``, ``unsigned``, ``unapproved_change``,
    #: ``contradiction``
    status: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "reason": self.reason,
            "system": self.system,
            "owner": self.owner,
            "status": self.status,
        }


@dataclass(frozen=True, kw_only=True)
class Readiness:
    """Certification readiness: satisfied share overall, per system and per group, the gaps, and
    the blockers that make the AIMS not ready (``ready`` is True only without any)."""

    overall: float
    per_system: Mapping[str, float]
    per_group: Mapping[str, float]
    gaps: tuple[Gap, ...]
    blockers: tuple[Blocker, ...] = ()
    excluded: int = 0
    findings: tuple[Blocker, ...] = ()
    #: satisfied entries by what they rest on: ``captured`` (at least one captured record),
    #: ``attestation_only`` (a person's word and a document, nothing captured),
    #: ``declaration_only`` (aims.yaml text alone)
    basis: Mapping[str, int] = field(default_factory=_empty_mapping)  # type: ignore[arg-type]

    @property
    def ready(self) -> bool:
        """Ready only with no blocker: every applicable entry satisfied, every risk within the
        appetite or accepted, every record verified and signed, the configuration approved."""
        return not self.blockers


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """The engine's whole result for one configuration, evidence set and moment."""

    systems: Mapping[str, SystemAssessment]
    soa: tuple[SoaEntry, ...]
    readiness: Readiness
    config_digest: str
    evaluated_at: str
    #: risks of systems outside the AIMS scope, flagged and shown, never silently dropped
    out_of_scope_risks: tuple[RiskResult, ...] = ()
    #: stored records that failed verification: never evidence, each failing what it speaks to
    integrity_findings: tuple[IntegrityFinding, ...] = ()
