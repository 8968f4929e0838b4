"""The lifecycle view of a judgement (``aims lifecycle``, the widgets' tab, the HTML report's
section) and the document set drafted from it (``aims docs init``)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aims_mlops._escape import html_code_spans
from aims_mlops.catalog import load_lifecycle
from aims_mlops.documents import DraftDocument, draft_documents, find_suppliers, load_documents
from aims_mlops.engine import LifecycleView, lifecycle_view
from aims_mlops.eu_ai_act import framework_status
from aims_mlops.presentation import percent, score_colour

if TYPE_CHECKING:
    from aims_mlops.judgement import Judgement


def lifecycle_for(judgement: Judgement) -> LifecycleView:
    """Where the organization stands in the AIMS lifecycle, from ``judgement``."""
    config = judgement.config
    return lifecycle_view(
        judgement.assessment,
        catalog=judgement.catalog,
        lifecycle=load_lifecycle(),
        effort_overrides=config.lifecycle.effort_days,
        pilot=config.pilot,
        hints=_hints(judgement),
    )


def _hints(judgement: Judgement) -> dict[str, str]:
    """Per entry, the document of the set that serves it; for the supplier entries, the
    third-party data and model sources lineage found."""
    hints: dict[str, str] = {}
    for spec in load_documents():
        suppliers = ""
        if "suppliers" in {s.fill for s in spec.sections}:
            found = find_suppliers(judgement.config, judgement.records)
            names = ", ".join(f"{s.name} ({s.supplies})" for s in found) or "none"
            suppliers = f"; suppliers found in lineage: {names}"
        for entry in spec.entries:
            hints[entry] = f"document {spec.id} ({spec.file}) of `aims docs init`{suppliers}"
    return hints


def pilot_note(judgement: Judgement) -> str | None:
    """The sentence every view prints when a pilot scope limits readiness (None: no pilot)."""
    pilot = judgement.config.pilot
    if not pilot:
        return None
    others = [s.id for s in judgement.config.in_scope_systems if s.id not in pilot]
    rest = f"; not assessed: {', '.join(others)}" if others else ""
    return f"pilot scope: readiness covers {', '.join(pilot)} only{rest}"


def lifecycle_html(view: LifecycleView, *, limit: int = 20) -> str:
    """The lifecycle as an HTML section (phases with progress bars, then the next actions)."""
    esc = html.escape
    rows = []
    for phase in view.phases:
        share = phase.satisfied / phase.applicable if phase.applicable else 1.0
        rows.append(
            "<tr>"
            f"<td>{esc(phase.title)}</td>"
            f"<td>{phase.satisfied} / {phase.applicable}</td>"
            f'<td><span style="color:{score_colour(share)}">{esc(percent(share, digits=0))}</span>'
            f"</td><td>{esc(phase.status)}</td>"
            f"<td>{phase.effort_days_left:g} of {phase.effort_days:g}</td>"
            "</tr>"
        )
    actions = [
        "<tr>"
        f"<td>{esc(a.entry)}</td><td>{esc(a.system or 'organization')}</td>"
        f"<td>{esc(a.owner)}</td><td>{a.effort_days:g}</td>"
        f"<td>{html_code_spans(a.action.splitlines()[0] if a.action else '')}</td>"
        "</tr>"
        for a in view.next[:limit]
    ]
    pilot = (
        f"<p><strong>Pilot scope:</strong> readiness covers {esc(', '.join(view.pilot))} only.</p>"
        if view.pilot
        else ""
    )
    more = (
        f"<p>… {len(view.next) - limit} more actions "
        "(<code>aims lifecycle --format json</code>)</p>"
        if len(view.next) > limit
        else ""
    )
    return (
        '<section id="lifecycle"><h2>From start to certification</h2>'
        f"{pilot}"
        "<table><thead><tr><th>phase</th><th>satisfied / applicable</th><th>progress</th>"
        "<th>status</th><th>effort left (person-days)</th></tr></thead><tbody>"
        + "".join(rows)
        + f"</tbody></table><p>Effort left: {view.effort_days_left:g} person-days.</p>"
        "<h3>Next actions</h3><table><thead><tr><th>entry</th><th>system</th><th>owner</th>"
        "<th>days</th><th>action</th></tr></thead><tbody>"
        + "".join(actions)
        + f"</tbody></table>{more}</section>"
    )


def draft_document_set(judgement: Judgement) -> list[DraftDocument]:
    """The AIMS document set pre-filled from ``judgement`` (aims.yaml, its records, the EU AI
    Act obligations of each assessed system)."""
    obligations: dict[str, list[dict[str, Any]]] = {}
    for row in framework_status(judgement):
        obligations.setdefault(str(row["system"]), []).append(row)
    return draft_documents(
        judgement.config,
        judgement.records,
        obligations=obligations,
        today=datetime.now(UTC).date(),
    )
