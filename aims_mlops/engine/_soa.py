"""Statement of Applicability: one line per Annex A control, built from the per-system verdicts.

- applicable: the control applies to at least one assessed in-scope system (with no system
  assessed: unless excluded by a decision covering every system);
- justification: the configuration's (an applicable decision's, or the exclusion's); for
  controls included by default, ``"Applicable: treats risks R1, R3"`` when risks name the control,
  else ``"Applicable: part of the organization's baseline"``. Exclusions for some systems only are
  appended (``"; not applicable for x: why"``);
- implementation over the systems it applies to: every one satisfied → ``implemented``, some →
  ``partially implemented``, none → ``not implemented``; applicable nowhere → ``not applicable``;
- systems: system → status; linked_risks: risks naming the control; evidence: the ids behind the
  verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from aims_mlops.engine._results import (
    IMPLEMENTATION_NOT_APPLICABLE,
    IMPLEMENTED,
    NOT_APPLICABLE,
    NOT_IMPLEMENTED,
    PARTIALLY_IMPLEMENTED,
    SATISFIED,
    ControlStatus,
    SoaEntry,
)

if TYPE_CHECKING:
    from aims_mlops.catalog import CatalogEntry
    from aims_mlops.config import AimsConfig

BASELINE_JUSTIFICATION = "Applicable: part of the organization's baseline"
RISK_JUSTIFICATION = "Applicable: treats risks {risks}"
#: An exclusion in aims.yaml the evidence refuses (the engine judged the control anyway).
REFUSED_JUSTIFICATION = "Applicable: {reason}"


def linked_risks(config: AimsConfig, control: str) -> tuple[str, ...]:
    """Ids of the risks that name ``control`` as a treating control, in register order."""
    return tuple(risk.id for risk in config.risks if control in risk.controls)


def implementation(statuses: Sequence[str]) -> str:
    """``implemented`` / ``partially implemented`` / ``not implemented`` / ``not applicable``."""
    applicable = [s for s in statuses if s != NOT_APPLICABLE]
    if not applicable:
        return IMPLEMENTATION_NOT_APPLICABLE
    satisfied = sum(1 for s in applicable if s == SATISFIED)
    if satisfied == len(applicable):
        return IMPLEMENTED
    return PARTIALLY_IMPLEMENTED if satisfied else NOT_IMPLEMENTED


def soa_entry(
    entry: CatalogEntry,
    *,
    config: AimsConfig,
    statuses: Mapping[str, ControlStatus],
) -> SoaEntry:
    """The SoA line of one Annex A control from its verdict per assessed system."""
    risks = linked_risks(config, entry.id)
    general = config.soa_decision(entry.id, None)
    systems = {system: status.status for system, status in statuses.items()}
    if statuses:
        applicable = any(s != NOT_APPLICABLE for s in systems.values())
    else:
        applicable = general is None or general.applicable
    excluded = {
        system: config.soa_decision(entry.id, system)
        for system, status in systems.items()
        if status == NOT_APPLICABLE
    }
    if applicable:
        explicit = [
            d
            for d in (general, *(config.soa_decision(entry.id, s) for s in systems))
            if d is not None and d.applicable and d.justification and d.justification.strip()
        ]
        overruled = [
            status
            for system, status in statuses.items()
            if status.status != NOT_APPLICABLE
            and (decision := config.soa_decision(entry.id, system)) is not None
            and not decision.applicable
            and status.reasons
        ]
        if overruled:
            justification = REFUSED_JUSTIFICATION.format(reason=overruled[0].reasons[0])
        elif explicit:
            justification = explicit[0].justification or ""
        elif risks:
            justification = RISK_JUSTIFICATION.format(risks=", ".join(risks))
        else:
            justification = BASELINE_JUSTIFICATION
        partial = [
            f"not applicable for {system}: {decision.justification}"
            for system, decision in excluded.items()
            if decision is not None
        ]
        if partial:
            justification = "; ".join([justification, *partial])
    elif general is not None and not general.applicable:
        justification = general.justification or ""
    else:
        justification = "; ".join(
            f"{system}: {decision.justification}"
            for system, decision in excluded.items()
            if decision is not None
        )
    evidence = tuple(dict.fromkeys(e for status in statuses.values() for e in status.evidence))
    return SoaEntry(
        control=entry.id,
        title=entry.title,
        group=entry.group,
        applicable=applicable,
        justification=justification,
        implementation=implementation(list(systems.values())),  # type: ignore[arg-type]
        systems=MappingProxyType(systems),
        linked_risks=risks,
        evidence=evidence,
    )
