"""Which framework obligations bind a system, and whether the engine's verdicts meet them.

Pure: a crosswalk (data), the system's classification from ``aims.yaml`` and its assessment.
An item applies when its vocabulary's ``applies_to`` matches the classification (every key;
a list is "any of these"); an item without ``applies_to`` applies to every system. An obligation
is met when every catalog entry it maps to is satisfied or not applicable; otherwise it takes
the worst status of those entries (failing > stale > missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aims_mlops.engine import FAILING, MISSING, NOT_APPLICABLE, SATISFIED, STALE

if TYPE_CHECKING:
    from aims_mlops.catalog import Crosswalk, CrosswalkLink
    from aims_mlops.config import SystemConfig
    from aims_mlops.engine import SystemAssessment

_RANK = {MISSING: 1, STALE: 2, FAILING: 3}

ERROR_NOT_CLASSIFIED = (
    "{system} declares no eu_ai_act classification in aims.yaml, so no EU AI Act obligation "
    "can be selected for it"
)


#: The id of the EU AI Act crosswalk (``catalog/crosswalks/eu-ai-act.yaml``).
FRAMEWORK = "eu-ai-act"


def classification(system: SystemConfig) -> dict[str, Any] | None:
    """The system's ``eu_ai_act`` classification as plain data (None when not declared)."""
    if system.eu_ai_act is None:
        return None
    return system.eu_ai_act.model_dump(mode="json")


def applies(link: CrosswalkLink, classified: Mapping[str, Any] | None) -> bool:
    """Whether the framework item of ``link`` binds a system classified as ``classified``."""
    wanted = (link.item.extra or {}).get("applies_to")
    if not wanted:
        return True
    if classified is None:
        return False
    for key, value in wanted.items():
        actual = classified.get(key)
        if isinstance(value, list | tuple):
            if actual not in value:
                return False
        elif actual != value:
            return False
    return True


def _basis(classified: Mapping[str, Any] | None) -> str:
    if classified and classified.get("annex_i"):
        return "annex_i"
    if classified and classified.get("annex_iii"):
        return "annex_iii"
    return "all"


def _dated(field: Any, basis: str) -> Any:
    if not isinstance(field, Mapping):
        return None
    return field.get(basis, field.get("all"))


def obligation_rows(
    crosswalk: Crosswalk,
    assessment: SystemAssessment,
    classified: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    """One row per item of ``crosswalk`` that binds the system, judged from ``assessment``."""
    basis = _basis(classified)
    rows: list[dict[str, Any]] = []
    for link in crosswalk.links:
        if not applies(link, classified):
            continue
        verdicts = [assessment.control(entry_id) for entry_id in link.maps_to]
        bad = [v.status for v in verdicts if v.status not in (SATISFIED, NOT_APPLICABLE)]
        status = max(bad, key=lambda s: _RANK.get(s, 1)) if bad else SATISFIED
        extra = link.item.extra or {}
        proposed = extra.get("proposed")
        proposal = proposed.get("status") if isinstance(proposed, Mapping) else None
        rows.append(
            {
                "system": assessment.system,
                "id": link.item.id,
                "title": link.item.title,
                "group": link.item.group,
                "status": status,
                "met": not bad,
                "maps_to": [{"id": v.id, "status": v.status} for v in verdicts],
                "kinds": list(link.kinds),
                "evidence": list(dict.fromkeys(e for v in verdicts for e in v.evidence)),
                "applies_from": _dated(extra.get("applies_from"), basis),
                "proposed_applies_from": _dated(proposed, basis),
                "proposal_status": proposal,
            }
        )
    return rows


def system_line(catalog: Any, assessment: SystemAssessment, system: SystemConfig) -> str:
    """:func:`summary_line` of an assessed system, judged through the catalog's EU AI Act
    crosswalk (for the report, the dashboard and the portfolio)."""
    classified = classification(system)
    crosswalk = catalog.crosswalks.get(FRAMEWORK)
    rows = obligation_rows(crosswalk, assessment, classified) if crosswalk is not None else []
    return summary_line(classified, rows)


def summary_line(classified: Mapping[str, Any] | None, rows: list[dict[str, Any]]) -> str:
    """One line for a report, dashboard or portfolio: the class and how many obligations are met,
    e.g. ``EU AI Act: high risk (Annex III 5(b)), provider; 3 of 10 obligations met``."""
    if classified is None:
        return "EU AI Act: not classified (systems[].eu_ai_act in aims.yaml)"
    basis = ""
    if classified.get("annex_iii"):
        basis = f" (Annex III {classified['annex_iii']})"
    elif classified.get("annex_i"):
        basis = f" (Annex I: {classified['annex_i']})"
    gpai = ", general-purpose AI model" if classified.get("gpai") else ""
    met = sum(1 for r in rows if r["met"])
    return (
        f"EU AI Act: {classified['risk_class']} risk{basis}, {classified['role']}{gpai}; "
        f"{met} of {len(rows)} obligations met"
    )
