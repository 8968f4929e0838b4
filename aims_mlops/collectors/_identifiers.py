"""Personal data in categories: columns that look like identifiers, and hashed category labels.

A collector that would store a column's values as labels (fairness groups, monitoring's
categories) first asks :func:`refuse_identifier`: a column with more than ``max_categories``
distinct values (aims.yaml ``capture.max_categories``, default :data:`DEFAULT_MAX_CATEGORIES`),
or a near-unique one (more than :data:`NEAR_UNIQUE_SHARE` of its non-missing rows distinct, once
it has more than :data:`NEAR_UNIQUE_MIN_DISTINCT` distinct values), looks like names, e-mail
addresses or ids, and is refused with a :class:`DataError` naming the column and the counts,
never its values. The user opts in with ``include_values=True`` or ``allow_identifiers=True``.

Where a record names categories but the values may not be kept (``include_values=False``), the
label is :func:`hashed_label`: ``"sha256:" + sha256(str(value))[:12]`` (UTF-8). That is a
pseudonym, stable across records so shares can be compared over time; it is not anonymous (a
guessed value can be hashed and compared), which is why identifier-like columns are refused
rather than hashed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aims_mlops._errors import DataError

#: More distinct values than this in a column makes it look like an identifier.
DEFAULT_MAX_CATEGORIES = 50
#: A column whose share of distinct values among its non-missing rows exceeds this is near-unique.
NEAR_UNIQUE_SHARE = 0.9
#: ... but only with more distinct values than this (two groups in two rows are not identifiers).
NEAR_UNIQUE_MIN_DISTINCT = 10
#: A group with fewer rows than this is stored under hashed labels (a value held by a handful
#: of rows may identify them: a name typed into a category column).
DEFAULT_MIN_GROUP_SIZE = 10
#: Prefix of a hashed category label.
HASHED_LABEL_PREFIX = "sha256:"

ERROR_LOOKS_LIKE_IDENTIFIER = (
    "column {column!r} looks like an identifier or personal data ({distinct} distinct values in "
    "{rows} rows; the limit is {limit} distinct values and {unique_percent:.0f} % unique), so its "
    "values would be stored in evidence: leave it out, bin it into fewer categories, or opt in "
    "with allow_identifiers=True (or include_values=True)"
)


def looks_like_identifier(distinct: int, rows: int, *, max_categories: int) -> bool:
    """More than ``max_categories`` distinct values, or near-unique (see the module docstring)."""
    if distinct > max_categories:
        return True
    return distinct > NEAR_UNIQUE_MIN_DISTINCT and rows > 0 and distinct / rows > NEAR_UNIQUE_SHARE


def refuse_identifier(column: Any, distinct: int, rows: int, *, max_categories: int) -> None:
    """:class:`DataError` naming ``column`` and its counts when it looks like an identifier."""
    if looks_like_identifier(distinct, rows, max_categories=max_categories):
        raise DataError(
            ERROR_LOOKS_LIKE_IDENTIFIER.format(
                column=str(column),
                distinct=distinct,
                rows=rows,
                limit=max_categories,
                unique_percent=NEAR_UNIQUE_SHARE * 100,
            )
        )


def hashed_label(value: Any) -> str:
    """The pseudonymous label of a category: ``sha256:`` and 12 hex digits of its SHA-256."""
    digest = hashlib.sha256(str(value).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{HASHED_LABEL_PREFIX}{digest[:12]}"


def max_categories_of(config: Any) -> int:
    """``capture.max_categories`` of an aims.yaml config (the default without one)."""
    capture = getattr(config, "capture", None)
    value = getattr(capture, "max_categories", None)
    return int(value) if isinstance(value, int) else DEFAULT_MAX_CATEGORIES


def min_group_size_of(config: Any) -> int:
    """``capture.min_group_size`` of an aims.yaml config (the default without one)."""
    capture = getattr(config, "capture", None)
    value = getattr(capture, "min_group_size", None)
    return int(value) if isinstance(value, int) else DEFAULT_MIN_GROUP_SIZE
