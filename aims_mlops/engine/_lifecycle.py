"""The lifecycle view (pure): per phase of the AIMS lifecycle, how far the organization is, and
the ordered next actions with their owner and effort (``aims lifecycle``).

Progress counts catalog entries: an entry is *applicable* unless the SoA excludes it for every
assessed system, and *satisfied* when its verdict is satisfied for every assessed system (an
organization-scope entry: its one verdict). ``next`` holds one action per open (entry, system)
verdict, ordered by phase, then owner, then catalog order; its effort is the lifecycle's estimate
(aims.yaml ``lifecycle.effort_days`` overrides it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aims_mlops.catalog import Catalog, Lifecycle
from aims_mlops.engine._results import NOT_APPLICABLE, SATISFIED, Assessment, ControlStatus

PHASE_DONE = "done"
PHASE_IN_PROGRESS = "in progress"
PHASE_NOT_STARTED = "not started"
PHASE_NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True, kw_only=True)
class PhaseProgress:
    """One phase's progress."""

    id: str
    title: str
    what: str
    entries: tuple[str, ...]
    satisfied: int
    applicable: int
    status: str
    effort_days: float
    effort_days_left: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "entries": list(self.entries),
            "satisfied": self.satisfied,
            "applicable": self.applicable,
            "status": self.status,
            "effort_days": self.effort_days,
            "effort_days_left": self.effort_days_left,
        }


@dataclass(frozen=True, kw_only=True)
class NextAction:
    """An action that would move the organization forward: close ``entry`` (for ``system``)."""

    phase: str
    entry: str
    title: str
    system: str | None
    status: str
    action: str
    owner: str
    effort_days: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "action": self.action,
            "owner": self.owner,
            "effort_days": self.effort_days,
            "phase": self.phase,
            "system": self.system,
            "status": self.status,
            "title": self.title,
        }


@dataclass(frozen=True, kw_only=True)
class LifecycleView:
    """The phases in order with their progress, and the next actions."""

    phases: tuple[PhaseProgress, ...]
    next: tuple[NextAction, ...]
    systems: tuple[str, ...]
    pilot: tuple[str, ...] = ()

    @property
    def effort_days_left(self) -> float:
        return sum(p.effort_days_left for p in self.phases)

    @property
    def current_phase(self) -> PhaseProgress | None:
        """The first phase not done (None: every phase is done)."""
        return next(
            (p for p in self.phases if p.status not in (PHASE_DONE, PHASE_NOT_APPLICABLE)), None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [p.to_dict() for p in self.phases],
            "next": [n.to_dict() for n in self.next],
            "systems": list(self.systems),
            "pilot": list(self.pilot),
            "effort_days_left": self.effort_days_left,
        }


def _verdicts(
    assessment: Assessment, entry_id: str, scope: str
) -> list[tuple[str | None, ControlStatus]]:
    found: list[tuple[str | None, ControlStatus]] = []
    for sid, sa in assessment.systems.items():
        try:
            verdict = sa.control(entry_id)
        except KeyError:
            continue
        if scope == "organization":
            return [(None, verdict)]
        found.append((sid, verdict))
    return found


def _with_hint(action: str, hint: str | None) -> str:
    return f"{action} — {hint}" if hint else action


def _status(satisfied: int, applicable: int) -> str:
    if applicable == 0:
        return PHASE_NOT_APPLICABLE
    if satisfied == applicable:
        return PHASE_DONE
    return PHASE_NOT_STARTED if satisfied == 0 else PHASE_IN_PROGRESS


def lifecycle_view(
    assessment: Assessment,
    *,
    catalog: Catalog,
    lifecycle: Lifecycle,
    effort_overrides: Mapping[str, float] | None = None,
    pilot: Sequence[str] = (),
    hints: Mapping[str, str] | None = None,
) -> LifecycleView:
    """Where the organization stands in the lifecycle, from an assessment. ``hints``: text
    added to an entry's action (the document of the set that serves it)."""
    order = {e.id: i for i, e in enumerate(catalog.entries)}
    phases: list[PhaseProgress] = []
    actions: list[tuple[int, str, int, str, NextAction]] = []
    for index, phase in enumerate(lifecycle.phases):
        satisfied = applicable = 0
        total = left = 0.0
        for entry_id in phase.entries:
            entry = catalog.get(entry_id)
            effort = lifecycle.effort(entry_id, effort_overrides)
            verdicts = _verdicts(assessment, entry_id, entry.scope)
            open_ = [(sid, v) for sid, v in verdicts if v.status not in (SATISFIED, NOT_APPLICABLE)]
            counted = [v for _, v in verdicts if v.status != NOT_APPLICABLE]
            if verdicts and not counted:
                continue  # excluded in the SoA wherever it is judged
            applicable += 1
            total += effort * max(1, len(counted))
            if counted and not open_:
                satisfied += 1
                continue
            left += effort * max(1, len(open_))
            for sid, verdict in open_ or [(None, None)]:
                action = NextAction(
                    phase=phase.id,
                    entry=entry_id,
                    title=entry.title,
                    system=sid,
                    status=verdict.status if verdict is not None else "missing",
                    action=_with_hint(
                        verdict.how_to_close if verdict is not None else "assess the systems",
                        (hints or {}).get(entry_id),
                    ),
                    owner=verdict.owner if verdict is not None else "",
                    effort_days=effort,
                )
                actions.append((index, action.owner.casefold(), order[entry_id], sid or "", action))
        phases.append(
            PhaseProgress(
                id=phase.id,
                title=phase.title,
                what=phase.what,
                entries=phase.entries,
                satisfied=satisfied,
                applicable=applicable,
                status=_status(satisfied, applicable),
                effort_days=total,
                effort_days_left=left,
            )
        )
    actions.sort(key=lambda item: item[:4])
    return LifecycleView(
        phases=tuple(phases),
        next=tuple(a for *_, a in actions),
        systems=tuple(assessment.systems),
        pilot=tuple(pilot),
    )


def lifecycle_text(view: LifecycleView, *, limit: int = 15) -> str:
    """The lifecycle view as text: one line per phase, then the first ``limit`` next actions."""
    lines: list[str] = []
    if view.pilot:
        lines.append(
            f"pilot scope: {', '.join(view.pilot)} (readiness is limited to the pilot; the other "
            "in-scope systems are not assessed)"
        )
    for number, phase in enumerate(view.phases, start=1):
        lines.append(
            f"{number}. {phase.title:<50} {phase.satisfied:>2}/{phase.applicable:<2} "
            f"{phase.status:<14} {phase.effort_days_left:g} of {phase.effort_days:g} days left"
        )
    lines.append(f"effort left: {view.effort_days_left:g} person-days")
    if view.next:
        lines.append("")
        lines.append(f"next ({len(view.next)} actions, by phase then owner):")
        for action in view.next[:limit]:
            where = f" [{action.system}]" if action.system else ""
            first = action.action.splitlines()[0] if action.action else ""
            lines.append(
                f"  {action.entry}{where} ({action.phase}, {action.owner}, "
                f"{action.effort_days:g} d): {first}"
            )
        if len(view.next) > limit:
            lines.append(f"  … {len(view.next) - limit} more (--format json lists them all)")
    return "\n".join(lines)
