"""Risk evaluation: inherent and residual likelihood × impact against the risk appetite.

- inherent = likelihood × impact. When the risk has an ``indicator``, the latest current record of
  ``indicator.kind`` (for the risk's system; organization-level risks: records with system None)
  that carries ``indicator.metric`` sets the likelihood from the bands (``<= b0`` → 1, ``<= b1`` →
  2, ``<= b2`` → 3, ``<= b3`` → 4, else 5; mirrored for ``lower_is_worse`` indicators, see
  :class:`~aims_mlops.config.RiskIndicator`), overriding the declared likelihood for both the
  inherent and the residual computation. Currency follows the control-status rules, with the
  freshness of the strictest catalog entry that uses that kind.
- residual = the declared residual (likelihood × impact) only when EVERY treating control is
  satisfied for the system (organization-level risk: for every in-scope system; an
  organization-scope control: its single verdict). Otherwise residual = inherent, and the reason
  names the unsatisfied controls. With an indicator, the residual likelihood is
  ``min(declared residual likelihood, indicator likelihood)`` when the controls are satisfied,
  else the indicator likelihood. Without a declared residual, residual = inherent.
- ``above_appetite`` = residual > appetite; ``inherent_above_appetite`` = inherent > appetite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aims_mlops.engine._results import SATISFIED, ControlStatus, RiskResult
from aims_mlops.engine._status import Scope, record_label, staleness
from aims_mlops.evidence import EvidenceRecord

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig, Risk


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


def evaluate_risk(
    risk: Risk,
    *,
    config: AimsConfig,
    scope: Scope,
    now: datetime,
    indicator_fresh_days: int,
    control_statuses: Callable[[str], Sequence[ControlStatus]],
    owner: str,
) -> RiskResult:
    """Evaluate one risk. ``control_statuses(id)`` gives the verdicts the risk depends on."""
    criteria = config.risk_criteria
    appetite = criteria.appetite
    reasons: list[str] = []
    evidence: list[str] = []

    likelihood = risk.likelihood
    indicator_value: float | None = None
    indicator_level: int | None = None
    record = indicator_record(risk, scope, now=now, fresh_days=indicator_fresh_days)
    if risk.indicator is not None:
        if record is not None:
            indicator_value = float(record.metrics[risk.indicator.metric])
            indicator_level = risk.indicator.likelihood_for(indicator_value)
            likelihood = indicator_level
            evidence.append(record.id)
            bands = ", ".join(f"{b:g}" for b in risk.indicator.bands)
            if risk.indicator.direction == "lower_is_worse":
                bands += "; lower is worse"
            reasons.append(
                f"likelihood {indicator_level} from {record_label(record)}: "
                f"{risk.indicator.metric} = {indicator_value:.4g} (bands {bands}), "
                f"replacing the declared likelihood {risk.likelihood}"
            )
        else:
            reasons.append(
                f"no current {risk.indicator.kind} record measures {risk.indicator.metric}: "
                f"the declared likelihood {risk.likelihood} is used"
            )
    inherent = likelihood * risk.impact
    relation = "within" if criteria.accepts(inherent) else "above"
    reasons.append(
        f"inherent risk {likelihood} × {risk.impact} = {inherent} is {relation} the appetite "
        f"{appetite}"
    )

    unsatisfied: list[str] = []
    for control in risk.controls:
        statuses = control_statuses(control)
        if not statuses:
            unsatisfied.append(f"{control} (not assessed)")
            continue
        bad = sorted({s.status for s in statuses if s.status != SATISFIED})
        if bad:
            unsatisfied.append(f"{control} ({', '.join(bad)})")
    controls_ok = not unsatisfied

    residual_likelihood = likelihood
    residual_impact = risk.impact
    if controls_ok and risk.residual is not None:
        residual_likelihood = risk.residual.likelihood
        if indicator_level is not None:
            residual_likelihood = min(risk.residual.likelihood, indicator_level)
        residual_impact = risk.residual.impact
        what = (
            f"treating controls {', '.join(risk.controls)} are satisfied"
            if risk.controls
            else f"treatment {risk.treatment} names no controls"
        )
        reasons.append(
            f"{what}: residual {residual_likelihood} × {residual_impact} = "
            f"{residual_likelihood * residual_impact}"
        )
    elif controls_ok:
        reasons.append("no residual risk declared: residual = inherent")
    else:
        reasons.append(
            f"treating controls not satisfied: {', '.join(unsatisfied)}; residual = inherent"
        )
    residual = residual_likelihood * residual_impact
    relation = "within" if criteria.accepts(residual) else "above"
    reasons.append(f"residual risk {residual} is {relation} the appetite {appetite}")

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
    )
