"""Bounded JSON parsing of untrusted text: records in tags, artifacts, spool files, pack members.

:func:`loads_bounded` refuses text longer than its size cap and data nested deeper than
:data:`MAX_JSON_DEPTH` with a :class:`JsonLimitError` (a ``ValueError``, so every caller that
handles malformed JSON handles these too); never a ``RecursionError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Deepest nesting of objects and arrays accepted (records are a handful of levels deep).
MAX_JSON_DEPTH = 64
#: Largest record JSON accepted in characters (details are capped at 32,000 characters; metrics
#: and the rest leave room, a data dump does not fit).
MAX_RECORD_CHARS = 1_048_576

ERROR_JSON_TOO_LARGE = "{what} is {size} characters long, more than the {limit} allowed"
ERROR_JSON_TOO_DEEP = "{what} is nested more than {limit} levels deep"


_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class JsonLimitError(ValueError):
    """JSON refused unparsed (too large) or because it nests too deep. ``pruned`` is, for the
    latter, the data with every container below the limit replaced by ``null`` (so a finding can
    still name the kind and controls a refused record claims); None when nothing was parsed."""

    def __init__(self, message: str, *, pruned: Any = None) -> None:
        super().__init__(message)
        self.pruned = pruned


def _pruned_text(text: str, limit: int) -> str:
    """``text`` with every container opened deeper than ``limit`` replaced by ``null`` (one pass
    over the brackets outside strings; no recursion)."""
    parts: list[str] = []
    depth = 0
    start = 0  # where the text still to be copied begins
    cut: int | None = None  # where the container being dropped began
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth == limit + 1 and cut is None:
                cut = match.start()
        else:
            if depth == limit + 1 and cut is not None:
                parts.append(text[start:cut])
                parts.append("null")
                start = match.end()
                cut = None
            depth -= 1
    parts.append(text[start:] if cut is None else text[start:cut])
    return "".join(parts)


def _depth_exceeds(data: Any, limit: int) -> bool:
    """True when ``data`` nests containers deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads_bounded(
    text: str | bytes,
    *,
    what: str = "the JSON",
    max_chars: int = MAX_RECORD_CHARS,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """``json.loads(text)`` within a size cap and a depth limit (:class:`JsonLimitError`;
    malformed JSON raises ``ValueError`` as ``json.loads`` does)."""
    if len(text) > max_chars:
        too_large = ERROR_JSON_TOO_LARGE.format(what=what, size=len(text), limit=max_chars)
        raise JsonLimitError(too_large)
    try:
        data = json.loads(text)
    except RecursionError:  # the parser's own stack ran out: far deeper than any limit
        data = None
    else:
        if not _depth_exceeds(data, max_depth):
            return data
    raw = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        pruned = json.loads(_pruned_text(raw, max_depth))
    except (ValueError, RecursionError):
        pruned = None
    raise JsonLimitError(ERROR_JSON_TOO_DEEP.format(what=what, limit=max_depth), pruned=pruned)
