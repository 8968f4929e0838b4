"""The system report as one self-contained HTML file: inline CSS and SVG, no scripts, no assets.

Every value taken from configuration or evidence is HTML-escaped. Every claim names the evidence
behind it: a record id links to the appendix entry (id, kind, collected at, outcome, content
hash); a configuration declaration (``config:<digest>#<path>``) links to the configuration entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from aims_mlops._escape import html_code_spans
from aims_mlops.genai import genai_section_html
from aims_mlops.presentation import (
    GOOD,
    OUTCOME_COLOURS,
    WARNING,
    outcome_swatch,
    percent,
    status_label,
    status_swatch,
)
from aims_mlops.reports._charts import (
    Bar,
    donut_svg,
    group_bars_svg,
    heatmap_svg,
)
from aims_mlops.reports._content import (
    SHORT_HASH,
    SHORT_ID,
    DataQualityView,
    FairnessView,
    JudgementLike,
    Refs,
    RefStyle,
    ReportContent,
    anchor,
    fmt_number,
    gather,
)
from aims_mlops.reports._lifecycle import lifecycle_for, lifecycle_html

#: Groups drawn in a fairness chart at most (the record lists the largest groups first).
MAX_CHART_GROUPS = 30

CSS = """
:root { --ink:#1d2b3a; --muted:#5f6b78; --line:#dde3e9; --bg:#f5f7f9; --accent:#1f4e79; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 Helvetica, Arial, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; }
header.report { background: var(--accent); color:#fff; padding: 22px 32px; }
header.report .inner { max-width:1180px; margin:0 auto; }
header.report h1 { margin:0 0 4px; font-size: 24px; }
header.report p { margin: 2px 0; opacity: .9; }
nav.toc { margin: 12px 0 0; font-size: 13px; }
nav.toc a { color:#fff; margin-right: 14px; text-decoration: none;
  border-bottom: 1px solid #ffffff66; }
section { background:#fff; border:1px solid var(--line); border-radius:6px; padding: 18px 22px;
  margin: 18px 0; }
h2 { margin: 0 0 12px; font-size: 19px; color: var(--accent); }
h3 { margin: 18px 0 8px; font-size: 15px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
table.controls, table.gaps, table.dq { table-layout: fixed; }
table.dq td { overflow-wrap: anywhere; } table.dq td:first-child { white-space: normal; }
td { overflow-wrap: break-word; }
td:first-child { white-space: nowrap; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid var(--line); }
th { background: #eef2f6; font-size: 12px; text-transform: uppercase; letter-spacing: .03em;
  color: var(--muted); }
table.card th { width: 190px; text-transform:none; font-size: 13px; letter-spacing:0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.chip { display:inline-block; padding: 1px 9px; border-radius: 10px; color:#fff; font-size: 12px;
  font-weight: bold; white-space: nowrap; }
{outcome_chips}
.ev { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 11.5px;
  color: var(--accent); text-decoration:none; white-space: nowrap; }
.ev .hash { color: var(--muted); }
.ev.cfg { white-space: normal; overflow-wrap: anywhere; }
.ev.unknown { color: var(--muted); }
.evs { display:block; margin-top: 2px; }
ul.reasons { margin: 0; padding-left: 16px; }
ul.reasons li { margin: 1px 0; }
.muted { color: var(--muted); }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.summary { display:flex; gap: 28px; align-items:center; flex-wrap: wrap; }
.summary .counts td { padding: 3px 10px; }
.score-big { font-size: 40px; font-weight: bold; }
.charts { display:flex; gap: 24px; flex-wrap: wrap; align-items:flex-start; }
svg.chart { max-width: 100%; height: auto; }
.above { color: #8e2a1f; font-weight: bold; }
.within { color: {good}; }
.note { background: #fff8e5; border-left: 3px solid {warning}; padding: 6px 10px; margin: 6px 0;
  font-size: 13px; }
.empty { color: var(--muted); font-style: italic; }
tr.target:target, tr:target { background: #fff3c4; }
table.appendix td.mono { font-size: 11px; }
table.appendix td.hash { width: 236px; max-width: 236px; word-break: break-all; }
table.appendix td.when { white-space: nowrap; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print {
  body { background:#fff; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  header.report { padding: 12px 0; }
  nav.toc { display:none; }
  main { padding: 0; max-width: none; }
  section { border: none; border-radius: 0; padding: 0; margin: 0 0 12px; break-before: page;
    page-break-before: always; }
  section#system-card { break-before: auto; page-break-before: auto; }
  tr, .chart { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 10px; } th { font-size: 9px; letter-spacing: 0; } th, td { padding: 3px 4px; }
  .ev { font-size: 9px; white-space: normal; overflow-wrap: anywhere; }
  table.risks td:nth-child(7), table.risks td:nth-child(8) { overflow-wrap: anywhere; }
  table.controls { table-layout: auto; }
  table.gaps th:nth-child(1) { width: 22px !important; }
  table.gaps th:nth-child(2) { width: 84px !important; }
  table.gaps th:nth-child(3) { width: 15%; } table.gaps th:nth-child(5) { width: 18%; }
  table.gaps th:nth-child(4) { width: 72px !important; }
  table.gaps th:nth-child(6) { width: 28% !important; }
  table.appendix td.hash { width: auto; max-width: none; }
  table.appendix td:first-child { white-space: normal; word-break: break-all; }
  a { color: inherit; text-decoration: none; }
}
"""


CSS = (
    CSS.replace(
        "{outcome_chips}",
        " ".join(
            f".chip.{outcome} {{ background:{swatch.background}; color:{swatch.foreground}; }}"
            for outcome, swatch in OUTCOME_COLOURS.items()
        ),
    )
    .replace("{good}", GOOD)
    .replace("{warning}", WARNING)
)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def inline_code(text: str) -> str:
    """Escape ``text``, showing its backtick-quoted parts (commands, calls) as code."""
    return html_code_spans(text)


def status_chip(status: str) -> str:
    swatch = status_swatch(status)
    return (
        f'<span class="chip status {_e(status)}" data-status="{_e(status)}" '
        f'style="background:{swatch.background};color:{swatch.foreground}">'
        f"{_e(status_label(status))}</span>"
    )


def outcome_chip(outcome: str) -> str:
    if outcome in OUTCOME_COLOURS:
        return f'<span class="chip {_e(outcome)}">{_e(outcome)}</span>'
    swatch = outcome_swatch(outcome)
    return (
        f'<span class="chip {_e(outcome)}" style="background:{swatch.background};'
        f'color:{swatch.foreground}">{_e(outcome)}</span>'
    )


def _config_ref(evidence_id: str, path: str) -> str:
    return (
        f'<a class="ev cfg" href="#config" data-evidence="{_e(evidence_id)}" '
        f'title="{_e(evidence_id)}">config#{_e(path)}</a>'
    )


def _record_ref(evidence_id: str, short: str) -> str:
    return (
        f'<a class="ev" href="#{_e(anchor(evidence_id))}" '
        f'data-evidence="{_e(evidence_id)}" '
        f'title="record {_e(evidence_id)}">{_e(evidence_id[:SHORT_ID])}'
        f' <span class="hash">#{_e(short)}</span></a>'
    )


def _unknown_ref(evidence_id: str) -> str:
    return (
        f'<span class="ev unknown" data-evidence="{_e(evidence_id)}" '
        f'title="record {_e(evidence_id)} is not in the evidence loaded for this report">'
        f"{_e(evidence_id[:SHORT_ID])}</span>"
    )


HTML_REFS = RefStyle(
    config=_config_ref,
    record=_record_ref,
    unknown=_unknown_ref,
    join=lambda parts: '<span class="evs">' + " ".join(parts) + "</span>",
    empty='<span class="muted">no evidence</span>',
)



def _breakable(text: object) -> str:
    """Escaped, with a line-break opportunity after each underscore (expectation names)."""
    return _e(text).replace("_", "_<wbr>")


def _reasons(reasons: Sequence[str]) -> str:
    if not reasons:
        return ""
    return '<ul class="reasons">' + "".join(f"<li>{inline_code(r)}</li>" for r in reasons) + "</ul>"


def _kv_table(rows: Sequence[tuple[str, str]], *, cls: str = "card") -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="{cls}">{body}</table>'


# ------------------------------------------------------------------------------------ sections
def _genai(c: ReportContent) -> str:
    """The GenAI evaluation: rates against thresholds, the red team by category."""
    if c.genai is None:
        return ""
    return genai_section_html(c.genai)


def _system_card(c: ReportContent, refs: Refs) -> str:
    sc = c.system_config
    cfg = c.config_ref

    def declared(value: object, path: str) -> str:
        shown = (
            _e(value) if value not in (None, "", ()) else '<span class="empty">not declared</span>'
        )
        return f"{shown} {refs.one(f'{cfg}.{path}')}"

    model = c.model
    if model is None:
        model_cell = '<span class="empty">no registered model version resolved</span>'
    else:
        parts = [f"<strong>{_e(model.name)}</strong>"]
        if model.version is not None:
            parts.append(f"version <strong>{_e(model.version)}</strong>")
        if model.alias:
            parts.append(f"(alias <code>{_e(model.alias)}</code>)")
        if model.run_id:
            parts.append(f'<br><span class="muted">run</span> <code>{_e(model.run_id)}</code>')
        model_cell = " ".join(parts)
    rows = [
        ("System", f"<code>{_e(sc.id)}</code> — {_e(sc.label)} {refs.one(cfg)}"),
        ("Owner", declared(sc.owner, "owner")),
        ("Intended use", declared(sc.intended_use, "intended_use")),
        ("Lifecycle stage", declared(sc.lifecycle_stage, "lifecycle_stage")),
        ("Sensitive features", declared(", ".join(sc.sensitive_features), "sensitive_features")),
        ("Model", model_cell),
        ("EU AI Act", _e(c.eu_ai_act) + " " + refs.one(f"{cfg}.eu_ai_act")),
    ]
    out = ['<section id="system-card"><h2>System card</h2>', _kv_table(rows)]
    out.append(_lineage(c, refs))
    out.append("</section>")
    return "".join(out)


def _lineage(c: ReportContent, refs: Refs) -> str:
    lin = c.lineage
    out = ["<h3>Lineage</h3>"]
    if lin.datasets_record is None:
        out.append('<p class="empty">No <code>lineage.datasets</code> record for this system.</p>')
    else:
        out.append(f"<p>Datasets {refs.one(lin.datasets_record.id)}</p>")
        rows = []
        for d in lin.datasets:
            digest = d.get("sha256") or d.get("digest")
            rows.append(
                f"<tr><td>{_e(d.get('name'))}</td><td>{_e(d.get('context') or '')}</td>"
                f'<td class="mono">{_e(d.get("digest") or "")}</td>'
                f'<td class="mono" title="{_e(digest)}">{_e(str(d.get("sha256") or "")[:16])}</td>'
                f'<td class="num">{_e(fmt_number(d.get("num_rows")))}</td>'
                f"<td>{_e(_source(d.get('source')))}</td></tr>"
            )
        out.append(
            "<table><tr><th>dataset</th><th>context</th><th>MLflow digest</th><th>sha256</th>"
            '<th class="num">rows</th><th>source</th></tr>' + "".join(rows) + "</table>"
        )
    rows2: list[tuple[str, str]] = []
    if lin.code is not None and lin.code_record is not None:
        code = lin.code
        dirty = code.get("dirty")
        state = "" if dirty is None else (" (uncommitted changes)" if dirty else " (clean)")
        rows2.append(
            (
                "Code",
                f"commit <code>{_e(code.get('commit') or 'unknown')}</code>{_e(state)}"
                f"{' on ' + _e(code.get('branch')) if code.get('branch') else ''}"
                f"{'<br>' + _e(code.get('repository')) if code.get('repository') else ''}"
                + (
                    f"<br><span class=muted>source</span> {_e(code.get('source'))}"
                    if code.get("source")
                    else ""
                )
                + f" {refs.one(lin.code_record.id)}",
            )
        )
    else:
        rows2.append(("Code", '<span class="empty">no lineage.code record</span>'))
    if lin.environment is not None and lin.environment_record is not None:
        env = lin.environment
        packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        rows2.append(
            (
                "Environment",
                f"Python {_e(env.get('python'))} on {_e(env.get('platform'))}<br>{_e(packages)}"
                f"<br><span class=muted>installed distributions sha256</span> "
                f"<code>{_e(str(env.get('distributions_sha256') or '')[:16])}</code> "
                f"{refs.one(lin.environment_record.id)}",
            )
        )
    else:
        rows2.append(("Environment", '<span class="empty">no lineage.environment record</span>'))
    for label, record in (
        ("Compute", lin.compute_record),
        ("Parameters", lin.params_record),
        ("Model artifacts", lin.model_record),
    ):
        if record is not None:
            rows2.append((label, f"{_e(_record_brief(record))} {refs.one(record.id)}"))
    out.append(_kv_table(rows2))
    return "".join(out)


def _source(source: Any) -> str:
    if isinstance(source, Mapping):
        for key in ("uri", "path", "url", "table_name"):
            if source.get(key):
                return str(source[key])
        return ", ".join(f"{k}={v}" for k, v in source.items())
    return "" if source is None else str(source)


def _record_brief(record: Any) -> str:
    d = record.details
    if record.kind == "lineage.compute":
        parts = [str(d.get("hostname") or ""), f"{d.get('cpu_count') or '?'} CPUs"]
        gpus = d.get("gpus")
        if gpus:
            parts.append(f"{len(gpus)} GPU(s)")
        return ", ".join(p for p in parts if p)
    if record.kind == "lineage.params":
        digest = str(d.get("params_sha256") or "")[:12]
        return f"{d.get('params_total', 0)} parameters (sha256 {digest})"
    if record.kind == "lineage.model":
        versions = d.get("registered_versions") or ()
        shown = ", ".join(
            f"{v.get('name')} v{v.get('version')}" for v in versions if isinstance(v, Mapping)
        )
        return shown or f"{len(d.get('logged_models') or ())} logged model(s)"
    return record.kind


def _conformity(c: ReportContent) -> str:
    counts = c.system.counts()
    applicable = sum(n for s, n in counts.items() if s != "not_applicable")
    ring = {s: n for s, n in counts.items() if s != "not_applicable"}
    rows = "".join(
        f"<tr><td>{status_chip(s)}</td><td class='num'>{n}</td></tr>" for s, n in counts.items()
    )
    above = [r for r in c.risks if r.above_appetite]
    return (
        '<section id="conformity"><h2>Conformity</h2><div class="summary">'
        f"{donut_svg(c.score, ring)}"
        f'<div><div class="score-big">{percent(c.score)}</div>'
        f"<p>{counts['satisfied']} of {applicable} applicable clauses and controls are satisfied "
        f"({counts['not_applicable']} excluded by the Statement of Applicability).</p>"
        f"<p>{len(c.gaps)} gap(s) to close; {len(above)} risk(s) above the appetite of "
        f"{c.appetite}.</p></div>"
        f'<table class="counts" style="width:auto"><tr><th>status</th><th class="num">entries</th>'
        f"</tr>{rows}</table></div></section>"
    )


def _controls(c: ReportContent, refs: Refs) -> str:
    out = ['<section id="controls"><h2>Clauses and controls</h2>']
    for group in c.groups:
        label = f"Clause {group.id}" if not group.id.startswith("A.") else f"Annex {group.id}"
        out.append(f"<h3>{_e(label)} — {_e(group.title)}</h3>")
        out.append(
            '<table class="controls"><tr><th style="width:70px">id</th><th style="width:24%">title'
            '</th><th style="width:100px">status</th><th>reasons</th><th style="width:210px">'
            "evidence</th></tr>"
        )
        for s in group.controls:
            out.append(
                f'<tr id="control-{_e(s.id)}" class="control" data-control="{_e(s.id)}" '
                f'data-status="{_e(s.status)}"><td><strong>{_e(s.id)}</strong></td>'
                f"<td>{_e(s.title)}</td><td>{status_chip(s.status)}</td>"
                f"<td>{_reasons(s.reasons)}</td><td>{refs.many(s.evidence)}</td></tr>"
            )
        out.append("</table>")
    if c.excluded:
        out.append("<h3>Excluded by the Statement of Applicability</h3>")
        out.append("<table><tr><th>id</th><th>title</th><th>justification</th></tr>")
        for s in c.excluded:
            out.append(
                f'<tr class="excluded" data-control="{_e(s.id)}"><td><strong>{_e(s.id)}</strong>'
                f"</td><td>{_e(s.title)}</td><td>{_reasons(s.reasons)} "
                f"{refs.one(f'config:{c.config_digest[:12]}#soa')}</td></tr>"
            )
        out.append("</table>")
    out.append("</section>")
    return "".join(out)


def _risks(c: ReportContent, refs: Refs) -> str:
    out = ['<section id="risks"><h2>Risk register</h2>']
    if not c.risks:
        out.append('<p class="empty">No risks registered for this system.</p></section>')
        return "".join(out)
    out.append(
        '<div class="charts">'
        + heatmap_svg(
            c.risks,
            appetite=c.appetite,
            likelihood_labels=c.likelihood_labels,
            impact_labels=c.impact_labels,
        )
        + '<div style="flex:1;min-width:260px"><p>Each risk is placed by likelihood × impact '
        "before treatment (hollow) and after its treating controls (filled); the arrow shows the "
        f"effect of treatment. Cells scoring above the risk appetite ({c.appetite}) are shaded "
        "(orange above it, red far above it). "
        "A residual score only falls below the inherent one when every treating control is "
        "satisfied.</p></div></div>"
    )
    out.append(
        '<table class="risks"><tr><th>id</th><th>risk</th><th>owner</th><th>treatment</th>'
        '<th class="num">inherent</th><th class="num">residual</th><th>reasons</th>'
        "<th>evidence</th></tr>"
    )
    for r in c.risks:
        flag = (
            '<span class="above">above appetite</span>'
            if r.above_appetite
            else '<span class="within">within appetite</span>'
        )
        controls = ", ".join(f'<a href="#control-{_e(x)}">{_e(x)}</a>' for x in r.controls)
        out.append(
            f'<tr id="risk-{_e(r.id)}" class="risk" data-risk="{_e(r.id)}"><td><strong>{_e(r.id)}'
            f"</strong></td><td>{_e(r.description)}<br><span class=muted>{_e(r.category)}"
            f"{' · system ' + _e(r.system) if r.system else ' · organization-level'}</span></td>"
            f"<td>{_e(r.owner)}</td><td>{_e(r.treatment)}"
            f"{'<br>' + controls if controls else ''}</td>"
            f'<td class="num">{r.inherent_likelihood} × {r.impact} = '
            f"<strong>{r.inherent}</strong></td>"
            f'<td class="num">{r.residual_likelihood} × {r.residual_impact} = '
            f"<strong>{r.residual}</strong><br>{flag}</td>"
            f"<td>{_reasons(r.reasons)}</td><td>{refs.many(r.evidence)}</td></tr>"
        )
    out.append("</table></section>")
    return "".join(out)


def _data_quality_table(view: DataQualityView, refs: Refs) -> str:
    out = [
        f"<h3>{_e(view.dataset)} {outcome_chip(view.record.outcome)} "
        f"{refs.one(view.record.id)}</h3>",
        "<p class='muted'>"
        + (f"digest <code>{_e(view.dataset_digest[:16])}</code> · " if view.dataset_digest else "")
        + f"{len(view.checks)} checks"
        + (
            f", {percent(view.success_percent / 100)} passed"
            if view.success_percent is not None
            else ""
        )
        + (f"; {view.omitted} passing checks not kept in the record" if view.omitted else "")
        + "</p>",
        '<table class="dq"><tr><th style="width:25%">expectation</th><th style="width:20%">'
        'target</th><th style="width:76px">result</th><th class="num" style="width:112px">'
        'unexpected</th><th class="num" style="width:120px">unexpected %</th><th>reason</th></tr>',
    ]
    for check in view.checks:
        result = "pass" if check.success else ("fail" if check.success is False else "error")
        pct = check.unexpected_percent
        out.append(
            f'<tr class="check" data-success="{_e(check.success)}">'
            f"<td><code>{_breakable(check.type)}</code></td><td>{_e(check.target)}</td><td>{outcome_chip(result)}</td>"
            f'<td class="num">{_e(fmt_number(check.unexpected_count))}</td>'
            f'<td class="num">{_e("n/a" if pct is None else f"{pct:.2f}")}</td>'
            f"<td>{_breakable(check.reason)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _data_quality(c: ReportContent, refs: Refs) -> str:
    out = ['<section id="data-quality"><h2>Data quality</h2>']
    if not c.data_quality:
        out.append('<p class="empty">No data-quality record for this system.</p>')
    for view in c.data_quality:
        out.append(_data_quality_table(view, refs))
    out.append("</section>")
    return "".join(out)


def fairness_limit(view: FairnessView) -> tuple[float | None, str]:
    """The lowest selection rate within the declared threshold, and how it is labelled."""
    rates = [g.selection_rate for g in view.groups if g.selection_rate is not None]
    if not rates:
        return None, ""
    highest = max(rates)
    if view.dpd_max is not None:
        return highest - view.dpd_max, f"highest − {view.dpd_max:g} (demographic parity limit)"
    if view.dpr_min is not None:
        return (
            highest * view.dpr_min,
            f"highest × {view.dpr_min:g} (demographic parity ratio limit)",
        )
    return None, ""


def _fairness_view(view: FairnessView, refs: Refs) -> str:
    record = view.record
    features = ", ".join(view.features) or "groups"
    out = [
        f"<h3>By {_e(features)} {outcome_chip(record.outcome)} {refs.one(record.id)}</h3>",
    ]
    if view.checks:
        out.append(
            '<table class="fairness-checks"><tr><th>metric</th><th class="num">value</th>'
            '<th class="num">limit</th><th>result</th><th>reason</th></tr>'
        )
        for check in view.checks:
            limit = " and ".join(
                f"{op} {check[key]:g}"
                for key, op in (("min", "≥"), ("max", "≤"))
                if isinstance(check.get(key), int | float)
            )
            value = check.get("value")
            value_text = fmt_number(value, digits=4) if isinstance(value, int | float) else "n/a"
            out.append(
                f"<tr><td><code>{_e(check.get('metric'))}</code></td>"
                f'<td class="num">{_e(value_text)}</td><td class="num">{_e(limit)}</td>'
                f"<td>{outcome_chip('pass' if check.get('passed') else 'fail')}</td>"
                f"<td>{_e(check.get('reason') or '')}</td></tr>"
            )
        out.append("</table>")
    other = {
        k: v for k, v in view.metrics.items() if k not in {c.get("metric") for c in view.checks}
    }
    if other:
        out.append(
            "<p class='muted'>"
            + " · ".join(f"{_e(k)} {_e(fmt_number(v, digits=4))}" for k, v in sorted(other.items()))
            + "</p>"
        )
    limit, label = fairness_limit(view)
    bars = [
        Bar(label=g.label, value=g.selection_rate, count=g.count)
        for g in view.groups[:MAX_CHART_GROUPS]
        if g.selection_rate is not None
    ]
    if bars:
        out.append(
            group_bars_svg(
                bars,
                title=f"Selection rate by {features}",
                limit_low=limit,
                limit_label=label,
            )
        )
        shown = len(bars)
        if view.groups_total > shown:
            out.append(
                f"<p class='muted'>The chart shows the {shown} largest of "
                f"{view.groups_total} groups.</p>"
            )
    out.append(
        '<table class="groups"><tr><th>group</th><th class="num">rows</th>'
        '<th class="num">selection rate</th><th class="num">TPR</th><th class="num">FPR</th>'
        '<th class="num">accuracy</th></tr>'
    )
    for g in view.groups:
        below = limit is not None and g.selection_rate is not None and g.selection_rate < limit
        out.append(
            f'<tr class="group{" below" if below else ""}"><td>{_e(g.label)}</td>'
            f'<td class="num">{_e(fmt_number(g.count))}</td>'
            f'<td class="num">{_e(fmt_number(g.selection_rate))}</td>'
            f'<td class="num">{_e(fmt_number(g.true_positive_rate))}</td>'
            f'<td class="num">{_e(fmt_number(g.false_positive_rate))}</td>'
            f'<td class="num">{_e(fmt_number(g.accuracy))}</td></tr>'
        )
    out.append("</table>")
    for warning in view.warnings:
        out.append(f'<p class="note">{_e(warning)}</p>')
    return "".join(out)


def _fairness(c: ReportContent, refs: Refs) -> str:
    out = ['<section id="fairness"><h2>Fairness</h2>']
    if not c.fairness:
        out.append('<p class="empty">No fairness record for this system.</p>')
    for view in c.fairness:
        out.append(_fairness_view(view, refs))
    if c.performance:
        out.append("<h3>Performance</h3>")
        for record in c.performance:
            checks = [x for x in record.details.get("checks") or () if isinstance(x, Mapping)]
            shown = checks or [{"metric": k, "value": v} for k, v in sorted(record.metrics.items())]
            cells = " · ".join(_metric_cell(x) for x in shown)
            out.append(f"<p>{outcome_chip(record.outcome)} {cells} {refs.one(record.id)}</p>")
    out.append("</section>")
    return "".join(out)


def _metric_cell(check: Mapping[str, Any]) -> str:
    value = check.get("value")
    text = fmt_number(value, digits=4) if isinstance(value, int | float) else "n/a"
    chip = (
        f" {outcome_chip('pass' if check.get('passed') else 'fail')}" if "passed" in check else ""
    )
    return f"<code>{_e(check.get('metric'))}</code> {_e(text)}{chip}"


def _gaps(c: ReportContent) -> str:
    out = ['<section id="gaps"><h2>Gaps and how to close them</h2>']
    if not c.gaps:
        out.append("<p>No gaps: every applicable clause and control is satisfied.</p></section>")
        return "".join(out)
    out.append(
        f"<p>{len(c.gaps)} applicable entries are not satisfied, most urgent first (failing, "
        "treating a risk above appetite, stale, missing).</p>"
        '<table class="gaps"><tr><th style="width:34px">#</th><th style="width:116px">id</th>'
        '<th>title</th><th style="width:90px">status</th><th>owner</th>'
        "<th style='width:26%'>how to close</th><th style='width:24%'>why</th></tr>"
    )
    for n, gap in enumerate(c.gaps, 1):
        scope = "" if gap.system else "<br><span class=muted>organization</span>"
        out.append(
            f'<tr class="gap" data-control="{_e(gap.control)}"><td class="num">{n}</td>'
            f'<td><a href="#control-{_e(gap.control)}"><strong>{_e(gap.control)}</strong></a>'
            f"{scope}"
            f"</td><td>{_e(gap.title)}</td><td>{status_chip(gap.status)}</td>"
            f"<td>{_e(gap.owner)}</td><td>{inline_code(gap.how_to_close)}</td>"
            f"<td>{_reasons(gap.reasons[:2])}</td></tr>"
        )
    out.append("</table></section>")
    return "".join(out)


def _appendix(c: ReportContent) -> str:
    out = [
        '<section id="evidence"><h2>Appendix: evidence records</h2>',
        f"<p>{len(c.appendix)} records of this system and of the organization, newest first. "
        "Each content hash is the SHA-256 of the record's canonical JSON; "
        "<code>aims verify</code> recomputes it.</p>",
        '<table class="appendix"><tr><th>id</th><th>kind</th><th>collected at</th><th>outcome</th>'
        "<th>about</th><th>controls</th><th>content hash (sha256)</th></tr>",
    ]
    for r in c.appendix:
        about = []
        if r.subject.model_name or r.subject.model_version:
            about.append(f"{r.subject.model_name or 'model'} v{r.subject.model_version or '?'}")
        if r.subject.run_id:
            about.append(f"run {r.subject.run_id[:12]}")
        if r.system is None:
            about.append("organization")
        kind = r.kind
        if r.kind == "attestation":
            kind += f" by {r.details.get('by', '?')}"
        out.append(
            f'<tr id="{_e(anchor(r.id))}" class="record" data-record="{_e(r.id)}">'
            f'<td class="mono">{_e(r.id)}</td><td>{_e(kind)}</td>'
            f'<td class="mono when">{_e(r.collected_at.replace("T", " "))}</td>'
            f"<td>{outcome_chip(r.outcome)}</td>"
            f"<td>{_e(', '.join(about))}</td><td>{_e(', '.join(r.controls))}</td>"
            f'<td class="mono hash">{_e(r.content_hash)}</td></tr>'
        )
    out.append("</table>")
    out.append(
        '<h3 id="config">Configuration</h3>'
        "<p>Declarations cited as <code>config#path</code> are in the AIMS configuration "
        f"(aims.yaml) with digest <code>{_e(c.config_digest)}</code> "
        f"(<code>config:{_e(c.config_digest[:SHORT_HASH])}</code>), "
        f"as assessed at {_e(c.evaluated_at)}.</p></section>"
    )
    return "".join(out)


def render_html(judgement: JudgementLike, system: str, *, model_version: str | None = None) -> str:
    """The report of ``system`` as one self-contained HTML document (inline CSS and SVG)."""
    c = gather(judgement, system, model_version=model_version)
    refs = Refs(c, HTML_REFS)
    sa = c.system
    model = f" · {c.model.describe()}" if c.model is not None else ""
    toc = "".join(
        f'<a href="#{sid}">{label}</a>'
        for sid, label in (
            ("system-card", "System card"),
            ("conformity", "Conformity"),
            ("controls", "Controls"),
            ("risks", "Risks"),
            ("data-quality", "Data quality"),
            ("fairness", "Fairness"),
            ("gaps", "Gaps"),
            ("evidence", "Evidence"),
            ("lifecycle", "Lifecycle"),
        )
    )
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(sa.name)} — ISO/IEC 42001 system report</title>",
            f"<style>{CSS}</style></head><body>",
            f'<header class="report"><div class="inner"><h1>{_e(sa.name)}</h1>',
            f"<p>ISO/IEC 42001 AI system report · {_e(c.organization)}{_e(model)}</p>",
            f"<p>Assessed {_e(c.evaluated_at)} · conformity {percent(c.score)} · configuration "
            f"<code>{_e(c.config_digest[:SHORT_HASH])}</code></p>",
            *(f'<p class="integrity">{inline_code(line)}</p>' for line in c.integrity),
            f'<nav class="toc">{toc}</nav></div></header><main>',
            _system_card(c, refs),
            _conformity(c),
            _controls(c, refs),
            _risks(c, refs),
            _data_quality(c, refs),
            _fairness(c, refs),
            _genai(c),
            _gaps(c),
            _appendix(c),
            lifecycle_html(lifecycle_for(judgement)),  # type: ignore[arg-type]
            "<footer>Generated by aims_mlops from the evidence store; statuses are the "
            "conformity engine's, with the reasons and evidence behind each.</footer>",
            "</main></body></html>\n",
        ]
    )
