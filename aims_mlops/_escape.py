"""Text from aims.yaml and evidence is untrusted: escaping it for the formats we write.

One helper per target, used by every writer of that format (stdlib only, cheap to import):

- :func:`md_escape` — Markdown (the system report, SoA, audit plan, review pack, Annex IV, the
  GenAI section): ``&``, ``<``, ``>`` become entities, so raw HTML (``<script>``, ``<img
  onerror>``) is shown as text and never rendered; ``[``/``]`` are escaped, so no link can be
  injected; with ``table=True`` (default) ``|`` and line breaks are escaped for a table cell.
- :func:`spreadsheet_cell` — CSV and XLSX cells: a text that begins with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return is prefixed with a single quote (OWASP's advice against CSV
  injection), so a spreadsheet shows it as text and never evaluates it as a formula.
- :func:`safe_link` — links (OSCAL ``href``): only ``http``/``https`` URLs and relative
  references (no scheme: ``policies/x.pdf``, ``/srv/x.pdf``, ``#anchor``) are kept; anything
  else (``javascript:``, ``data:``, ``file:``, ``vbscript:``, a Windows drive ``C:\\...``, a
  text holding control characters) gives None and the caller leaves the link out.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

#: First characters a spreadsheet reads as the start of a formula (or that hide one).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: URL schemes a link may carry; a reference without a scheme is relative and always allowed.
LINK_SCHEMES = frozenset({"http", "https"})


def html_code_spans(text: Any) -> str:
    """``text`` escaped for HTML, its backtick-quoted parts (commands, calls) shown as code;
    unbalanced backticks are shown as they are."""
    parts = str("" if text is None else text).split("`")
    if len(parts) % 2 == 0:
        return escape("`".join(parts), quote=True)
    return "".join(
        f"<code>{escape(p, quote=True)}</code>" if i % 2 else escape(p, quote=True)
        for i, p in enumerate(parts)
    )


def md_escape(value: Any, *, table: bool = True) -> str:
    """``value`` as Markdown text that renders as written: no HTML, no links."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("[", "\\[").replace("]", "\\]")
    if table:
        text = text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return text.strip()


def spreadsheet_cell(value: Any) -> Any:
    """``value`` for a CSV or XLSX cell: a text a spreadsheet would take for a formula gets a
    leading single quote; numbers, booleans and None are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_link(value: Any) -> str | None:
    """``value`` when it is an http(s) URL or a relative reference, else None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return None
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        return None
    if scheme and scheme not in LINK_SCHEMES:
        return None
    return text
