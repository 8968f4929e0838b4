"""What the dashboard shows, as pure functions of its view-model (anywidget's idea: a thin
widget over pure state): every HTML fragment, the heat-map cells' colours, borders and
tooltips, the filter options, the score bar's style. No ipywidgets here: tested without a
browser or a kernel (``tests/unit/test_dashboard_view.py``); ``views/_dashboard.py`` only puts
these values into widgets and wires the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import AimsError
from aims_mlops._escape import html_code_spans
from aims_mlops.engine._results import STATUSES
from aims_mlops.presentation import (
    SCORE_FAIR,
    SCORE_GOOD,
    WARNING,
    appetite_colour,
    percent,
    status_label,
    status_swatch,
)
from aims_mlops.views._html import (
    bullet_list,
    chip,
    code,
    esc,
    html_table,
    outcome_chip,
    status_chip,
)
from aims_mlops.views._model import ALL, DashboardModel, EvidenceRow, dashboard_model

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.judgement import Judgement

ERROR_NO_SYSTEM = (
    "which AI system? pass dashboard('<id>'), bind one with aims_mlops.init(system=...) or "
    "%aims system <id>, or set $AIMS_SYSTEM; in-scope systems: {known}"
)
RISK_COLUMNS = [
    "risk",
    "category",
    "description",
    "inherent → residual",
    "verdict",
    "treatment",
    "controls",
    "owner",
]
#: The thick border that marks the appetite boundary in the heat map, and the plain one.
APPETITE_EDGE = "3px solid #1b5e20"
PLAIN_EDGE = "1px solid #fff"


def _tracking_uri(judgement: Judgement) -> str | None:
    store = getattr(judgement, "store", None)
    if store is None:
        return None
    try:
        return str(store.tracking_uri)
    except AimsError:
        return None


def build_model(judgement: Judgement, system: str) -> DashboardModel:
    """The view-model of ``system`` from a judgement."""
    return dashboard_model(
        assessment=judgement.assessment,
        system=system,
        catalog=judgement.catalog,
        config=judgement.config,
        records=judgement.records,
        tracking_uri=_tracking_uri(judgement),
    )


def choose_system(
    system: str | None, *, config: AimsConfig | None, assessed: Mapping[str, Any] | None = None
) -> str:
    """The system to show: ``system`` (the caller resolved the binding) > the only in-scope (or
    assessed) system."""
    if system:
        return system
    candidates = (
        list(assessed)
        if assessed is not None
        else [s.id for s in config.assessed_systems]
        if config is not None
        else []
    )
    if len(candidates) == 1:
        return candidates[0]
    raise AimsError(ERROR_NO_SYSTEM.format(known=", ".join(candidates) or "none"))


# -- header and score -------------------------------------------------------------------------
def header_html(m: DashboardModel) -> str:
    return (
        '<div style="flex:1"><span style="font-size:1.3em;font-weight:bold">'
        f"{esc(m.name)}</span>"
        f' <span style="color:#666">({esc(m.system)})</span><br>'
        f"owner <b>{esc(m.owner)}</b> · model <b>{esc(m.model_label)}</b> · "
        f'<span style="color:#666">evaluated {esc(m.evaluated_at)}</span>'
        f"<br>{esc(m.eu_ai_act)}</div>"
    )


def score_style(score: float) -> str:
    """The progress bar style, on the thresholds of the score colours (presentation)."""
    if score >= SCORE_GOOD:
        return "success"
    return "warning" if score >= SCORE_FAIR else "danger"


def score_label_html(m: DashboardModel) -> str:
    satisfied = m.counts.get("satisfied", 0)
    return f"<b>{esc(m.score_text)}</b> ({satisfied} of {m.applicable} applicable satisfied)"


def refreshed_html(m: DashboardModel) -> str:
    return f"<small>refreshed: evaluated {esc(m.evaluated_at)}</small>"


def configuration_html(judgement: Any, system: str, draft: Any = None) -> str:
    """Which configuration the verdict used (DRAFT, or the approval) and the unapproved changes;
    with ``draft`` (the system judged with the working copy), the draft verdict beside the
    approved one and the entries whose status differs."""
    state = getattr(judgement, "configuration", None)
    if state is None:
        return ""
    lines = [html_code_spans(line) for line in state.lines()]
    approved = judgement.assessment.systems.get(system)
    if draft is not None and approved is not None:
        before = {c.id: c.status for c in approved.controls}
        differ = [
            f"{esc(c.id)} {esc(before.get(c.id, 'absent'))} → {esc(c.status)}"
            for c in draft.controls
            if before.get(c.id) != c.status
        ]
        lines.append(
            f"<b>approved verdict</b> {percent(approved.score)} · <b>draft</b> (working copy) "
            f"{percent(draft.score)}"
            + (f"; differs on {', '.join(differ[:10])}" if differ else "; same statuses")
        )
    colour = WARNING if state.draft or state.unapproved_changes else "#666"
    return f'<div style="color:{colour}">' + "<br>".join(lines) + "</div>"


# -- risks ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class HeatCellView:
    """How one heat-map cell shows: its HTML, background, borders and tooltip."""

    html: str
    background: str
    border_top: str
    border_right: str
    tooltip: str


def likelihood_label_html(likelihood: int, name: str) -> str:
    return f"<b>{likelihood}</b> {esc(name)}"


def impact_label_html(impact: int, name: str) -> str:
    return f'<div style="text-align:center"><b>{impact}</b> {esc(name)}</div>'


def heat_cell_view(cell: Any, appetite: Any) -> HeatCellView:
    return HeatCellView(
        html=(
            f'<div style="text-align:center;font-size:0.85em;line-height:1.3">'
            f'<span style="color:#555">{cell.score}</span><br>{esc(cell.markers)}</div>'
        ),
        background=cell.colour,
        border_top=APPETITE_EDGE if cell.boundary_top else PLAIN_EDGE,
        border_right=APPETITE_EDGE if cell.boundary_right else PLAIN_EDGE,
        tooltip=(
            f"likelihood {cell.likelihood} × impact {cell.impact} = {cell.score}"
            f" ({'above' if cell.above_appetite else 'within'} appetite {appetite})"
        ),
    )


def heat_legend_html(appetite: Any) -> str:
    return (
        f"<small>○ inherent position · ● residual position · the thick line marks the "
        f"appetite ({appetite}): cells below and left of it are acceptable.</small>"
    )


def risk_table_html(m: DashboardModel) -> str:
    rows = []
    for view in m.risks:
        risk = view.risk
        verdict = chip(view.verdict, appetite_colour(risk.above_appetite), "#ffffff")
        reasons = (
            f"<details><summary>why</summary>{bullet_list(risk.reasons)}</details>"
            if risk.reasons
            else ""
        )
        rows.append(
            [
                f"<b>{esc(risk.id)}</b>",
                esc(risk.category),
                esc(risk.description) + reasons,
                esc(view.movement),
                verdict,
                esc(risk.treatment),
                esc(", ".join(risk.controls) or "—"),
                esc(risk.owner),
            ]
        )
    return html_table(RISK_COLUMNS, rows, empty="no risks registered for this system")


# -- controls -------------------------------------------------------------------------------
def status_filter_options(counts: Mapping[str, int]) -> list[tuple[str, str]]:
    """The status filter's choices with their counts (``all`` first)."""
    return [(f"all ({sum(counts.values())})", ALL)] + [
        (f"{status_label(s)} ({counts.get(s, 0)})", s) for s in STATUSES
    ]


