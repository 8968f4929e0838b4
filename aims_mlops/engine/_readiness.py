"""Certification readiness and the prioritised gap list.

- A gap is every applicable entry that is not satisfied, owned by the system's owner (an
  organization-scope entry: ``organization.policy_owner``; its ``system`` is None), with the
  catalog's ``how_to_close`` and the verdict's reasons.
- Gaps are prioritised: failing first, then entries that treat a risk above appetite, then stale,
  then missing; ties by catalog id (numerically), then system.
- Readiness = satisfied / applicable (not ``not_applicable``), rounded to 4 decimals: overall over
  every (system, entry) pair with organization-scope entries counted once, per system (the
  system's score) and per group (clause ``"4"``..``"10"``, objective ``"A.2"``..``"A.10"``). A
  group with nothing applicable is fully ready (1.0).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType

from aims_mlops.engine._results import (
    FAILING,
    NOT_APPLICABLE,
    SATISFIED,
    STALE,
    Blocker,
    ControlStatus,
    Gap,
    Readiness,
)

NO_OWNER = "(no owner declared)"


def id_key(entry_id: str) -> tuple[int, tuple[int, ...]]:
    """Numeric order of catalog ids: clauses before Annex A, ``A.6.2.10`` after ``A.6.2.9``."""
    annex = entry_id.startswith("A.")
    parts = entry_id[2:] if annex else entry_id
    numbers = tuple(int(p) if p.isdigit() else 0 for p in parts.split("."))
    return (1 if annex else 0, numbers)


def ratio(statuses: Iterable[str]) -> float:
    """satisfied / applicable, 4 decimals; 1.0 when nothing is applicable."""
    applicable = [s for s in statuses if s != NOT_APPLICABLE]
    if not applicable:
        return 1.0
    return round(sum(1 for s in applicable if s == SATISFIED) / len(applicable), 4)


def gap_for(status: ControlStatus, *, system: str | None) -> Gap | None:
    """The gap of a verdict, or None when it is satisfied or not applicable."""
    if status.status in (SATISFIED, NOT_APPLICABLE):
        return None
    return Gap(
        system=system,
        control=status.id,
        title=status.title,
        status=status.status,
        owner=status.owner,
        how_to_close=status.how_to_close,
        reasons=status.reasons,
    )


def prioritise(
    gaps: Iterable[Gap], *, urgent: Mapping[str | None, Collection[str]]
) -> tuple[Gap, ...]:
    """Order gaps: failing, treating a risk above appetite, stale, missing; then by id, system.

    ``urgent`` maps a system (None: organization) to the controls treating its risks above
    appetite.
    """

    def key(gap: Gap) -> tuple[int, tuple[int, tuple[int, ...]], str]:
        if gap.status == FAILING:
            bucket = 0
        elif gap.control in urgent.get(gap.system, ()):
            bucket = 1
        elif gap.status == STALE:
            bucket = 2
        else:
            bucket = 3
        return (bucket, id_key(gap.control), gap.system or "")

    return tuple(sorted(gaps, key=key))


def readiness(
    *,
    pairs: Iterable[tuple[str, str]],
    per_system: Mapping[str, float],
    groups: Iterable[str],
    gaps: Iterable[Gap],
    urgent: Mapping[str | None, Collection[str]],
    blockers: Iterable[Blocker] = (),
    excluded: int = 0,
    findings: Iterable[Blocker] = (),
    basis: Mapping[str, int] | None = None,
) -> Readiness:
    """Readiness from ``(group, status)`` pairs (organization entries once) and system scores."""
    pair_list = list(pairs)
    per_group = {group: ratio(status for g, status in pair_list if g == group) for group in groups}
    return Readiness(
        overall=ratio(status for _, status in pair_list),
        per_system=MappingProxyType(dict(per_system)),
        per_group=MappingProxyType(per_group),
        gaps=prioritise(gaps, urgent=urgent),
        blockers=tuple(blockers),
        excluded=excluded,
        findings=tuple(findings),
        basis=MappingProxyType(dict(basis or {})),
    )
