"""``assess``: judge every in-scope system against the catalog, its risks and the SoA.

The engine is a pure function of (catalog, configuration, evidence records, current models, now):
no I/O, no clock reads, no MLflow. Out-of-scope systems (``in_scope: false``) are not assessed.
A system's ``score`` is satisfied / applicable over its clauses and controls (organization-scope
entries included), rounded to 4 decimals. See ``_status`` (control status), ``_risk``, ``_soa``
and ``_readiness`` for the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import ConfigError
from aims_mlops.catalog._catalog import THIRD_PARTY_LINEAGE
from aims_mlops.config import config_digest
from aims_mlops.engine._checks import ConfigChecker, config_ref
from aims_mlops.engine._documents import document_problems
from aims_mlops.engine._programme import (
    PROGRAMME_REF,
    approver_problem,
    coverage_part,
    programme_part,
)
from aims_mlops.engine._readiness import (
    NO_OWNER,
    gap_for,
    id_key,
    prioritise,
    ratio,
    readiness,
)
from aims_mlops.engine._results import (
    FAILING,
    MISSING,
    NOT_APPLICABLE,
    SATISFIED,
    STALE,
    Assessment,
    Blocker,
    ControlStatus,
    CurrentModel,
    Gap,
    RiskResult,
    SoaEntry,
    SystemAssessment,
)
from aims_mlops.engine._risk import ABOVE_PREFIX, evaluate_risk, treatment_entries
from aims_mlops.engine._soa import soa_entry
from aims_mlops.engine._status import (
    PathResult,
    Scope,
    any_of_part,
    attestation_part,
    combine,
    derived_part,
    evidence_part,
    fresh_days_for,
    not_applicable,
    record_label,
    short_id,
)
from aims_mlops.engine._suppliers import Supplier, find_suppliers, uncovered
from aims_mlops.evidence import EvidenceRecord, IntegrityFinding, Inventory, load_kinds
from aims_mlops.evidence._documents import substance_problem

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog, CatalogEntry, RulePart
    from aims_mlops.config import AimsConfig, Risk, SystemConfig

ERROR_OUT_OF_SCOPE = (
    "system {system!r} is outside the AIMS scope ({reason}); out-of-scope systems are not assessed"
)
DEFAULT_INDICATOR_FRESH_DAYS = 365
#: the action of an entry whose captured evidence fails: what to change, not "run it again"
ACTION_CHANGE = (
    "change what the failing result measures: the model (retrain, reweigh, adjust its "
    "decision threshold), its data, or a treatment of the risk; or keep the risk above the "
    "appetite with an approved acceptance (risks[].acceptance, by top management, with its "
    "document); then capture the evidence on the new version: {actions}"
)


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds").replace("+00:00", "Z")


class _Evaluation:
    """Memoized verdicts for one (catalog, config, records, current models, now)."""

    def __init__(
        self,
        catalog: Catalog,
        config: AimsConfig,
        records: Iterable[EvidenceRecord],
        *,
        current_models: Mapping[str, CurrentModel | None],
        now: datetime,
        findings: Iterable[IntegrityFinding] = (),
        inventory: Inventory | None = None,
    ) -> None:
        self.findings = tuple(dict.fromkeys(findings))
        self._findings_by_entry = _findings_by_entry(catalog, self.findings)
        self.catalog = catalog
        self.config = config
        self.records = tuple(records)
        self.current_models = current_models
        self.now = _aware(now)
        self.digest = config_digest(config)
        self.in_scope = {s.id: s for s in config.in_scope_systems}
        self._scopes: dict[str | None, Scope] = {}
        self._raw: dict[tuple[str | None, str], ControlStatus] = {}
        self._risks: dict[tuple[str | None, str], RiskResult] = {}
        self._by_id: dict[str, EvidenceRecord] | None = None
        self.checker = ConfigChecker(
            config,
            digest=self.digest,
            now=self.now,
            current_models=current_models,
            records=self.records,
            inventory=inventory,
            catalog=catalog,
        )

    # -- evidence scopes ---------------------------------------------------------------------
    def scope(self, system: str | None) -> Scope:
        if system not in self._scopes:
            config = self.in_scope.get(system) if system is not None else None
            monitoring = config.monitoring.interval_days if config and config.monitoring else None
            self._scopes[system] = Scope.build(
                system=system,
                records=self.records,
                current=self.current_models.get(system) if system is not None else None,
                monitoring_days=monitoring,
            )
        return self._scopes[system]

    def owner(self, system: str | None) -> str:
        if system is None:
            return self.config.organization.policy_owner or NO_OWNER
        return self.in_scope[system].owner or NO_OWNER

    # -- verdicts ----------------------------------------------------------------------------
    def status(self, system: str | None, entry: CatalogEntry) -> ControlStatus:
        """The verdict on ``entry`` for ``system`` (None: the organization's single verdict)."""
        key = None if entry.scope == "organization" else system
        owner = self.owner(key)
        if entry.kind == "control":
            decision = self.config.soa_decision(entry.id, system)
            if decision is not None and not decision.applicable:
                refused = self.exclusion_refused(entry, key)
                if refused is None:
                    return not_applicable(
                        entry, owner=owner, justification=decision.justification or ""
                    )
                judged = self._judged(key, entry)
                return replace(judged, reasons=(refused, *judged.reasons))
        return self._judged(key, entry)

    def exclusion_refused(self, entry: CatalogEntry, system: str | None) -> str | None:
        """Why the SoA's exclusion of ``entry`` cannot stand given the evidence (the catalog's
        ``not_excludable_when: [third_party_lineage]``), or None."""
        if THIRD_PARTY_LINEAGE not in entry.not_excludable_when:
            return None
        found = self.suppliers(system)
        if not found:
            return None
        return (
            f"the Statement of Applicability excludes {entry.id}, but the lineage shows "
            f"third-party data or models: {'; '.join(s.label for s in found[:3])}"
        )

    def suppliers(self, system: str | None) -> list[Supplier]:
        """The third-party data and model sources in the lineage of ``system`` (None: of every
        in-scope system)."""
        systems = [system] if system is not None else list(self.in_scope)
        records = [r for s in systems for r in self.scope(s).records]
        return find_suppliers(None, records)

    def suppliers_covered(
        self, system: str | None, entry: CatalogEntry, result: PathResult
    ) -> PathResult:
        """For an entry about suppliers (``not_excludable_when: [third_party_lineage]``): the
        third-party sources the lineage shows are named, and an attestation counts only when the
        supplier register it attests (``aims_document.suppliers``) covers every one of them."""
        if THIRD_PARTY_LINEAGE not in entry.not_excludable_when:
            return result
        found = self.suppliers(None if entry.scope == "organization" else system)
        if not found:
            return result
        seen = f"third-party sources in lineage: {'; '.join(s.label for s in found[:5])}"
        if result.status != SATISFIED:
            return PathResult(result.status, (*result.reasons, seen), result.evidence)
        listed: list[str] = []
        for ident in result.evidence:
            record = self.records_by_id.get(ident)
            facts = record.details.get("aims_document") if record is not None else None
            if isinstance(facts, Mapping):
                listed.extend(str(n) for n in facts.get("suppliers") or ())
        missing = uncovered(found, listed)
        if not missing:
            return PathResult(result.status, (*result.reasons, seen), result.evidence)
        names = "; ".join(f"{s.name} ({s.label})" for s in missing[:5])
        return PathResult(
            MISSING,
            (
                f"{result.reasons[0]}, but the supplier register attested does not cover "
                f"what the lineage shows: {names}; list each in the supplier register "
                "(`aims docs init` fills it from lineage), complete it and attest it again",
                seen,
            ),
            result.evidence,
        )

    def _judged(self, system: str | None, entry: CatalogEntry) -> ControlStatus:
        cache_key = (system, entry.id)
        if cache_key not in self._raw:
            self._raw[cache_key] = self._judge(system, entry)
        return self._raw[cache_key]

    def _judge(self, system: str | None, entry: CatalogEntry) -> ControlStatus:
        scope = self.scope(system)
        parts = [(part, self._part(system, entry, part, scope)) for part in entry.rule.parts]
        verdict = combine(
            entry=entry,
            owner=self.owner(system),
            parts=parts,
            findings=self.findings_for(system, entry),
        )
        failing = [
            part
            for part, result in parts
            if result.status == FAILING and part.kind in ("evidence", "any_of")
        ]
        if verdict.status == FAILING and failing and not verdict.how_to_close.startswith("change"):
            # the same collector run again on the same model gives the same answer
            verdict = replace(
                verdict, how_to_close=ACTION_CHANGE.format(actions=verdict.how_to_close)
            )
        if system is None:
            return verdict
        config = self.in_scope[system]
        return replace(
            verdict, how_to_close=action_for(verdict.how_to_close, system, config.genai is not None)
        )

    def findings_for(self, system: str | None, entry: CatalogEntry) -> list[IntegrityFinding]:
        """The integrity findings that speak to ``entry`` for ``system`` (an organization-scope
        entry: every finding that speaks to it; a system's: that system's and those of records
        naming no system)."""
        found = self._findings_by_entry.get(entry.id, ())
        if entry.scope == "organization" or system is None:
            return list(found)
        return [f for f in found if f.system in (None, system)]

    def system_findings(self, system: str) -> tuple[IntegrityFinding, ...]:
        """The findings about ``system`` or naming no system."""
        return tuple(f for f in self.findings if f.system in (None, system))

    def _part(
        self, system: str | None, entry: CatalogEntry, part: RulePart, scope: Scope
    ) -> PathResult:
        """The verdict on one part of ``entry``'s rule for ``system``."""
        if part.kind == "evidence":
            result = evidence_part(
                part.kinds,
                scope,
                now=self.now,
                fresh=self.fresh_days(entry, scope),
                holding=part.holding,
            )
            if part.done:
                result = self.done(result)
            return self.approved(entry, self.with_coverage(system, entry, part, result))
        if part.kind == "attestation":
            return self.suppliers_covered(
                system,
                entry,
                self.approved(
                    entry, attestation_part(entry, str(part.document), scope, now=self.now)
                ),
            )
        if part.kind == "derived":
            statuses = [
                s for ref in part.entries for s in self._parts(system, self.catalog.get(ref))
            ]
            return derived_part(statuses)
        if part.kind == "any_of":
            return any_of_part(
                [self._part(system, entry, option, scope) for option in part.options],
                scope=scope,
            )
        check = str(part.check)
        if check == "risk_treatment":
            return self.risk_treatment(system)
        if check == "nonconformities_raised":
            return self.nonconformities_raised(system)
        if check == PROGRAMME_REF:
            return programme_part(
                self.config,
                self.catalog,
                self.scope(None).records,
                now=self.now,
                ref=config_ref(self.digest, PROGRAMME_REF),
            )
        if system is None:
            return self.checker.organization(check, entry.rule.fresh_days)
        return self.checker.system(check, self.in_scope[system], entry.rule.fresh_days)

    # -- the AIMS's processes: intervals, coverage, approvers ---------------------------------
    def fresh_days(self, entry: CatalogEntry, scope: Scope) -> int:
        """The rule's freshness: an interval aims.yaml declares for the process it names
        (``interval_from``), else the monitoring interval or ``fresh_days``."""
        source = entry.rule.interval_from
        declared = getattr(self.config, source, None) if source else None
        if declared is not None:
            return int(declared.interval_days)
        return fresh_days_for(entry, scope)

    def with_coverage(
        self, system: str | None, entry: CatalogEntry, part: RulePart, result: PathResult
    ) -> PathResult:
        """For rules with ``coverage``: how many of the expected monitoring intervals ran."""
        config = self.in_scope.get(system) if system is not None else None
        monitoring = config.monitoring if config is not None else None
        if not entry.rule.coverage or monitoring is None:
            return result
        return coverage_part(
            result,
            self.scope(system).records,
            part.kinds,
            now=self.now,
            interval_days=monitoring.interval_days,
            period_days=monitoring.coverage_days,
            minimum=monitoring.min_coverage,
        )

    def approved(self, entry: CatalogEntry, result: PathResult) -> PathResult:
        """A person's act counts only when its actor (an attestation's ``by``, a review's
        ``chair``: the kind's ``actor``) may act for the entry: ``approvers`` lists them and
        they hold the entry's ``authority`` role in ``people:`` (checked again here, whatever
        was checked when the act was recorded)."""
        if result.status != SATISFIED or not result.evidence:
            return result
        kinds = load_kinds()
        by_id = self.records_by_id
        problems = []
        for ident in result.evidence:
            record = by_id.get(ident)
            if record is None or record.kind not in kinds:
                continue
            if record.kind == "attestation":
                empty = substance_problem(
                    record.details, min_bytes=self.config.capture.min_document_bytes
                )
                if empty is not None:
                    problems.append(f"the attestation shows nothing: {empty}")
                # a document of the AIMS set: unfinished, or attested by another than its approver
                facts = record.details.get("aims_document")
                if isinstance(facts, Mapping):
                    by = str(record.details.get("by") or "")
                    problems.extend(document_problems(facts, control=entry.id, by=by))
            kind = kinds.get(record.kind)
            field = kind.actor if kind.vouches else None
            if field is None:
                continue
            actor = str(record.details.get(field) or "")
            problem = approver_problem(self.config, entry.id, actor, role=entry.authority)
            if problem is not None:
                problems.append(problem)
        if not problems:
            return result
        return PathResult(
            MISSING, (f"{result.reasons[0]}, but {'; '.join(problems)}",), result.evidence
        )

    def done(self, result: PathResult) -> PathResult:
        """An assessment part (``done``): a current record whose result fails still shows the
        assessment was done; its result is judged by the entries that verify it."""
        records = [self.records_by_id.get(e) for e in result.evidence]
        if result.status != FAILING or not records:
            return result
        if not all(r is not None and r.outcome == "fail" for r in records):
            return result  # failing for another reason (a record that failed verification)
        labels = ", ".join(record_label(r) for r in records if r is not None)
        return PathResult(
            SATISFIED,
            (
                f"assessment done: {labels}; its result fails ({'; '.join(result.reasons)}), "
                "judged under verification and risk treatment",
            ),
            result.evidence,
            evidenced=True,
            result_fails=True,
        )

    @property
    def records_by_id(self) -> dict[str, EvidenceRecord]:
        if self._by_id is None:
            self._by_id = {r.id: r for r in self.records}
        return self._by_id

    # -- nonconformities raised (10.2): the register covers what fails ---------------------
    def nonconformities_raised(self, system: str | None) -> PathResult:
        """Every failing entry of the in-scope systems (``system``'s, when given) has a
        nonconformity raised for it (an opening record naming the entry and its system)."""
        raised = {
            (r.system, r.details.get("entry"))
            for r in self.records
            if r.kind == "nonconformity" and r.details.get("entry")
        }
        systems = [system] if system is not None else list(self.in_scope)
        failing: list[str] = []
        for sid in systems:
            for entry in self.catalog.entries:
                if "nonconformities_raised" in entry.rule.config_checks:
                    continue  # the entry judged here, and any like it
                key = None if entry.scope == "organization" else sid
                verdict = self.status(sid, entry)
                label = entry.id if key is None else f"{entry.id} of {sid}"
                if verdict.status == FAILING and (key, entry.id) not in raised:
                    failing.append(label)
        failing = list(dict.fromkeys(failing))
        if failing:
            return PathResult(
                MISSING,
                (
                    "failing with no nonconformity raised: "
                    + ", ".join(failing)
                    + " (`aims nonconformities` raises them)",
                ),
            )
        return PathResult(SATISFIED, ("every failing entry has a nonconformity raised for it",), ())

    # -- risk treatment (8.3): the risk engine's own numbers --------------------------------
    def risk_treatment(self, system: str | None) -> PathResult:
        """Every risk of ``system`` (None: the whole register) is within the appetite after
        treatment, or is accepted by a named approver; the numbers are the risk evaluation's
        (measured indicators included), so 8.3 and the risk register tell one story."""
        risks = (
            [self.risk(r) for r in self.config.risks_for(system)]
            if system is not None
            else [self.risk(r) for r in self.config.risks if r.system in (None, *self.in_scope)]
        )
        label = system or "the organization"
        if not risks:
            return PathResult(MISSING, (f"no risks registered for {label}, so none is treated",))
        evidence = tuple(
            dict.fromkeys(
                [
                    config_ref(self.digest, f"risks[{i}]")
                    for i, r in enumerate(self.config.risks)
                    if r.system == system or system is None
                ]
                + [e for r in risks for e in r.evidence]
            )
        )
        problems = [
            f"{r.id}: residual {r.residual} is above the appetite {r.appetite}: {_why_untreated(r)}"
            for r in risks
            if r.unresolved
        ]
        if problems:
            return PathResult(FAILING, tuple(problems), evidence)
        above = [r for r in risks if r.above_appetite]
        held = [
            f"{r.id} (inherent {r.inherent} → residual {r.residual})"
            for r in risks
            if r.inherent_above_appetite and not r.above_appetite
        ]
        text = f"every risk of {label} is within the appetite {self.config.risk_criteria.appetite}"
        if held:
            text += " after treatment: " + ", ".join(held)
        if above:
            text += "; accepted above it: " + ", ".join(f"{r.id} ({r.acceptance})" for r in above)
        evidenced = bool(held) and all(
            all(s.evidenced for c in r.controls for s in self.controls_for(r.system, c))
            for r in risks
            if r.inherent_above_appetite and not r.above_appetite
        )
        return PathResult(SATISFIED, (text,), evidence, evidenced=evidenced)

    def _parts(self, system: str | None, entry: CatalogEntry) -> list[ControlStatus]:
        if system is None and entry.scope == "system":
            return [self.status(s, entry) for s in self.in_scope]
        return [self.status(system, entry)]

    def controls_for(self, system: str | None, control: str) -> list[ControlStatus]:
        """The verdicts a risk of ``system`` (None: organization-level) depends on."""
        if control not in self.catalog:
            return []
        return self._parts(system, self.catalog.get(control))

    # -- risks -------------------------------------------------------------------------------
    def indicator_fresh_days(self, kind: str, system: str | None) -> int:
        days = [e.rule.fresh_days for e in self.catalog.entries if kind in e.rule.kinds]
        if kind == "monitoring" and system is not None and self.scope(system).monitoring_days:
            days.append(int(self.scope(system).monitoring_days or 0))
        return min(days) if days else DEFAULT_INDICATOR_FRESH_DAYS

    def risk(self, risk: Risk) -> RiskResult:
        key = (risk.system, risk.id)
        if key not in self._risks:
            owner = risk.owner or self.owner(risk.system if risk.system in self.in_scope else None)
            kind = risk.indicator.kind if risk.indicator is not None else ""
            self._risks[key] = evaluate_risk(
                risk,
                config=self.config,
                scope=self.scope(risk.system),
                now=self.now,
                indicator_fresh_days=self.indicator_fresh_days(kind, risk.system),
                control_statuses=lambda control: self.controls_for(risk.system, control),
                owner=owner,
                approval_entries=self.treatment_entries,
                approval_roles={e: self.catalog.get(e).authority for e in self.treatment_entries},
            )
        return self._risks[key]

    @property
    def treatment_entries(self) -> tuple[str, ...]:
        """The entries that judge the risk treatment: whoever accepts a risk approves them."""
        return treatment_entries(self.catalog)

    def out_of_scope_risk(self, risk: Risk) -> RiskResult:
        """A risk of a system outside the AIMS scope: evaluated on its declarations only (no
        control of an unassessed system counts) and flagged, never dropped."""
        return evaluate_risk(
            risk,
            config=self.config,
            scope=Scope.build(system=risk.system, records=(), current=None),
            now=self.now,
            indicator_fresh_days=DEFAULT_INDICATOR_FRESH_DAYS,
            control_statuses=lambda control: (),
            owner=risk.owner or NO_OWNER,
            out_of_scope=True,
        )

    def risks_of(self, system: str) -> tuple[RiskResult, ...]:
        """The system's own risks, then the organization-level risks."""
        return tuple(
            self.risk(r) for r in (*self.config.risks_for(system), *self.config.risks_for(None))
        )

    # -- systems -----------------------------------------------------------------------------
    def system(self, system_id: str) -> SystemAssessment:
        config = self.in_scope[system_id]
        controls = tuple(self.status(system_id, e) for e in self.catalog.entries)
        risks = self.risks_of(system_id)
        urgent_controls = _urgent(risks)
        gaps = [
            gap
            for status in controls
            if (gap := gap_for(status, system=system_id if status.scope == "system" else None))
        ]
        return SystemAssessment(
            system=system_id,
            name=config.label,
            owner=config.owner or NO_OWNER,
            model=self.current_models.get(system_id),
            controls=controls,
            score=ratio(s.status for s in controls),
            risks=risks,
            gaps=prioritise(gaps, urgent={system_id: urgent_controls, None: urgent_controls}),
            integrity_findings=self.system_findings(system_id),
        )


_SYSTEM_PLACEHOLDER = re.compile(r"\bSYSTEM\b")


def action_for(text: str, system: str, genai: bool) -> str:
    """A gap's action for ``system``: its id filled in for the ``SYSTEM`` placeholder, and for a
    tabular system (``genai`` False) no alternative that only a GenAI system can take."""
    if not genai:
        kinds = load_kinds()
        genai_actions = [kinds.get(k).action for k in kinds.names if kinds.get(k).genai_only]
        for clause in text.split("; and "):
            options = clause.split(" or ")
            kept = [o for o in options if not any(a in o for a in genai_actions)]
            if kept and len(kept) != len(options):
                text = text.replace(clause, " or ".join(kept))
    return _SYSTEM_PLACEHOLDER.sub(system, text)


def _findings_by_entry(
    catalog: Catalog, findings: Iterable[IntegrityFinding]
) -> dict[str, list[IntegrityFinding]]:
    """Entry id -> the findings speaking to it: the catalog's controls for the finding's kind
    and the controls the record names."""
    by_entry: dict[str, list[IntegrityFinding]] = {}
    for finding in findings:
        kind_controls = catalog.controls_for_kind(finding.kind) if finding.kind else ()
        for control in dict.fromkeys((*kind_controls, *finding.controls)):
            if control in catalog:
                by_entry.setdefault(control, []).append(finding)
    return by_entry


def _urgent(risks: Iterable[RiskResult]) -> frozenset[str]:
    return frozenset(c for r in risks if r.above_appetite for c in r.controls)


def _selected(config: AimsConfig, systems: Iterable[str] | None) -> list[SystemConfig]:
    if systems is None:
        return list(config.assessed_systems)  # the pilot's systems when one is declared
    chosen = []
    for system_id in dict.fromkeys(systems):
        system = config.system(system_id)  # ConfigError for unknown ids
        if not system.in_scope:
            raise ConfigError(
                [ERROR_OUT_OF_SCOPE.format(system=system_id, reason=system.scope_reason)]
            )
        chosen.append(system)
    return chosen


def assess(
    catalog: Catalog,
    config: AimsConfig,
    records: Iterable[EvidenceRecord],
    *,
    current_models: Mapping[str, CurrentModel | None],
    now: datetime,
    systems: Iterable[str] | None = None,
    findings: Iterable[IntegrityFinding] = (),
    unsigned: str | None = None,
    unapproved_changes: Iterable[str] = (),
    inventory: Inventory | None = None,
) -> Assessment:
    """Assess the in-scope systems (or the named ones) against catalog, risks and SoA.

    ``current_models`` maps a system id to the model version it uses (missing or None: judge by
    the system's latest run). ``now`` is the moment of judgement (naive means UTC).
    ``findings``: stored records that failed verification (never in ``records``); every entry
    each speaks to is failing, naming it. ``unsigned``: why the evidence is unsigned (no trusted
    keys), None when signatures are checked. ``unapproved_changes``: the configuration changes
    no authorised person approved (the configuration ledger's findings, one text each). Each of
    these blocks readiness. ``ConfigError`` when ``systems`` names an unknown or out-of-scope
    system. ``inventory``: what the tracking server holds (None: not listed); an undeclared
    registered model there fails 4.3, naming it.
    """
    evaluation = _Evaluation(
        catalog,
        config,
        records,
        current_models=current_models,
        now=now,
        findings=findings,
        inventory=inventory,
    )
    chosen = _selected(config, systems)
    assessed = {s.id: evaluation.system(s.id) for s in chosen}

    soa: list[SoaEntry] = []
    for entry in catalog.controls:
        statuses = {sid: sa.control(entry.id) for sid, sa in assessed.items()}
        soa.append(soa_entry(entry, config=config, statuses=statuses))

    pairs: list[tuple[str, str]] = []
    gaps: list[Gap] = []
    for entry in catalog.entries:
        if entry.scope == "organization":
            verdict = evaluation.status(None, entry)
            pairs.append((entry.group, verdict.status))
            gap = gap_for(verdict, system=None)
            if gap is not None:
                gaps.append(gap)
            continue
        for sid, sa in assessed.items():
            verdict = sa.control(entry.id)
            pairs.append((entry.group, verdict.status))
            gap = gap_for(verdict, system=sid)
            if gap is not None:
                gaps.append(gap)
    urgent: dict[str | None, frozenset[str]] = {
        sid: _urgent(sa.risks) for sid, sa in assessed.items()
    }
    urgent[None] = frozenset().union(*urgent.values()) | _urgent(
        evaluation.risk(r) for r in config.risks_for(None)
    )
    verdicts = [
        (None if entry.scope == "organization" else sid, sa.control(entry.id))
        for entry in catalog.entries
        for sid, sa in assessed.items()
    ]
    unique = {(system, v.id): v for system, v in verdicts}
    risks = {(r.system, r.id): r for sa in assessed.values() for r in sa.risks}
    out_of_scope = tuple(
        evaluation.out_of_scope_risk(r)
        for r in config.risks
        if r.system is not None and r.system not in evaluation.in_scope
    )
    return Assessment(
        systems=MappingProxyType(assessed),
        soa=tuple(soa),
        readiness=readiness(
            pairs=pairs,
            per_system={sid: sa.score for sid, sa in assessed.items()},
            groups=catalog.groups(),
            gaps=gaps,
            urgent=urgent,
            blockers=_blockers(
                catalog,
                unique,
                risks.values(),
                out_of_scope_risks=out_of_scope,
                findings=evaluation.findings,
                unsigned=unsigned,
                unapproved_changes=unapproved_changes,
            ),
            basis=MappingProxyType(basis_counts(unique.values(), evaluation.records)),
            excluded=sum(1 for v in unique.values() if v.status == NOT_APPLICABLE),
            findings=tuple(
                Blocker(
                    id=control,
                    system=system,
                    reason=(
                        f"{control} is excluded in the Statement of Applicability"
                        f"{f' for {system}' if system else ''} yet {record_label(record)} speaks "
                        "to it"
                    ),
                )
                for control, system, record in evaluation.checker.contradicted_exclusions()
            ),
        ),
        config_digest=evaluation.digest,
        evaluated_at=_iso(evaluation.now),
        out_of_scope_risks=out_of_scope,
        integrity_findings=evaluation.findings,
    )


def _why_untreated(risk: RiskResult) -> str:
    """Why a risk's treatment has not brought it within the appetite, from its own reasons."""
    if risk.treatment == "accept":
        named = next((r for r in risk.reasons if r.startswith("not accepted: ")), None)
        return named.removeprefix("not accepted: ") if named else "it is accepted by no one"
    return next(
        (
            r.removesuffix("; residual = inherent").removeprefix(ABOVE_PREFIX)
            for r in risk.reasons
            if r.startswith(("treating controls not satisfied", ABOVE_PREFIX, "no residual risk"))
        ),
        "its residual stays at the inherent risk",
    )


#: the order blockers are listed in: what evidence contradicts first, then what is out of date,
#: then what is absent
_BLOCKER_RANK = {FAILING: 0, STALE: 1, MISSING: 2}
BLOCKER_UNSIGNED = "{note}"  # the trust policy's note: "evidence is unsigned: ..."
BLOCKER_UNVERIFIABLE = "a stored record failed verification: {reason}"
BLOCKER_UNAPPROVED_CHANGE = "configuration change not approved: {change}"
BLOCKER_RISK = (
    "risk {id} stays above the appetite ({residual} > {appetite}) without an approved acceptance"
)
BLOCKER_OUT_OF_SCOPE_RISK = (
    "risk {id} of {system}, a system outside the AIMS scope, is above the appetite ({residual} > "
    "{appetite}) without an approved acceptance: bring the system into scope or accept the risk"
)


def _blockers(
    catalog: Catalog,
    verdicts: Mapping[tuple[str | None, str], ControlStatus],
    risks: Iterable[RiskResult],
    *,
    out_of_scope_risks: Iterable[RiskResult] = (),
    findings: Iterable[IntegrityFinding] = (),
    unsigned: str | None = None,
    unapproved_changes: Iterable[str] = (),
) -> tuple[Blocker, ...]:
    """What stops a certification audit: every applicable entry that is not satisfied (failing,
    stale or missing, with its owner; the catalog's ``blocks_certification`` text where it says
    why), every risk above the appetite that no authorised approver accepted (out-of-scope
    systems' included), every record that failed verification, unsigned evidence, and every
    configuration change not approved."""
    blockers: list[Blocker] = []
    open_entries = sorted(
        (
            (key, verdict)
            for key, verdict in verdicts.items()
            if verdict.status not in (SATISFIED, NOT_APPLICABLE)
        ),
        key=lambda kv: (_BLOCKER_RANK.get(kv[1].status, 3), id_key(kv[0][1]), kv[0][0] or ""),
    )
    for (system, entry_id), verdict in open_entries:
        needed = catalog.get(entry_id).blocks_certification
        first = verdict.reasons[0] if verdict.reasons else verdict.status
        reason = f"{needed} ({verdict.status})" if needed else f"{verdict.status}: {first}"
        blockers.append(
            Blocker(
                id=entry_id,
                system=system,
                reason=reason,
                owner=verdict.owner,
                status=verdict.status,
            )
        )
    for risk in risks:
        if risk.unresolved:
            blockers.append(
                Blocker(
                    id=risk.id,
                    system=risk.system,
                    reason=BLOCKER_RISK.format(
                        id=risk.id, residual=risk.residual, appetite=risk.appetite
                    ),
                    owner=risk.owner,
                    status="risk",
                )
            )
    for risk in out_of_scope_risks:
        if risk.unresolved:
            blockers.append(
                Blocker(
                    id=risk.id,
                    system=risk.system,
                    reason=BLOCKER_OUT_OF_SCOPE_RISK.format(
                        id=risk.id,
                        system=risk.system,
                        residual=risk.residual,
                        appetite=risk.appetite,
                    ),
                    owner=risk.owner,
                    status="out_of_scope_risk",
                )
            )
    for finding in findings:
        blockers.append(
            Blocker(
                id=short_id(finding.record_id),
                system=finding.system,
                reason=BLOCKER_UNVERIFIABLE.format(reason=finding.reason),
                status="unverifiable",
            )
        )
    if unsigned is not None:
        blockers.append(
            Blocker(
                id="integrity", reason=BLOCKER_UNSIGNED.format(note=unsigned), status="unsigned"
            )
        )
    for change in unapproved_changes:
        blockers.append(
            Blocker(
                id="aims.yaml",
                reason=BLOCKER_UNAPPROVED_CHANGE.format(change=change),
                status="unapproved_change",
            )
        )
    # what evidence contradicts and what the integrity of the evidence puts in doubt first, then
    # what is out of date, then what is absent
    order = {FAILING: 0, STALE: 2, MISSING: 3}
    return tuple(sorted(blockers, key=lambda b: order.get(b.status, 1)))


CAPTURED = "captured"
ATTESTATION_ONLY = "attestation_only"
DECLARATION_ONLY = "declaration_only"


def basis_counts(
    verdicts: Iterable[ControlStatus], records: Iterable[EvidenceRecord]
) -> dict[str, int]:
    """The satisfied entries by what they rest on: a captured record (any record that is not a
    person's attestation), attestations only, or aims.yaml declarations only."""
    kinds = {r.id: r.kind for r in records}
    counts = {CAPTURED: 0, ATTESTATION_ONLY: 0, DECLARATION_ONLY: 0}
    for verdict in verdicts:
        if verdict.status != SATISFIED:
            continue
        behind = [kinds[e] for e in verdict.evidence if e in kinds]
        if any(kind != "attestation" for kind in behind):
            counts[CAPTURED] += 1
        elif behind:
            counts[ATTESTATION_ONLY] += 1
        else:
            counts[DECLARATION_ONLY] += 1
    return counts


def assess_system(
    catalog: Catalog,
    config: AimsConfig,
    records: Iterable[EvidenceRecord],
    *,
    system: str,
    current_models: Mapping[str, CurrentModel | None],
    now: datetime,
    findings: Iterable[IntegrityFinding] = (),
) -> SystemAssessment:
    """Assess one in-scope system (``ConfigError`` if unknown or out of scope).

    Organization-level risks still consult every in-scope system's verdicts, hence the mapping.
    """
    assessment = assess(
        catalog,
        config,
        records,
        current_models=current_models,
        now=now,
        systems=[system],
        findings=findings,
    )
    return assessment.systems[system]


# ------------------------------------------------------------------------- JSON-ready views
def _model_dict(model: CurrentModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {"name": model.name, "version": model.version, "run_id": model.run_id}


def summary_dict(sa: SystemAssessment) -> dict[str, Any]:
    """The stable JSON interface of a system's assessment."""
    return {
        "system": sa.system,
        "name": sa.name,
        "owner": sa.owner,
        "model": _model_dict(sa.model),
        "score": sa.score,
        "controls": [
            {
                "id": c.id,
                "title": c.title,
                "kind": c.kind,
                "group": c.group,
                "status": c.status,
                "reasons": list(c.reasons),
                "evidence": list(c.evidence),
                "parts": [p.to_dict() for p in c.parts],
            }
            for c in sa.controls
        ],
        "risks": [r.to_dict() for r in sa.risks],
        "gaps": [g.to_dict() for g in sa.gaps],
        "counts": sa.counts(),
        "integrity_findings": [f.to_dict() for f in sa.integrity_findings],
    }


def status_rows(a: Assessment) -> list[dict[str, Any]]:
    """One row per assessed system: score, risks above appetite, gaps and counts per status."""
    return [
        {
            "system": sa.system,
            "name": sa.name,
            "owner": sa.owner,
            "score": sa.score,
            "risks_above_appetite": sum(1 for r in sa.risks if r.above_appetite),
            "gaps": len(sa.gaps),
            "counts": sa.counts(),
        }
        for sa in a.systems.values()
    ]


def soa_rows(a: Assessment) -> list[dict[str, Any]]:
    """The Statement of Applicability as rows (one per Annex A control)."""
    return [entry.to_dict() for entry in a.soa]


def risk_rows(a: Assessment) -> list[dict[str, Any]]:
    """The evaluated risk register: each risk once (organization-level risks included), then the
    risks of out-of-scope systems, flagged ``out_of_scope``."""
    seen: dict[tuple[str | None, str], dict[str, Any]] = {}
    for sa in a.systems.values():
        for risk in sa.risks:
            seen.setdefault((risk.system, risk.id), risk.to_dict())
    for risk in a.out_of_scope_risks:
        seen.setdefault((risk.system, risk.id), risk.to_dict())
    return list(seen.values())
