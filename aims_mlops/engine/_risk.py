"""Risk evaluation: inherent and residual likelihood × impact against the risk appetite.

- inherent = likelihood × impact. When the risk has an ``indicator``, the latest current record of
  ``indicator.kind`` that carries ``indicator.metric`` sets the likelihood from the bands
  (``<= b0`` → 1, ... else 5; mirrored for ``lower_is_worse``), overriding the declared
  likelihood. With no current measurement, missing evidence is never better than failing
  evidence: the likelihood is the worse of the declared one and the last measurement's, however
  old (the reason says which).
- residual = the declared residual only when EVERY treating control is satisfied for the system
  *by evidence* (captured evidence or an attestation; a control met by aims.yaml text alone does
  not show that it works). ``transfer`` and ``avoid`` lower it only through a named treating
  control so evidenced (the attested contract or decision); ``accept`` keeps the inherent risk.
  Otherwise residual = inherent, and the reason names the controls that fall short. With an
  indicator, the residual likelihood is never below the measured indicator's level: ``max(declared
  residual likelihood, indicator likelihood)`` when the controls are satisfied (the reason says
  which one set it).
- ``above_appetite`` = residual > appetite; a risk above the appetite is ``unresolved`` unless it
  is accepted with ``acceptance: {by, on}`` (not expired: ``until``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aims_mlops.engine._programme import approver_problem, same_person
from aims_mlops.engine._results import SATISFIED, ControlStatus, RiskResult
from aims_mlops.engine._status import Scope, record_label, staleness
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.evidence._kinds import UNDEFINED_CHECK

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig, Risk, RiskCriteria


def indicator_record(
    risk: Risk, scope: Scope, *, now: datetime, fresh_days: int
) -> EvidenceRecord | None:
    """The latest current record of the indicator's kind that measured its metric."""
    indicator = risk.indicator
    if indicator is None:
        return None
    candidates = [
        r for r in scope.records if r.kind == indicator.kind and indicator.metric in r.metrics
    ]
    candidates.sort(key=lambda r: (r.collected, r.id), reverse=True)
    for record in candidates:
        if staleness(record, scope, now=now, fresh_days=fresh_days) is None:
            return record
    return None


#: a record's check that fails when its measurement proves nothing (the fairness collector's
#: ``UNDEFINED_CHECK``: ratios 0/0, groups the model never selects)
REASON_NOT_MEASURED = (
    "{record} gives {metric} = {value:.4g}, but its measurement proves nothing ({why}): the "
    "indicator is treated as not measured and the declared likelihood {likelihood} is used"
)


def degenerate(record: EvidenceRecord) -> str | None:
    """Why ``record``'s metrics prove nothing (an undefined or degenerate measurement, failed
    or only warned about), or None."""
    why = record.details.get("degenerate")
    if isinstance(why, list | tuple) and why:
        return "; ".join(map(str, why))
    checks = record.details.get("checks")
    for check in checks if isinstance(checks, list | tuple) else ():
        if (
            isinstance(check, Mapping)
            and check.get("check") == UNDEFINED_CHECK
            and check.get("passed") is False
        ):
            return str(check.get("reason") or "undefined")
    return None


def last_measured(risk: Risk, scope: Scope) -> EvidenceRecord | None:
    """The latest record of the indicator's kind that measured its metric, current or not."""
    indicator = risk.indicator
    if indicator is None:
        return None
    candidates = [
        r for r in scope.records if r.kind == indicator.kind and indicator.metric in r.metrics
    ]
    return max(candidates, key=lambda r: (r.collected, r.id)) if candidates else None


#: The kind of a person's signed acceptance of a risk.
RISK_ACCEPTANCE = "risk_acceptance"
WHY_ACCEPTANCE_UNSIGNED = (
    "its acceptance by {by} on {on} is not signed by {by} (`aims risk accept {risk} --key FILE`)"
)
ACCEPTANCE_NO_DOCUMENT = (
    "its acceptance by {by} names no document (risks[].acceptance.document): an acceptance above "
    "the appetite is a documented decision"
)


