"""The Spark backend of fairness: the per-group confusion table as one distributed aggregation.

``df.groupBy(*sensitive, y_true, y_pred).count()`` is the only Spark job: its result has one row
per (group, label pair), at most four per group for binary labels, so it is small whatever the
number of rows. The rest runs on the driver on that small table, with the pandas path's rules
and error texts (``_fairness.py``): missing labels and missing group values are refused, labels
must be binary with ``pos_label`` among them, and the rates come from the same
:func:`table_from_cells`, so the numbers are the pandas path's (and fairlearn's) for the same rows.

Groups are sorted by their values, column by column, as the pandas path sorts them. The core
(:func:`aims_mlops.collectors._fairness.fairness_record_from_table`) builds the record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._fairness import (
    ERROR_EMPTY,
    ERROR_MISSING_GROUP_VALUES,
    ERROR_MISSING_LABELS,
    ERROR_NO_SENSITIVE,
    ERROR_NOT_BINARY,
    table_from_cells,
)
from aims_mlops.collectors._spark import spark_columns

if TYPE_CHECKING:
    import pandas as pd

#: At most this many (group, y_true, y_pred) cells are brought to the driver (4 per group for
#: binary labels): more means labels that are not binary or an unusable number of groups.
MAX_CELLS = 1_000_000

ERROR_TOO_MANY_CELLS = (
    "the fairness aggregation has more than {limit:,} (group, y_true, y_pred) combinations: the "
    "labels are not binary (scores instead of predictions?) or the sensitive features have too "
    "many distinct values"
)

_TRUE = "__aims_y_true"
_PRED = "__aims_y_pred"
_COUNT = "__aims_count"


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def measure_table(
    df: Any, *, y_true: str, y_pred: str, sensitive: Sequence[str], pos_label: Any = 1
) -> pd.DataFrame:
    """:func:`group_table` of a Spark DataFrame's columns, from one ``groupBy`` aggregation."""
    import numpy as np
    import pandas as pd
    from pyspark.sql import functions as F

    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if not names:
        raise DataError(ERROR_NO_SENSITIVE)
    spark_columns(df, [y_true, y_pred, *names])
    keys = [F.col(_quoted(name)).alias(f"__aims_g{i}") for i, name in enumerate(names)]
    aggregated = df.groupBy(
        *keys, F.col(_quoted(y_true)).alias(_TRUE), F.col(_quoted(y_pred)).alias(_PRED)
    ).agg(F.count(F.lit(1)).alias(_COUNT))
    rows = aggregated.limit(MAX_CELLS + 1).collect()
    if len(rows) > MAX_CELLS:
        raise DataError(ERROR_TOO_MANY_CELLS.format(limit=MAX_CELLS))
    if not rows:
        raise DataError(ERROR_EMPTY)
    width = len(names)
    groups = [tuple(row[:width]) for row in rows]
    truths = [row[width] for row in rows]
    preds = [row[width + 1] for row in rows]
    counts = np.array([row[width + 2] for row in rows], dtype=np.int64)

    seen: list[Any] = []
    for which, values in (("y_true", truths), ("y_pred", preds)):
        missing = int(sum(c for v, c in zip(values, counts, strict=True) if _is_missing(v)))
        if missing:
            raise DataError(ERROR_MISSING_LABELS.format(which=which, count=missing))
        for value in sorted(set(values), key=repr):
            if value not in seen:
                seen.append(value)
    if len(seen) > 2 or (len(seen) == 2 and pos_label not in seen):
        shown = ", ".join(repr(v) for v in sorted(seen[:10], key=repr))
        more = f" and {len(seen) - 10} more" if len(seen) > 10 else ""
        raise DataError(ERROR_NOT_BINARY.format(pos_label=pos_label, values=shown + more))
    for j, name in enumerate(names):
        missing = int(sum(c for g, c in zip(groups, counts, strict=True) if _is_missing(g[j])))
        if missing:
            raise DataError(ERROR_MISSING_GROUP_VALUES.format(name=name, count=missing))

    cell = np.array(
        [2 * int(t == pos_label) + int(p == pos_label) for t, p in zip(truths, preds, strict=True)]
    )
    order = sorted(set(groups))  # Spark columns are typed: the values of one column compare
    position = {group: i for i, group in enumerate(order)}
    cells = np.zeros((len(order), 4), dtype=np.int64)
    np.add.at(cells, (np.array([position[g] for g in groups], dtype=np.int64), cell), counts)
    if width == 1:
        index = pd.Index([group[0] for group in order], name=names[0])
    else:
        index = pd.MultiIndex.from_tuples(order, names=names)
    return table_from_cells(cells, index)


__all__ = ["MAX_CELLS", "measure_table"]
