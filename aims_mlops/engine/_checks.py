"""Declared parts of rules: what ``aims.yaml`` says, judged purely from the configuration.

Evidence ids of declarations are ``config:<digest[:12]>#<path>`` (for example
``config:ab12cd34ef56#systems[0].owner``). Checks, by the name a catalog rule gives them:

- ``owner_named``, ``intended_use_declared``, ``monitoring_declared``: the system declares it
  (monitoring: ``monitoring`` thresholds, or for a GenAI system its traces' retention).
- ``requirements_declared``: an intended use and performance, fairness or data-quality
  requirements; ``thresholds_declared``: performance or fairness thresholds.
- ``impact_assessment`` / ``risk_review``: the latest assessment (review) of the system, younger
  than the rule's ``fresh_days``; for a system that reassesses on a new version
  (``reassess_on: new_version``, the default in deployment and operation) it must also be about
  the version in production: its ``model_version`` equals the current one, or, when it names
  none, it is dated after the day the current version was registered (a day cannot show it came
  after a registration that same day). Otherwise stale, naming the version. Declarations dated
  after the moment judged (``--as-of``) are ignored.
- ``risk_register``: at least one risk is registered for the system.
- ``scope_declared``: the AIMS scope and at least one in-scope system.
- ``soa_decided``: the Statement of Applicability has decisions, and no exclusion is contradicted
  by evidence (records that speak to an excluded control, or an entry about suppliers excluded
  while the lineage shows a third party's data or models): failing, naming them.

For an organization-scope entry a per-system check must hold for every in-scope system. The
derived check ``risk_treatment`` needs the risk evaluation and lives with the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import CatalogError
from aims_mlops.catalog import CONFIG_CHECKS, DERIVED_CHECKS
from aims_mlops.engine import _derived as derived
from aims_mlops.engine._inventory import undeclared_models
from aims_mlops.engine._results import MISSING, SATISFIED, STALE, CurrentModel
from aims_mlops.engine._status import FAILING, PathResult, record_label, worst
from aims_mlops.engine._suppliers import exclusions_against_lineage
from aims_mlops.evidence import EvidenceRecord, Inventory, parse_timestamp

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig, SystemConfig

_DERIVED_FROM_RECORDS = frozenset(
    {
        "people_trained",
        "policy_acknowledged",
        "document_index",
        "document_versions",
        "improvements_verified",
        "changes_approved",
    }
)
ERROR_UNKNOWN_CONFIG_CHECK = "the engine implements no config check named {name!r}"


def config_ref(digest: str, path: str) -> str:
    """The evidence id of a declaration in aims.yaml."""
    return f"config:{digest[:12]}#{path}"


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _bounds_text(bounds: Mapping[str, Any]) -> str:
    parts = []
    for metric, threshold in bounds.items():
        if threshold.min is not None:
            parts.append(f"{metric} >= {threshold.min:g}")
        if threshold.max is not None:
            parts.append(f"{metric} <= {threshold.max:g}")
    return ", ".join(parts)


def version_trigger(
    *,
    what: str,
    system: SystemConfig,
    on: date,
    model_version: str | None,
    current: CurrentModel | None,
) -> str | None:
    """Why a dated assessment of ``system`` is due again because of a new production version
    (None when it is not). ``what`` names it in the reason."""
    if not system.reassess_on_new_version or current is None or current.version is None:
        return None
    if model_version is not None:
        if model_version == current.version:
            return None
        return (
            f"{what} assessed {current.name} version {model_version}; the version in production "
            f"is now {current.version}: reassess it (reassess_on: new_version)"
        )
    if current.registered_at is not None:
        registered = parse_timestamp(current.registered_at)
        # a declaration dated by day counts only for versions registered before that day: on
        # the day itself it cannot be told whether it came before or after the registration
        if on > registered.date():
            return None
        if on == registered.date():
            return (
                f"{what} of {on.isoformat()} is dated the day {current.describe()} was "
                f"registered ({current.registered_at}); a day cannot show it came after the "
                "registration: name its model_version (reassess_on: new_version)"
            )
        return (
            f"{what} of {on.isoformat()} predates {current.describe()}, registered on "
            f"{registered.date().isoformat()}: reassess it for that version "
            "(reassess_on: new_version)"
        )
    return (
        f"{what} names no model_version, so it cannot be shown to cover {current.describe()} "
        f"(reassess_on: new_version): add model_version"
    )


class ConfigChecker:
    """The declared parts, judged from the configuration (and, for ``soa_decided``, whether
    evidence contradicts an exclusion)."""

    def __init__(
        self,
        config: AimsConfig,
        *,
        digest: str,
        now: datetime,
        current_models: Mapping[str, CurrentModel | None],
        records: Iterable[EvidenceRecord] = (),
        inventory: Inventory | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.config = config
        self.inventory = inventory
        #: the catalog (its ``not_excludable_when``) for ``soa_decided``; None: not checked
        self.catalog = catalog
        self.digest = digest
        self.now = now
        self.current_models = current_models
        self.records = tuple(records)
        self.index = {system.id: i for i, system in enumerate(config.systems)}

    def ref(self, path: str) -> str:
        return config_ref(self.digest, path)

    def sys_path(self, system: SystemConfig, field: str) -> str:
        return f"systems[{self.index[system.id]}].{field}"

    # -- per-system checks -------------------------------------------------------------------
    def owner_named(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "owner")
        if system.owner and system.owner.strip():
            return PathResult(
                SATISFIED,
                (f"{system.id} names its owner: {system.owner} ({path})",),
                (self.ref(path),),
            )
        return PathResult(MISSING, (f"{system.id} names no owner ({path} is not declared)",))

    def intended_use_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "intended_use")
        if system.intended_use and system.intended_use.strip():
            text = f"{system.id} declares its intended use: {_quote(system.intended_use)} ({path})"
            return PathResult(SATISFIED, (text,), (self.ref(path),))
        return PathResult(MISSING, (f"{system.id} declares no intended use ({path})",))

    def requirements_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        declared: list[str] = []
        evidence: list[str] = []
        if system.performance:
            declared.append(f"performance ({_bounds_text(system.performance)})")
            evidence.append(self.ref(self.sys_path(system, "performance")))
        if system.fairness:
            declared.append(f"fairness ({_bounds_text(system.fairness)})")
            evidence.append(self.ref(self.sys_path(system, "fairness")))
        if system.data_quality is not None and system.data_quality.expectations:
            count = len(system.data_quality.expectations)
            declared.append(f"data quality ({count} expectation{'s' if count != 1 else ''})")
            evidence.append(self.ref(self.sys_path(system, "data_quality")))
        has_use = bool(system.intended_use and system.intended_use.strip())
        if has_use and declared:
            evidence.insert(0, self.ref(self.sys_path(system, "intended_use")))
            text = f"{system.id} declares its intended use and requirements: " + "; ".join(declared)
            return PathResult(SATISFIED, (text,), tuple(evidence))
        lacking = []
        if not has_use:
            lacking.append("an intended use")
        if not declared:
            lacking.append("performance, fairness or data-quality requirements")
        return PathResult(
            MISSING, (f"{system.id} declares no " + " and no ".join(lacking),), tuple(evidence)
        )

    def thresholds_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        bounds = {**system.performance, **system.fairness}
        if bounds:
            paths = [
                self.sys_path(system, part)
                for part in ("performance", "fairness")
                if getattr(system, part)
            ]
            text = f"{system.id} declares thresholds: {_bounds_text(bounds)}"
            return PathResult(SATISFIED, (text,), tuple(self.ref(p) for p in paths))
        return PathResult(MISSING, (f"{system.id} declares no performance or fairness thresholds",))

    def _dated(
        self,
        *,
        what: str,
        system: SystemConfig,
        on: date,
        model_version: str | None,
        ref: str,
        head: str,
        fresh_days: int,
    ) -> PathResult:
        age = (self.now.date() - on).days
        if age > fresh_days:
            text = f"{head} is {age} days old, older than the {fresh_days}-day freshness limit"
            return PathResult(STALE, (text,), (ref,))
        due = version_trigger(
            what=what,
            system=system,
            on=on,
            model_version=model_version,
            current=self.current_models.get(system.id),
        )
        if due is not None:
            return PathResult(STALE, (f"{head}: {due}",), (ref,))
        version = f", version {model_version}" if model_version else ""
        return PathResult(SATISFIED, (f"{head} ({age} days old{version})",), (ref,))

    def _latest_dated(
        self,
        *,
        what: str,
        field: str,
        system: SystemConfig,
        fresh_days: int,
        on: Callable[[Any], date],
        missing: str,
        head: Callable[[Any], str],
    ) -> PathResult:
        """The latest declaration of ``system`` in ``config.<field>`` judged by
        :meth:`_dated`; re-performed as of a past moment, one dated after it does not exist yet."""
        declared = getattr(self.config, field)
        found = [d for d in declared if d.system == system.id and on(d) <= self.now.date()]
        latest = max(found, key=on) if found else None
        if latest is None:
            return PathResult(MISSING, (missing,))
        return self._dated(
            what=what,
            system=system,
            on=on(latest),
            model_version=latest.model_version,
            ref=self.ref(f"{field}[{declared.index(latest)}]"),
            head=head(latest),
            fresh_days=fresh_days,
        )

    def impact_assessment(self, system: SystemConfig, fresh_days: int) -> PathResult:
        return self._latest_dated(
            what="the impact assessment",
            field="impact_assessments",
            system=system,
            fresh_days=fresh_days,
            on=lambda a: a.assessed_on,
            missing=f"no impact assessment declared for {system.id} (impact_assessments)",
            head=lambda a: (
                f"impact assessment of {system.id} by {a.assessed_by} on "
                f"{a.assessed_on.isoformat()} (severity {a.severity})"
            ),
        )

    def risk_review(self, system: SystemConfig, fresh_days: int) -> PathResult:
        return self._latest_dated(
            what="the risk review",
            field="risk_reviews",
            system=system,
            fresh_days=fresh_days,
            on=lambda r: r.reviewed_on,
            missing=f"no review of the risks of {system.id} recorded (risk_reviews)",
            head=lambda r: (
                f"risk review of {system.id} by {r.reviewed_by} on {r.reviewed_on.isoformat()}"
            ),
        )

    def risk_register(self, system: SystemConfig, fresh_days: int) -> PathResult:
        risks = self.config.risks_for(system.id)
        if not risks:
            return PathResult(MISSING, (f"no risks registered for {system.id} (risks)",))
        listed = ", ".join(f"{r.id} ({r.likelihood} × {r.impact} = {r.score})" for r in risks)
        return PathResult(
            SATISFIED,
            (
                f"{len(risks)} risk{'s' if len(risks) != 1 else ''} registered for {system.id}: "
                f"{listed}",
            ),
            tuple(self.ref(f"risks[{self.config.risks.index(r)}]") for r in risks),
        )

    def monitoring_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        path = self.sys_path(system, "monitoring")
        monitoring = system.monitoring
        genai = getattr(system, "genai", None)
        retention = genai.traces.retention_days if genai is not None else None
        if monitoring is None and retention is not None:
            traces = self.sys_path(system, "genai.traces")
            text = f"{system.id} keeps its request traces for {retention} days ({traces})"
            return PathResult(SATISFIED, (text,), (self.ref(traces),))
        if monitoring is None:
            return PathResult(MISSING, (f"{system.id} declares no monitoring ({path})",))
        text = (
            f"{system.id} declares monitoring every {monitoring.interval_days} days "
            f"(PSI <= {monitoring.psi_max:g}, KS p-value >= {monitoring.ks_pvalue_min:g})"
        )
        return PathResult(SATISFIED, (text,), (self.ref(path),))

    def log_retention_declared(self, system: SystemConfig, fresh_days: int) -> PathResult:
        genai = getattr(system, "genai", None)
        retention = genai.traces.retention_days if genai is not None else None
        path = self.sys_path(system, "genai.traces.retention_days")
        if retention is None:
            return PathResult(
                MISSING, (f"{system.id} declares no retention for its request traces ({path})",)
            )
        text = f"{system.id} keeps its request traces for {retention} days ({path})"
        return PathResult(SATISFIED, (text,), (self.ref(path),))

    # -- organization-level --------------------------------------------------------------------
    def scope_declared(self) -> PathResult:
        """The scope is declared, and (when the tracking server was listed) every registered
        model there is declared by a system of aims.yaml, in scope or out of it with a reason."""
        result = self._scope_text()
        if self.inventory is None:
            return result
        undeclared = undeclared_models(self.config, self.inventory.registered_models)
        if undeclared:
            return PathResult(
                FAILING,
                (
                    *result.reasons,
                    "registered in the tracking server but declared by no system of aims.yaml: "
                    + ", ".join(undeclared)
                    + " (declare each as a system, in scope, or out of scope with its "
                    "scope_reason; `aims inventory` lists them)",
                ),
                result.evidence,
            )
        if not self.inventory.complete:
            return PathResult(
                MISSING,
                (
                    *result.reasons,
                    f"the tracking server's models could not all be listed: "
                    f"{self.inventory.problem}",
                ),
                result.evidence,
            )
        if result.status == SATISFIED:
            found = len(self.inventory.registered_models)
            return PathResult(
                SATISFIED,
                (*result.reasons, f"all {found} registered models are declared"),
                result.evidence,
            )
        return result

    def _scope_text(self) -> PathResult:
        scope = self.config.organization.aims_scope
        in_scope = self.config.in_scope_systems
        out = [s for s in self.config.systems if not s.in_scope]
        evidence = [self.ref("organization.aims_scope")] if scope and scope.strip() else []
        if scope and scope.strip() and in_scope:
            names = ", ".join(s.id for s in in_scope)
            plural = "s" if len(in_scope) != 1 else ""
            text = (
                f"AIMS scope declared: {_quote(scope)}; {len(in_scope)} system{plural} in scope "
                f"({names})"
            )
            if out:
                text += "; out of scope: " + ", ".join(f"{s.id} ({s.scope_reason})" for s in out)
            evidence.extend(self.ref(self.sys_path(s, "in_scope")) for s in self.config.systems)
            return PathResult(SATISFIED, (text,), tuple(evidence))
        lacking = []
        if not (scope and scope.strip()):
            lacking.append("organization.aims_scope is not declared")
        if not in_scope:
            lacking.append("no system is in scope")
        return PathResult(MISSING, ("; ".join(lacking),), tuple(evidence))

    def contradicted_exclusions(self) -> list[tuple[str, str | None, EvidenceRecord]]:
        """(control, system, record) for every record that speaks to a control the SoA excludes
        for that record's system (an attestation or captured evidence of an excluded control)."""
        found = []
        for record in self.records:
            if record.kind == "error":
                continue
            for control in record.controls:
                decision = self.config.soa_decision(control, record.system)
                if decision is not None and not decision.applicable:
                    found.append((control, record.system, record))
        return found

    def soa_decided(self) -> PathResult:
        decisions = self.config.soa
        if not decisions:
            return PathResult(
                MISSING,
                ("no Statement of Applicability decisions in aims.yaml (soa)",),
                (),
            )
        excluded = [d for d in decisions if not d.applicable]
        evidence = (self.ref("soa"),)
        contradicted = self.contradicted_exclusions()
        refused = (
            [
                message
                for _, message in exclusions_against_lineage(
                    self.config, self.catalog, self.records
                )
            ]
            if self.catalog is not None
            else []
        )
        if contradicted or refused:
            reasons = tuple(
                f"{control} is excluded in the Statement of Applicability"
                f"{f' for {system}' if system else ''}, yet {record_label(record)} speaks to it: "
                "review the exclusion"
                for control, system, record in contradicted
            )
            return PathResult(
                FAILING,
                (*reasons, *refused),
                (*evidence, *(r.id for _, _, r in contradicted)),
            )
        text = (
            f"Statement of Applicability decided in aims.yaml: {len(decisions)} explicit "
            f"decision{'s' if len(decisions) != 1 else ''} ({len(excluded)} justified "
            f"exclusion{'s' if len(excluded) != 1 else ''}, none contradicted by evidence); every "
            "other Annex A control applies"
        )
        return PathResult(SATISFIED, (text,), evidence)

    def from_records(self, name: str, fresh_days: int) -> PathResult:
        """The documented information the tool holds itself (``engine/_derived.py``)."""
        records, now = self.records, self.now
        if name == "people_trained":
            return derived.people_trained(self.config, records, now=now, fresh_days=fresh_days)
        if name == "policy_acknowledged":
            return derived.policy_acknowledged(self.config, records, now=now)
        if name == "document_index":
            return derived.document_index(records, now=now)
        if name == "document_versions":
            return derived.document_versions(records, now=now)
        if name == "improvements_verified":
            return derived.improvements_verified(records)
        return derived.changes_approved(records)

    # -- dispatch ------------------------------------------------------------------------------
    def organization(self, name: str, fresh_days: int) -> PathResult:
        """An organization-scope check: per-system checks must hold for every in-scope system."""
        if name == "scope_declared":
            return self.scope_declared()
        if name == "soa_decided":
            return self.soa_decided()
        if name in _DERIVED_FROM_RECORDS:
            return self.from_records(name, fresh_days)
        systems = self.config.assessed_systems
        if not systems:
            return PathResult(MISSING, ("no system is in the AIMS scope",))
        results = [self.system(name, s, fresh_days) for s in systems]
        evidence = tuple(e for r in results for e in r.evidence)
        bad = [r for r in results if r.status != SATISFIED]
        if not bad:
            return PathResult(SATISFIED, tuple(x for r in results for x in r.reasons), evidence)
        summary = f"{len(results) - len(bad)} of {len(results)} in-scope systems meet {name}"
        reasons = (summary, *(x for r in bad for x in r.reasons))
        return PathResult(worst(r.status for r in bad), reasons, evidence)

    def system(self, name: str, system: SystemConfig, fresh_days: int) -> PathResult:
        if name == "scope_declared":
            return self.scope_declared()
        if name == "soa_decided":
            return self.soa_decided()
        method = (
            getattr(self, name, None)
            if name in CONFIG_CHECKS and name not in DERIVED_CHECKS
            else None
        )
        if method is None:
            raise CatalogError(ERROR_UNKNOWN_CONFIG_CHECK.format(name=name))
        result: PathResult = method(system, fresh_days)
        return result
