"""Bounded JSON parsing of untrusted text: records in tags, artifacts, spool files, pack members.

:func:`loads_bounded` refuses text longer than its size cap and data nested deeper than
:data:`MAX_JSON_DEPTH` with a :class:`JsonLimitError` (a ``ValueError``, so every caller that
handles malformed JSON handles these too); never a ``RecursionError``.
"""

from __future__ import annotations

import json
from typing import Any

#: Deepest nesting of objects and arrays accepted (records are a handful of levels deep).
MAX_JSON_DEPTH = 64
#: Largest record JSON accepted in characters (details are capped at 32,000 characters; metrics
#: and the rest leave room, a data dump does not fit).
MAX_RECORD_CHARS = 1_048_576

ERROR_JSON_TOO_LARGE = "{what} is {size} characters long, more than the {limit} allowed"
ERROR_JSON_TOO_DEEP = "{what} is nested more than {limit} levels deep"


class JsonLimitError(ValueError):
    """JSON refused unparsed (too large) or after parsing (nested too deep)."""


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
        raise JsonLimitError(ERROR_JSON_TOO_DEEP.format(what=what, limit=max_depth)) from None
    if _depth_exceeds(data, max_depth):
        raise JsonLimitError(ERROR_JSON_TOO_DEEP.format(what=what, limit=max_depth))
    return data