def treatment_entries(catalog: Catalog) -> tuple[str, ...]:
    """The entries that judge the risk treatment: whoever accepts a risk approves them."""
    return tuple(e.id for e in catalog.entries if "risk_treatment" in e.rule.config_checks)


def acceptor_problem(
    config: AimsConfig,
    by: str,
    *,
    entries: Sequence[str],
    roles: Mapping[str, str | None] | None = None,
) -> str | None:
    """Why ``by`` may not accept a risk (None: may): ``approvers`` must allow them for each of
    ``entries`` (the risk-treatment entries) and they must hold the role ``roles`` gives it.
    Checked at the act (``aims risk accept``) and again at judgement."""
    for entry in entries:
        problem = approver_problem(config, entry, by, role=(roles or {}).get(entry))
        if problem is not None:
            return f"its acceptance does not count: {problem}"
    return None


def acceptance_text(
    risk: Risk,
    *,
    now: datetime,
    config: AimsConfig | None = None,
    approval_entries: Sequence[str] = (),
    records: Sequence[EvidenceRecord] = (),
    roles: Mapping[str, str | None] | None = None,
) -> tuple[str | None, str | None]:
    """(acceptance, problem): "by NAME on DATE" for a valid acceptance, else why not. With
    ``config``, the approver must be one ``approvers`` allows for each of ``approval_entries``
    (the entries that judge the risk treatment) and hold the role ``roles`` gives the entry (the
    catalog's ``authority``), and the acceptance must name its document; once ``people:`` list
    keys, it must also be signed by the person it names (a ``risk_acceptance`` record among
    ``records``)."""
    if risk.treatment != "accept":
        return None, None
    acceptance = risk.acceptance
    if acceptance is None:
        return None, "its treatment is accept but no approver is recorded (risks[].acceptance)"
    if config is not None:
        problem = acceptor_problem(config, acceptance.by, entries=approval_entries, roles=roles)
        if problem is not None:
            return None, problem
        if not (acceptance.document or "").strip():
            return None, ACCEPTANCE_NO_DOCUMENT.format(by=acceptance.by)
    if config is not None and any(p.public_keys for p in config.people):
        signed = [
            r
            for r in records
            if r.kind == RISK_ACCEPTANCE
            and r.details.get("risk") == risk.id
            and r.details.get("on") == acceptance.on.isoformat()
            and isinstance(r.details.get("by"), str)
            and same_person(str(r.details["by"]), acceptance.by)
        ]
        if not signed:
            return None, WHY_ACCEPTANCE_UNSIGNED.format(
                by=acceptance.by, on=acceptance.on.isoformat(), risk=risk.id
            )
    if acceptance.until is not None and acceptance.until < now.date():
        return None, (
            f"its acceptance by {acceptance.by} expired on {acceptance.until.isoformat()}"
        )
    until = f" until {acceptance.until.isoformat()}" if acceptance.until else ""
    return f"accepted by {acceptance.by} on {acceptance.on.isoformat()}{until}", None


@dataclass(frozen=True, kw_only=True)
class _Measured:
    """A risk's likelihood: declared, or from its indicator's measurement, and why."""

    likelihood: int
    level: int | None = None
    value: float | None = None
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


