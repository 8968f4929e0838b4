"""The system report in Markdown: the same content as the HTML report, as tables and ASCII bars.

Text from configuration or evidence is escaped by :func:`aims_mlops._escape.md_escape` (``md``):
for Markdown tables (``|``, newlines), for the HTML a Markdown renderer would pass through (``<``,
``>``, ``&``) and for links (``[``, ``]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aims_mlops._escape import md_escape
from aims_mlops.genai import genai_section_markdown
from aims_mlops.presentation import percent, status_label
from aims_mlops.reports._content import (
    SHORT_HASH,
    SHORT_ID,
    FairnessView,
    JudgementLike,
    Refs,
    RefStyle,
    ReportContent,
    anchor,
    fmt_number,
    gather,
)
from aims_mlops.reports._html import fairness_limit

#: Width of an ASCII bar for a rate of 1.0.
BAR_WIDTH = 40


def md(value: object) -> str:
    """Escape text for a Markdown table cell (the one helper, :func:`md_escape`)."""
    return md_escape(value)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


MARKDOWN_REFS = RefStyle(
    config=lambda evidence_id, path: f"[config#{md(path)}](#config)",
    record=lambda evidence_id, short: (
        f"[{md(evidence_id[:SHORT_ID])}](#{anchor(md(evidence_id))}) `#{short}`"
    ),
    unknown=lambda evidence_id: f"{md(evidence_id[:SHORT_ID])} (not loaded)",
    join=", ".join,
    empty="no evidence",
)


def _status(status: str) -> str:
    return f"**{status_label(status)}**"


def ascii_bar(value: float, *, width: int = BAR_WIDTH) -> str:
    """``████████▌`` for a rate in 0..1 (eighths of a character)."""
    eighths = round(max(0.0, min(1.0, value)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("" if rest == 0 else " ▏▎▍▌▋▊▉"[rest])


def _genai(c: ReportContent) -> list[str]:
    if c.genai is None:
        return []
    return genai_section_markdown(c.genai).splitlines()


def _system_card(c: ReportContent, refs: Refs) -> list[str]:
    sc = c.system_config
    cfg = c.config_ref
    model = c.model
    if model is None:
        model_text = "no registered model version resolved"
    else:
        model_text = md(model.describe())
        if model.alias:
            model_text += f" (alias `{md(model.alias)}`)"
        if model.run_id:
            model_text += f", run `{md(model.run_id)}`"
    rows = [
        ("System", f"`{md(sc.id)}` — {md(sc.label)} {refs.one(cfg)}"),
        ("Owner", f"{md(sc.owner or 'not declared')} {refs.one(cfg + '.owner')}"),
        (
            "Intended use",
            f"{md(sc.intended_use or 'not declared')} {refs.one(cfg + '.intended_use')}",
        ),
        ("Lifecycle stage", f"{md(sc.lifecycle_stage)} {refs.one(cfg + '.lifecycle_stage')}"),
        (
            "Sensitive features",
            f"{md(', '.join(sc.sensitive_features) or 'none')} "
            f"{refs.one(cfg + '.sensitive_features')}",
        ),
        ("Model", model_text),
        ("EU AI Act", f"{md(c.eu_ai_act)} {refs.one(cfg + '.eu_ai_act')}"),
    ]
    out = ["## System card", "", _table(["field", "value"], rows), "", "### Lineage", ""]
    lin = c.lineage
    if lin.datasets_record is None:
        out.append("_No `lineage.datasets` record for this system._")
    else:
        out.append(f"Datasets {refs.one(lin.datasets_record.id)}")
        out.append("")
        out.append(
            _table(
                ["dataset", "context", "MLflow digest", "sha256", "rows"],
                (
                    (
                        md(d.get("name")),
                        md(d.get("context") or ""),
                        f"`{md(d.get('digest') or '')}`",
                        f"`{md(str(d.get('sha256') or '')[:16])}`",
                        md(fmt_number(d.get("num_rows"))),
                    )
                    for d in lin.datasets
                ),
            )
        )
    out.append("")
    if lin.code is not None and lin.code_record is not None:
        code = lin.code
        out.append(
            f"- Code: commit `{md(code.get('commit') or 'unknown')}`"
            + (f" on {md(code.get('branch'))}" if code.get("branch") else "")
            + (" (uncommitted changes)" if code.get("dirty") else "")
            + (f", {md(code.get('repository'))}" if code.get("repository") else "")
            + f" {refs.one(lin.code_record.id)}"
        )
    else:
        out.append("- Code: _no lineage.code record_")
    if lin.environment is not None and lin.environment_record is not None:
        env = lin.environment
        packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        out.append(
            f"- Environment: Python {md(env.get('python'))} on {md(env.get('platform'))}; "
            f"{md(packages)} {refs.one(lin.environment_record.id)}"
        )
    else:
        out.append("- Environment: _no lineage.environment record_")
    return out


def _conformity(c: ReportContent) -> list[str]:
    counts = c.system.counts()
    applicable = sum(n for s, n in counts.items() if s != "not_applicable")
    return [
        "## Conformity",
        "",
        f"**{percent(c.score)}** — {counts['satisfied']} of {applicable} applicable clauses and "
        f"controls satisfied ({counts['not_applicable']} excluded by the Statement of "
        f"Applicability); {len(c.gaps)} gap(s); "
        f"{sum(1 for r in c.risks if r.above_appetite)} risk(s) above the appetite of "
        f"{c.appetite}.",
        "",
        _table(
            ["status", "entries", ""],
            (
                (status_label(s), str(n), ascii_bar(n / max(1, sum(counts.values())), width=30))
                for s, n in counts.items()
            ),
        ),
    ]


def _controls(c: ReportContent, refs: Refs) -> list[str]:
    out = ["## Clauses and controls"]
    for group in c.groups:
        label = f"Clause {group.id}" if not group.id.startswith("A.") else f"Annex {group.id}"
        out += ["", f"### {md(label)} — {md(group.title)}", ""]
        out.append(
            _table(
                ["id", "title", "status", "reasons", "evidence"],
                (
                    (
                        f'<a id="control-{md(s.id)}"></a>**{md(s.id)}**',
                        md(s.title),
                        _status(s.status),
                        "; ".join(md(r) for r in s.reasons),
                        refs.many(s.evidence),
                    )
                    for s in group.controls
                ),
            )
        )
    if c.excluded:
        out += ["", "### Excluded by the Statement of Applicability", ""]
        out.append(
            _table(
                ["id", "title", "justification"],
                (
                    (f"**{md(s.id)}**", md(s.title), "; ".join(md(r) for r in s.reasons))
                    for s in c.excluded
                ),
            )
        )
    return out


def _heatmap_text(c: ReportContent) -> list[str]:
    cells: dict[tuple[int, int], list[str]] = {}
    for r in c.risks:
        cells.setdefault((r.inherent_likelihood, r.impact), []).append(f"{r.id}○")
        cells.setdefault((r.residual_likelihood, r.residual_impact), []).append(f"{r.id}●")
    rows = []
    for likelihood in range(5, 0, -1):
        row = [f"**{likelihood}** {md(c.likelihood_labels.get(likelihood, ''))}"]
        for impact in range(1, 6):
            score = likelihood * impact
            mark = "▲" if score > c.appetite else ""
            row.append(
                f"{score}{mark} " + " ".join(md(x) for x in cells.get((likelihood, impact), []))
            )
        rows.append(row)
    header = ["likelihood \\ impact"] + [
        f"{i} {md(c.impact_labels.get(i, ''))}" for i in range(1, 6)
    ]
    return [
        _table(header, rows),
        "",
        f"○ inherent, ● residual; ▲ cell above the appetite ({c.appetite}).",
    ]


def _risks(c: ReportContent, refs: Refs) -> list[str]:
    out = ["## Risk register", ""]
    if not c.risks:
        return [*out, "_No risks registered for this system._"]
    out += _heatmap_text(c)
    out.append("")
    out.append(
        _table(
            ["id", "risk", "owner", "treatment", "inherent", "residual", "appetite", "evidence"],
            (
                (
                    f"**{md(r.id)}**",
                    f"{md(r.description)} ({md(r.category)})",
                    md(r.owner),
                    md(r.treatment) + (f": {md(', '.join(r.controls))}" if r.controls else ""),
                    f"{r.inherent_likelihood} × {r.impact} = {r.inherent}",
                    f"{r.residual_likelihood} × {r.residual_impact} = {r.residual}",
                    "**above**" if r.above_appetite else "within",
                    refs.many(r.evidence),
                )
                for r in c.risks
            ),
        )
    )
    return out


def _data_quality(c: ReportContent, refs: Refs) -> list[str]:
    out = ["## Data quality"]
    if not c.data_quality:
        return [*out, "", "_No data-quality record for this system._"]
    for view in c.data_quality:
        out += ["", f"### {md(view.dataset)}: {view.record.outcome} {refs.one(view.record.id)}", ""]
        if view.success_percent is not None:
            out += [f"{len(view.checks)} checks, {percent(view.success_percent / 100)} passed.", ""]
        out.append(
            _table(
                ["expectation", "target", "result", "unexpected", "unexpected %", "reason"],
                (
                    (
                        f"`{md(ch.type)}`",
                        md(ch.target),
                        "pass" if ch.success else ("**fail**" if ch.success is False else "error"),
                        md(fmt_number(ch.unexpected_count)),
                        "n/a" if ch.unexpected_percent is None else f"{ch.unexpected_percent:.2f}",
                        md(ch.reason),
                    )
                    for ch in view.checks
                ),
            )
        )
    return out


def _fairness_view(view: FairnessView, refs: Refs) -> list[str]:
    features = ", ".join(view.features) or "groups"
    out = ["", f"### By {md(features)}: {view.record.outcome} {refs.one(view.record.id)}", ""]
    if view.checks:
        out.append(
            _table(
                ["metric", "value", "min", "max", "result"],
                (
                    (
                        f"`{md(ch.get('metric'))}`",
                        fmt_number(ch.get("value"), digits=4)
                        if isinstance(ch.get("value"), int | float)
                        else "n/a",
                        md(ch.get("min") if ch.get("min") is not None else ""),
                        md(ch.get("max") if ch.get("max") is not None else ""),
                        "pass" if ch.get("passed") else "**fail**",
                    )
                    for ch in view.checks
                ),
            )
        )
        out.append("")
    limit, label = fairness_limit(view)
    out.append(
        _table(
            ["group", "rows", "selection rate", "", "TPR", "FPR", "accuracy"],
            (
                (
                    md(g.label)
                    + (" ▼" if limit is not None and (g.selection_rate or 0) < limit else ""),
                    md(fmt_number(g.count)),
                    fmt_number(g.selection_rate),
                    f"`{ascii_bar(g.selection_rate or 0.0)}`",
                    fmt_number(g.true_positive_rate),
                    fmt_number(g.false_positive_rate),
                    fmt_number(g.accuracy),
                )
                for g in view.groups
            ),
        )
    )
    if limit is not None:
        out += ["", f"▼ selection rate below {limit:.3f} = {md(label)}."]
    for warning in view.warnings:
        out += ["", f"> {md(warning)}"]
    return out


def _fairness(c: ReportContent, refs: Refs) -> list[str]:
    out = ["## Fairness"]
    if not c.fairness:
        out += ["", "_No fairness record for this system._"]
    for view in c.fairness:
        out += _fairness_view(view, refs)
    for record in c.performance:
        metrics = ", ".join(
            f"{md(k)} {fmt_number(v, digits=4)}" for k, v in sorted(record.metrics.items())
        )
        out += ["", f"Performance: {record.outcome}; {metrics} {refs.one(record.id)}"]
    return out


def _gaps(c: ReportContent) -> list[str]:
    out = ["## Gaps and how to close them", ""]
    if not c.gaps:
        return [*out, "No gaps: every applicable clause and control is satisfied."]
    out.append(
        _table(
            ["#", "id", "title", "status", "owner", "how to close", "why"],
            (
                (
                    str(n),
                    f"**{md(g.control)}**" + ("" if g.system else " (organization)"),
                    md(g.title),
                    _status(g.status),
                    md(g.owner),
                    f"`{md(g.how_to_close).replace('`', '')}`",
                    "; ".join(md(r) for r in g.reasons[:2]),
                )
                for n, g in enumerate(c.gaps, 1)
            ),
        )
    )
    return out


def _appendix(c: ReportContent) -> list[str]:
    out = [
        "## Appendix: evidence records",
        "",
        f"{len(c.appendix)} records of this system and of the organization, newest first "
        "(content hash: SHA-256 of the record's canonical JSON).",
        "",
    ]
    out.append(
        _table(
            ["id", "kind", "collected at", "outcome", "controls", "content hash (sha256)"],
            (
                (
                    f'<a id="{anchor(md(r.id))}"></a>`{md(r.id)}`',
                    md(r.kind),
                    md(r.collected_at),
                    md(r.outcome),
                    md(", ".join(r.controls)),
                    f"`{md(r.content_hash)}`",
                )
                for r in c.appendix
            ),
        )
    )
    out += [
        "",
        '<a id="config"></a>',
        "### Configuration",
        "",
        f"Declarations cited as `config#path` are in aims.yaml with digest `{md(c.config_digest)}` "
        f"(`config:{md(c.config_digest[:SHORT_HASH])}`), as assessed at {md(c.evaluated_at)}.",
    ]
    return out


def render_markdown(
    judgement: JudgementLike, system: str, *, model_version: str | None = None
) -> str:
    """The report of ``system`` in Markdown (the HTML report's content, without SVG charts)."""
    c = gather(judgement, system, model_version=model_version)
    refs = Refs(c, MARKDOWN_REFS)
    model = f" · {md(c.model.describe())}" if c.model is not None else ""
    parts: list[str] = [
        f"# {md(c.system.name)} — ISO/IEC 42001 system report",
        "",
        f"{md(c.organization)}{model} · assessed {md(c.evaluated_at)} · conformity "
        f"{percent(c.score)} · configuration `{md(c.config_digest[:SHORT_HASH])}`",
        "",
        *(f"> {md(line)}" for line in c.integrity),
        "",
    ]
    for section in (
        _system_card(c, refs),
        _conformity(c),
        _controls(c, refs),
        _risks(c, refs),
        _data_quality(c, refs),
        _fairness(c, refs),
        _genai(c),
        _gaps(c),
        _appendix(c),
    ):
        parts.extend(section)
        parts.append("")
    return "\n".join(parts)
