"""HTML pieces the views share: status and outcome chips, compact tables, code spans, lists.

Pure: no ipywidgets. Everything here renders; nothing decides.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from aims_mlops.engine._results import STATUSES
from aims_mlops.presentation import outcome_swatch, status_label, status_swatch


def esc(value: object) -> str:
    """HTML-escaped text of any value (``None`` as an em dash)."""
    return "—" if value is None else html.escape(str(value), quote=True)


def chip(label: str, background: str, foreground: str = "#ffffff", *, title: str = "") -> str:
    """A small rounded coloured label."""
    tip = f' title="{esc(title)}"' if title else ""
    return (
        f'<span{tip} style="display:inline-block;padding:1px 8px;margin:1px 2px;'
        f"border-radius:10px;background:{background};color:{foreground};font-size:0.85em;"
        f'white-space:nowrap">{esc(label)}</span>'
    )


def status_chip(status: str, count: int | None = None) -> str:
    label, swatch = status_label(status), status_swatch(status)
    text = label if count is None else f"{label} {count}"
    return chip(text, swatch.background, swatch.foreground)


def status_chips(counts: Mapping[str, int]) -> str:
    """One chip per status with its count, in display order."""
    return "".join(status_chip(s, counts.get(s, 0)) for s in STATUSES)


def outcome_chip(outcome: str) -> str:
    swatch = outcome_swatch(outcome)
    return chip(outcome, swatch.background, swatch.foreground)


def code(text: str) -> str:
    return (
        f'<code style="white-space:pre-wrap;background:#f5f5f5;padding:1px 4px">{esc(text)}</code>'
    )


def html_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str = "nothing to show"
) -> str:
    """A compact table; cells are HTML already (escape text with :func:`esc`)."""
    body = [
        "<tr>"
        + "".join(f'<td style="padding:2px 8px;vertical-align:top">{c}</td>' for c in row)
        + "</tr>"
        for row in rows
    ]
    if not body:
        return f"<i>{esc(empty)}</i>"
    head = "".join(
        f'<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #ccc">{esc(h)}</th>'
        for h in headers
    )
    return (
        '<table style="border-collapse:collapse;font-size:0.92em">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def bullet_list(items: Iterable[str]) -> str:
    entries = "".join(f"<li>{esc(i)}</li>" for i in items)
    return f'<ul style="margin:2px 0 2px 18px;padding:0">{entries}</ul>' if entries else ""