def _likelihood(risk: Risk, scope: Scope, *, now: datetime, fresh_days: int) -> _Measured:
    """The likelihood the risk is judged at: its indicator's current measurement replaces the
    declared one; without one, the worse of the declared and the last measurement stands
    (missing evidence is never better than failing evidence)."""
    indicator = risk.indicator
    if indicator is None:
        return _Measured(likelihood=risk.likelihood)
    record = indicator_record(risk, scope, now=now, fresh_days=fresh_days)
    why_void = None if record is None else degenerate(record)
    if record is not None and why_void is not None:
        # a difference of 0 from a model that selects nobody proves nothing
        return _Measured(
            likelihood=risk.likelihood,
            evidence=(record.id,),
            reasons=(
                REASON_NOT_MEASURED.format(
                    record=record_label(record),
                    metric=indicator.metric,
                    value=float(record.metrics[indicator.metric]),
                    why=why_void,
                    likelihood=risk.likelihood,
                ),
            ),
        )
    if record is not None:
        value = float(record.metrics[indicator.metric])
        level = indicator.likelihood_for(value)
        bands = ", ".join(f"{b:g}" for b in indicator.bands)
        if indicator.direction == "lower_is_worse":
            bands += "; lower is worse"
        return _Measured(
            likelihood=level,
            level=level,
            value=value,
            evidence=(record.id,),
            reasons=(
                f"likelihood {level} from {record_label(record)}: "
                f"{indicator.metric} = {value:.4g} (bands {bands}), "
                f"replacing the declared likelihood {risk.likelihood}",
            ),
        )
    last = last_measured(risk, scope)
    last_level = (
        None if last is None else indicator.likelihood_for(float(last.metrics[indicator.metric]))
    )
    if last is not None and last_level is not None and last_level > risk.likelihood:
        return _Measured(
            likelihood=last_level,
            level=last_level,
            evidence=(last.id,),
            reasons=(
                f"no current {indicator.kind} record measures {indicator.metric}: "
                f"likelihood {last_level} from the last measurement, {record_label(last)} "
                f"({indicator.metric} = {last.metrics[indicator.metric]:.4g}), "
                f"worse than the declared {risk.likelihood}",
            ),
        )
    measured = (
        f" (the last measurement, {record_label(last)}, gives {last_level})"
        if last is not None
        else ""
    )
    return _Measured(
        likelihood=risk.likelihood,
        reasons=(
            f"no current {indicator.kind} record measures {indicator.metric}: "
            f"the declared likelihood {risk.likelihood} is used{measured}",
        ),
    )


def _unsatisfied_controls(
    risk: Risk, control_statuses: Callable[[str], Sequence[ControlStatus]]
) -> list[str]:
    """The treating controls that do not hold by evidence, each with why."""
    unsatisfied: list[str] = []
    for control in risk.controls:
        statuses = control_statuses(control)
        if not statuses:
            unsatisfied.append(f"{control} (not assessed)")
            continue
        bad = sorted({s.status for s in statuses if s.status != SATISFIED})
        if bad:
            unsatisfied.append(f"{control} ({', '.join(bad)})")
        elif any(s.result_fails for s in statuses):
            unsatisfied.append(f"{control} (assessment done, its result fails)")
        elif not all(s.evidenced for s in statuses):
            unsatisfied.append(f"{control} (satisfied by aims.yaml declarations only, no evidence)")
    return unsatisfied


#: why a risk whose treating controls hold stays above the appetite (``aims summary``'s 8.3)
WHY_DECLARED_ABOVE = (
    "{prefix}its declared residual {likelihood} × {impact} = {declared} is above the appetite "
    "{appetite} too"
)
WHY_MEASURED_ABOVE = (
    "{prefix}the measured indicator raises its residual likelihood to {measured} "
    "({measured} × {impact} = {residual} > {appetite}); its declared residual {likelihood} × "
    "{impact} = {declared} is within the appetite"
)
ABOVE_PREFIX = "treated, yet above the appetite: "


def _why_treated_above(
    declared_likelihood: int, impact: int, residual_likelihood: int, *, criteria: RiskCriteria
) -> str:
    """Which of the declared residual and the measured indicator puts a treated risk above the
    appetite (the reason starts with ``ABOVE_PREFIX``)."""
    likelihood, appetite = declared_likelihood, criteria.appetite
    declared = likelihood * impact
    values = {
        "prefix": ABOVE_PREFIX,
        "likelihood": likelihood,
        "impact": impact,
        "declared": declared,
        "appetite": appetite,
        "measured": residual_likelihood,
        "residual": residual_likelihood * impact,
    }
    if not criteria.accepts(declared):
        return WHY_DECLARED_ABOVE.format(**values)
    return WHY_MEASURED_ABOVE.format(**values)