def kept_choice(current: Any, options: Sequence[tuple[str, Any]]) -> Any:
    """``current`` when still among ``options``, else ``ALL``."""
    return current if current in dict(options).values() else ALL


def control_summary_html(control: Any) -> str:
    return (
        f"{status_chip(control.status)} <b>{esc(control.id)}</b> {esc(control.title)} "
        f'<span style="color:#666">· owner {esc(control.owner)}</span>'
    )


def control_detail_html(row: Any) -> str:
    """A control's status, reasons, evidence ids and how to close it."""
    parts = [
        f"<b>Status:</b> {status_chip(row.status)} ({esc(row.kind)}, {esc(row.scope)} scope)",
        f"<b>Reasons:</b>{bullet_list(row.reasons) or ' <i>none given</i>'}",
    ]
    if row.evidence:
        parts.append("<b>Evidence:</b> " + ", ".join(code(e) for e in row.evidence))
    else:
        parts.append("<b>Evidence:</b> <i>none</i>")
    if row.status not in ("satisfied", "not_applicable") and row.how_to_close:
        parts.append(f"<b>How to close:</b> {code(row.how_to_close)}")
    return (
        '<div style="margin:0 0 6px 40px;padding:4px 8px;border-left:3px solid '
        f'{status_swatch(row.status).background}">' + "<br>".join(parts) + "</div>"
    )


