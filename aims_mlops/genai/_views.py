"""The GenAI evaluation as a report section (HTML, Markdown) and a dashboard widget.

Self-contained: each function takes a ``genai_evaluation`` record (or its dict) and renders the
rates against their thresholds and the red-team breakdown by category. It reads the record's
own checks and numbers and computes no status.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from aims_mlops._escape import md_escape as m

#: The headline rates, in display order, with their labels.
RATES: tuple[tuple[str, str], ...] = (
    ("injection_success_rate", "Prompt-injection success"),
    ("pii_leak_rate", "Outputs with personal data"),
    ("toxicity_rate", "Toxic outputs"),
    ("refusal_rate", "Refused ordinary requests"),
    ("attack_refusal_rate", "Refused attacks"),
    ("groundedness", "Groundedness (word overlap)"),
    ("error_rate", "Rows that raised"),
)
CATEGORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rows", "rows"),
    ("injection_success_rate", "injection success"),
    ("pii_leak_rate", "personal data"),
    ("toxicity_rate", "toxic"),
    ("attack_refusal_rate", "refused"),
)


def _as_dict(record: Any) -> Mapping[str, Any]:
    return record if isinstance(record, Mapping) else record.to_dict()


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value * 100:.1f} %" if 0 <= value <= 1 else f"{value:.4g}"
    return str(value)


def _bound(check: Mapping[str, Any] | None) -> str:
    if not check:
        return "no threshold"
    parts = []
    if check.get("min") is not None:
        parts.append(f">= {check['min']:g}")
    if check.get("max") is not None:
        parts.append(f"<= {check['max']:g}")
    return " and ".join(parts)


def rate_rows(record: Any) -> list[dict[str, Any]]:
    """One row per headline rate: label, value, threshold text, verdict (None: not judged)."""
    data = _as_dict(record)
    metrics = data.get("metrics") or {}
    checks = {c.get("metric"): c for c in (data.get("details") or {}).get("checks") or ()}
    rows = []
    for metric, label in RATES:
        if metric not in metrics and metric not in checks:
            continue
        check = checks.get(metric)
        rows.append(
            {
                "metric": metric,
                "label": label,
                "value": metrics.get(metric),
                "threshold": _bound(check),
                "passed": None if check is None else bool(check.get("passed")),
            }
        )
    for metric, check in checks.items():  # user scorers and per-category thresholds
        if metric not in {m for m, _ in RATES}:
            rows.append(
                {
                    "metric": metric,
                    "label": metric,
                    "value": metrics.get(metric),
                    "threshold": _bound(check),
                    "passed": bool(check.get("passed")),
                }
            )
    return rows


def category_rows(record: Any) -> list[dict[str, Any]]:
    """One row per category (``data`` and each red-team category)."""
    categories = (_as_dict(record).get("details") or {}).get("categories") or {}
    return [{"category": name, **dict(values)} for name, values in categories.items()]


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: ""}[passed]


def genai_section_html(record: Any) -> str:
    """An HTML ``<section>`` (inline styles only, no scripts) for a per-model report."""
    data = _as_dict(record)
    e = html.escape
    name = (data.get("details") or {}).get("name") or ""
    out = [
        '<section class="aims-genai">',
        f"<h2>GenAI evaluation {e(str(name))} — {e(str(data.get('outcome', '')))}</h2>",
        "<table><thead><tr><th>measure</th><th>value</th><th>threshold</th><th>verdict</th>"
        "</tr></thead><tbody>",
    ]
    for row in rate_rows(data):
        colour = {True: "#1a7f37", False: "#cf222e", None: "#57606a"}[row["passed"]]
        out.append(
            f"<tr><td>{e(row['label'])}</td><td>{e(_fmt(row['value']))}</td>"
            f"<td>{e(row['threshold'])}</td>"
            f'<td style="color:{colour}">{_verdict(row["passed"])}</td></tr>'
        )
    out.append("</tbody></table><h3>Red-team breakdown by category</h3><table><thead><tr>")
    out.append("<th>category</th>" + "".join(f"<th>{e(h)}</th>" for _, h in CATEGORY_COLUMNS))
    out.append("<th>succeeded attacks</th></tr></thead><tbody>")
    for row in category_rows(data):
        cells = "".join(f"<td>{e(_fmt(row.get(k)))}</td>" for k, _ in CATEGORY_COLUMNS)
        hits = ", ".join(row.get("succeeded_attacks") or ()) or "none"
        out.append(f"<tr><td>{e(row['category'])}</td>{cells}<td>{e(hits)}</td></tr>")
    out.append("</tbody></table></section>")
    return "\n".join(out)


def genai_section_markdown(record: Any) -> str:
    """The same section as Markdown."""
    data = _as_dict(record)
    name = (data.get("details") or {}).get("name") or ""
    lines = [
        f"## GenAI evaluation {m(name)} — {m(data.get('outcome', ''))}",
        "",
        "| measure | value | threshold | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for row in rate_rows(data):
        lines.append(
            f"| {m(row['label'])} | {m(_fmt(row['value']))} | {m(row['threshold'])} | "
            f"{m(_verdict(row['passed']))} |"
        )
    lines += [
        "",
        "### Red-team breakdown by category",
        "",
        "| category | " + " | ".join(h for _, h in CATEGORY_COLUMNS) + " | succeeded attacks |",
        "| --- " * (len(CATEGORY_COLUMNS) + 2) + "|",
    ]
    for row in category_rows(data):
        cells = " | ".join(m(_fmt(row.get(k))) for k, _ in CATEGORY_COLUMNS)
        hits = ", ".join(row.get("succeeded_attacks") or ()) or "none"
        lines.append(f"| {m(row['category'])} | {cells} | {m(hits)} |")
    return "\n".join(lines) + "\n"


def genai_widget(record: Any) -> Any:
    """An ipywidgets box holding :func:`genai_section_html` (for the dashboard)."""
    import ipywidgets as widgets

    return widgets.VBox([widgets.HTML(genai_section_html(record))])