def evaluate_risk(
    risk: Risk,
    *,
    config: AimsConfig,
    scope: Scope,
    now: datetime,
    indicator_fresh_days: int,
    control_statuses: Callable[[str], Sequence[ControlStatus]],
    owner: str,
    out_of_scope: bool = False,
    approval_entries: Sequence[str] = (),
    approval_roles: Mapping[str, str | None] | None = None,
) -> RiskResult:
    """Evaluate one risk. ``control_statuses(id)`` gives the verdicts the risk depends on;
    an acceptance counts only by someone ``approvers`` allows for ``approval_entries``."""
    criteria = config.risk_criteria
    appetite = criteria.appetite
    measured = _likelihood(risk, scope, now=now, fresh_days=indicator_fresh_days)
    likelihood, indicator_level = measured.likelihood, measured.level
    indicator_value = measured.value
    reasons, evidence = list(measured.reasons), list(measured.evidence)
    inherent = likelihood * risk.impact
    relation = "within" if criteria.accepts(inherent) else "above"
    reasons.append(
        f"inherent risk {likelihood} × {risk.impact} = {inherent} is {relation} the appetite "
        f"{appetite}"
    )

    unsatisfied = _unsatisfied_controls(risk, control_statuses)
    acceptance, acceptance_problem = acceptance_text(
        risk,
        now=now,
        config=config,
        approval_entries=approval_entries,
        roles=approval_roles,
        records=scope.records,
    )
    if risk.treatment == "accept":
        # accepting a risk keeps it as it is: the residual is the inherent risk
        controls_ok = False
    elif not risk.controls:
        controls_ok = False
        unsatisfied.append(
            f"a {risk.treatment} treatment lowers the residual only with evidence: name the "
            "control that holds it (for example the attested contract or decision)"
        )
    else:
        controls_ok = not unsatisfied

    residual_likelihood = likelihood
    residual_impact = risk.impact
    if controls_ok and risk.residual is not None:
        residual_likelihood = risk.residual.likelihood
        which = f"the declared residual likelihood {risk.residual.likelihood}"
        if indicator_level is not None and indicator_level > risk.residual.likelihood:
            # treatment on paper never beats the measurement: the indicator still says this
            residual_likelihood = indicator_level
            which = (
                f"the measured indicator's likelihood {indicator_level} (the declared residual "
                f"likelihood {risk.residual.likelihood} is below what "
                f"{risk.indicator.metric if risk.indicator else 'the indicator'} measures)"
            )
        elif indicator_level is not None:
            which += f" (the measured indicator gives {indicator_level})"
        residual_impact = risk.residual.impact
        what = f"treating controls {', '.join(risk.controls)} are satisfied by evidence"
        reasons.append(
            f"{what}: residual {residual_likelihood} × {residual_impact} = "
            f"{residual_likelihood * residual_impact}, likelihood from {which}"
        )
    elif controls_ok:
        reasons.append("no residual risk declared: residual = inherent")
    elif risk.treatment == "accept":
        reasons.append("treatment accept: residual = inherent")
    else:
        reasons.append(
            f"treating controls not satisfied: {', '.join(unsatisfied)}; residual = inherent"
        )
    residual = residual_likelihood * residual_impact
    relation = "within" if criteria.accepts(residual) else "above"
    reasons.append(f"residual risk {residual} is {relation} the appetite {appetite}")
    if controls_ok and risk.residual is not None and not criteria.accepts(residual):
        reasons.append(
            _why_treated_above(
                risk.residual.likelihood,
                risk.residual.impact,
                residual_likelihood,
                criteria=criteria,
            )
        )
    if not criteria.accepts(residual):
        if acceptance is not None:
            reasons.append(f"kept above the appetite: {acceptance}")
        elif acceptance_problem is not None:
            reasons.append(f"not accepted: {acceptance_problem}")

    return RiskResult(
        id=risk.id,
        system=risk.system,
        category=risk.category,
        description=risk.description,
        owner=owner,
        treatment=risk.treatment,
        controls=tuple(risk.controls),
        inherent_likelihood=likelihood,
        impact=risk.impact,
        inherent=inherent,
        residual_likelihood=residual_likelihood,
        residual_impact=residual_impact,
        residual=residual,
        appetite=appetite,
        above_appetite=not criteria.accepts(residual),
        inherent_above_appetite=not criteria.accepts(inherent),
        indicator_value=indicator_value,
        reasons=tuple(reasons),
        evidence=tuple(evidence),
        acceptance=acceptance if not criteria.accepts(residual) else None,
        out_of_scope=out_of_scope,
    )