# -- evidence -------------------------------------------------------------------------------
def kind_options(kinds: Sequence[str]) -> list[tuple[str, str]]:
    return [("all kinds", ALL)] + [(k, k) for k in kinds]


def evidence_summary_html(row: EvidenceRow) -> str:
    run = f" · run {code(row.run_id[:12])}" if row.run_id else ""
    controls = ", ".join(row.controls) or "—"
    return (
        f"{esc(row.collected_at[:19].replace('T', ' '))} {outcome_chip(row.outcome)} "
        f"<b>{esc(row.kind)}</b>{run} · controls {esc(controls)}"
    )


def record_html(row: EvidenceRow) -> str:
    """The drill-down of one record."""
    link = (
        f'<a href="{esc(row.mlflow_url)}" target="_blank">open the run in MLflow</a>'
        if row.mlflow_url
        else "<i>no MLflow UI link (the tracking URI is not an http(s) server)</i>"
        if row.run_id
        else "<i>organization- or system-level record (no run)</i>"
    )
    facts = [
        ("record id", code(row.id)),
        ("kind", esc(row.kind)),
        ("outcome", outcome_chip(row.outcome)),
        ("collected at", esc(row.collected_at)),
        ("system", esc(row.system or "organization")),
        ("collector", esc(row.collector)),
        ("run id", code(row.run_id) if row.run_id else "—"),
        ("MLflow", link),
        ("model", esc(row.model)),
        ("datasets", ", ".join(code(d) for d in row.dataset_digests) or "—"),
        ("controls", esc(", ".join(row.controls) or "—")),
        ("valid until", esc(row.valid_until)),
        ("content hash (SHA-256)", code(row.content_hash)),
        ("signed", "yes" if row.signed else "no"),
    ]
    metrics = html_table(
        ["metric", "value"],
        ([esc(name), esc(f"{value:.6g}")] for name, value in sorted(row.metrics.items())),
        empty="no metrics",
    )
    return (
        '<div style="border:1px solid #ddd;padding:6px;margin-top:6px">'
        + html_table(["", ""], ([f"<b>{esc(k)}</b>", v] for k, v in facts))
        + "<b>Metrics</b>"
        + metrics
        + "<b>Details</b>"
        + '<pre style="max-height:240px;overflow:auto;background:#fafafa;font-size:0.85em">'
        + esc(row.details_preview)
        + "</pre></div>"
    )


def missing_record_html(record_id: str) -> str:
    return f"<i>record {esc(record_id)} is not among this system's</i>"


# -- gaps -----------------------------------------------------------------------------------
def gaps_html(m: DashboardModel) -> str:
    """The gaps, most urgent first, then the open nonconformities of the register."""
    rows = [
        [
            f"<b>{esc(g.control)}</b> {esc(g.title)}",
            status_chip(g.status),
            esc(g.owner),
            code(g.how_to_close),
            f"<details><summary>why</summary>{bullet_list(g.reasons)}</details>"
            if g.reasons
            else "",
        ]
        for g in m.gaps
    ]
    title = f"<b>{len(rows)} gaps</b>, most urgent first" if rows else ""
    text = title + html_table(
        ["entry", "status", "owner", "how to close", ""], rows, empty="no gaps: all satisfied"
    )
    ncs = [
        [
            code(str(nc["short_id"])),
            esc(str(nc["control"] or "the AIMS")),
            esc(str(nc["source"])),
            esc(str(nc["state"])) + (" <b>(overdue)</b>" if nc["overdue"] else ""),
            esc(str(nc["owner"] or "")),
            esc(str(nc["due"])),
        ]
        for nc in m.nonconformities
    ]
    heading = f"<p><b>{len(ncs)} open nonconformities</b> (the register)</p>"
    return text + heading + html_table(
        ["nonconformity", "entry", "raised by", "state", "owner", "due"],
        ncs,
        empty="no open nonconformity",
    )


__all__ = [
    "ERROR_NO_SYSTEM",
    "HeatCellView",
    "build_model",
    "choose_system",
    "configuration_html",
    "control_detail_html",
    "control_summary_html",
    "evidence_summary_html",
    "gaps_html",
    "header_html",
    "heat_cell_view",
    "heat_legend_html",
    "impact_label_html",
    "kept_choice",
    "kind_options",
    "likelihood_label_html",
    "missing_record_html",
    "record_html",
    "refreshed_html",
    "risk_table_html",
    "score_label_html",
    "score_style",
    "status_filter_options",
]
