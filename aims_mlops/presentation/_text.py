"""Plain-text renderings of the engine's result: the short summary (``%aims status``, the end
of ``aims demo``), the full listing (``aims summary``) and one line per system
(``%aims status all``). Every one reads the engine's objects; none decides anything."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aims_mlops.engine._results import NOT_APPLICABLE, SATISFIED, STATUSES
from aims_mlops.presentation._style import percent, status_label

if TYPE_CHECKING:
    from aims_mlops.engine import Gap, RiskResult, SystemAssessment

#: Gaps the short summary lists.
SUMMARY_GAPS = 5
#: Gaps the full listing lists (``--format json`` has them all).
LISTING_GAPS = 15
#: What the listing says when it leaves gaps out.
MORE_GAPS = "  … and {more} more (--format json lists all)"


#: The model label of a system with no current model: what it means and how to get one.
NO_CURRENT_MODEL = (
    "no current model: give a registered version the production alias (systems[].mlflow.alias "
    "in aims.yaml), e.g. aims gate {system} --model-version N --promote once the gate passes"
)


def model_label(sa: SystemAssessment) -> str:
    """``credit-model version 3``, or :data:`NO_CURRENT_MODEL` (how to get one)."""
    if sa.model is None:
        return NO_CURRENT_MODEL.format(system=sa.system)
    return sa.model.describe()


def risk_movement(risk: RiskResult) -> str:
    """``inherent 4×4=16 → residual 2×3=6``."""
    return (
        f"inherent {risk.inherent_likelihood}×{risk.impact}={risk.inherent} → "
        f"residual {risk.residual_likelihood}×{risk.residual_impact}={risk.residual}"
    )


def risk_verdict(risk: RiskResult) -> str:
    """``above appetite 6`` or ``within appetite 6``."""
    return f"{'above' if risk.above_appetite else 'within'} appetite {risk.appetite}"


def gap_lines(gap: Gap) -> list[str]:
    """A gap as two lines: id, status and owner; then the exact action that closes it."""
    return [
        f"  {gap.control} {status_label(gap.status)} — owner {gap.owner}",
        f"      {gap.how_to_close}",
    ]


def header_lines(sa: SystemAssessment) -> list[str]:
    """Name, owner, model, score and the count of every status."""
    counts = sa.counts()
    applicable = sum(counts.values()) - counts.get(NOT_APPLICABLE, 0)
    statuses = " · ".join(f"{status_label(s)} {counts.get(s, 0)}" for s in STATUSES)
    return [
        f"{sa.name} ({sa.system})",
        f"owner: {sa.owner}",
        f"model: {model_label(sa)}",
        f"conformity: {percent(sa.score)} ({counts.get(SATISFIED, 0)} of {applicable} applicable "
        "entries satisfied)",
        f"status: {statuses}",
    ]


def risks_above_lines(sa: SystemAssessment, *, appetite: int) -> list[str]:
    """The risks above the appetite, one line each (or ``none``)."""
    above = sa.risks_above_appetite
    if not above:
        return [f"no risk above the appetite ({appetite})"]
    count = f"{len(above)} risk{'s' if len(above) != 1 else ''}"
    return [f"{count} above the appetite ({appetite}):"] + [
        f"  {r.id} {r.category}: {risk_movement(r)}" for r in above
    ]


def summary_text(
    sa: SystemAssessment,
    *,
    appetite: int,
    records: int | None = None,
    evaluated_at: str | None = None,
    gaps: int = SUMMARY_GAPS,
) -> str:
    """The short summary: header, risks above the appetite, the first ``gaps`` gaps with their
    owners; with ``records`` / ``evaluated_at``, a last line naming them."""
    lines = header_lines(sa) + risks_above_lines(sa, appetite=appetite)
    if sa.gaps:
        shown = sa.gaps[:gaps]
        lines.append(f"gaps: {len(sa.gaps)} (first {len(shown)})")
        for gap in shown:
            lines.extend(gap_lines(gap))
    else:
        lines.append("gaps: none")
    footer = []
    if records is not None:
        footer.append(f"evidence records: {records}")
    if evaluated_at is not None:
        footer.append(f"evaluated {evaluated_at}")
    if footer:
        lines.append(" · ".join(footer))
    return "\n".join(lines)


def listing_text(sa: SystemAssessment, *, gaps: int = LISTING_GAPS) -> str:
    """The full listing: header, every clause and control with its first reason when it is not
    satisfied, every risk, and the first ``gaps`` gaps."""
    lines = [*header_lines(sa), "", "controls:"]
    for control in sa.controls:
        lines.append(f"  {status_label(control.status):<15} {control.id:<8} {control.title}")
        if control.status != SATISFIED and control.reasons:
            lines.append(f"  {'':<15} {'':<8} ↳ {control.reasons[0]}")
    lines += ["", "risks:"]
    lines.extend(
        f"  {r.id} {r.category}: {risk_movement(r)} · {risk_verdict(r)}" for r in sa.risks
    )
    if not sa.risks:
        lines.append("  none registered")
    lines += ["", f"gaps: {len(sa.gaps)}"]
    for gap in sa.gaps[:gaps]:
        lines.extend(gap_lines(gap))
    if len(sa.gaps) > gaps:
        lines.append(MORE_GAPS.format(more=len(sa.gaps) - gaps))
    return "\n".join(lines)


def status_lines(rows: Iterable[Mapping[str, Any]]) -> str:
    """One line per system from :func:`aims_mlops.engine.status_rows`: score, risks above the
    appetite, gaps."""
    rows = list(rows)
    if not rows:
        return "no AI systems in scope"
    width = max(len(r["system"]) for r in rows)
    return "\n".join(
        f"{r['system']:<{width}}  score {percent(r['score']):>7}  "
        f"risks above appetite {r['risks_above_appetite']}  gaps {r['gaps']}"
        for r in rows
    )
