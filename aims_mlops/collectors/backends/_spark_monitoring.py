"""Drift on Spark DataFrames: the pandas path's measures (``_monitoring.py``) from aggregations.

Only small aggregated arrays leave the cluster; the statistics are computed on them:

* **categorical** columns: counts per (column, category, side) in one ``groupBy`` over both
  frames; PSI and chi-squared from those counts (the pandas path's own function).
* **numeric** columns with at most :data:`MAX_EXACT_DISTINCT` distinct finite values (both sides
  together, estimated by ``approx_count_distinct``): counts per (column, value, side) in one
  ``groupBy``. That is the whole distribution: quantile edges, bin counts, the KS statistic and
  the summary are exact. When both frames have at most :data:`MAX_REBUILT_ROWS` rows the sorted
  samples are rebuilt from the counts and the pandas function runs on them (the same numbers);
  above that the same formulas run on the weighted values (quantiles as numpy's ``linear``
  method, the KS p-value as scipy's ``ks_2samp`` chooses it: asymptotic above 10,000 values).
* other numeric columns: ``percentile_approx`` (accuracy :data:`QUANTILE_ACCURACY`) gives the
  reference deciles (PSI edges) and :data:`GRID_POINTS` quantiles of each side; the counts at
  or below each of those points come from one bucketing pass (``Bucketizer``). PSI uses those
  bins; the KS statistic is the largest ECDF gap at the grid points (a lower bound of the exact
  statistic, within about 1/:data:`GRID_POINTS` plus the quantile error); mean and standard
  deviation are exact, the quartiles approximate. The feature's summary says so.

The reference and current digests are the row-set digests (``aims-rowset-v1``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._identifiers import (
    DEFAULT_MAX_CATEGORIES,
    looks_like_identifier,
    refuse_identifier,
)
from aims_mlops.collectors._monitoring import (
    _MISSING,
    ERROR_NO_COLUMNS,
    ERROR_NO_ROWS,
    ERROR_TYPE_MISMATCH,
    FeatureDrift,
    Kind,
    Measurement,
    _check_bins,
    _measure_numeric,
    _Measured,
    _name,
    _psi_from_counts,
    _round,
    _shares,
    _verdict,
    choose_columns,
    measure_categorical_counts,
)
from aims_mlops.collectors._row_digest import spark_row_set_digest_and_count
from aims_mlops.collectors._spark import is_spark_frame

#: Numeric columns with at most this many distinct finite values are counted value by value.
MAX_EXACT_DISTINCT = 20_000
#: Up to this many rows per frame, samples are rebuilt from the value counts (pandas function).
MAX_REBUILT_ROWS = 2_000_000
#: scipy's ``ks_2samp`` computes the exact p-value up to this many values per side.
KS_EXACT_MAX_N = 10_000
#: Quantiles per side in the approximate path (a multiple of 10: the deciles are among them).
GRID_POINTS = 1_000
#: ``percentile_approx`` accuracy (relative rank error about 1 / accuracy).
QUANTILE_ACCURACY = 10_000


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _kind(dtype: Any) -> Kind | None:
    from pyspark.sql import types as T

    if isinstance(dtype, T.BooleanType | T.StringType | T.VarcharType | T.CharType):
        return "categorical"
    if isinstance(dtype, T.NumericType):
        return "numeric"
    return None


def _finite_value(name: str) -> Any:
    from pyspark.sql import functions as F

    value = F.col(_quoted(name)).cast("double")
    finite = value.isNotNull() & ~F.isnan(value) & (F.abs(value) != F.lit(float("inf")))
    return F.when(finite, value)


def _as_spark(frame: Any, other: Any) -> Any:
    if is_spark_frame(frame):
        return frame
    return other.sparkSession.createDataFrame(frame)


def _select(current: Any, reference: Any, columns: Sequence[Any] | None) -> tuple[list, list]:
    types = {f.name: f.dataType for f in reference.schema.fields}
    return choose_columns(
        reference_columns=list(reference.columns),
        current_columns=list(current.columns),
        kind_of=lambda c: _kind(types[c]),
        dtype_of=lambda c: types[c].simpleString(),
        columns=columns,
    )


def _side_facts(
    df: Any, numeric: list[str], categorical: list[str] = ()
) -> tuple[int, dict[str, tuple[int, int]]]:
    """Rows, and per column (non-missing values, approximate distinct non-missing values):
    finite numbers for numeric columns, non-null values for categorical ones."""
    from pyspark.sql import functions as F

    expressions = [F.count(F.lit(1))]
    names = [*numeric, *categorical]
    for name in names:
        value = _finite_value(name) if name in numeric else F.col(_quoted(name))
        expressions += [F.count(value), F.approx_count_distinct(value)]
    row = df.agg(*expressions).collect()[0]
    facts = {name: (int(row[1 + 2 * i]), int(row[2 + 2 * i])) for i, name in enumerate(names)}
    return int(row[0]), facts


def _counts_by_value(
    reference: Any, current: Any, names: list[str], *, numeric: bool
) -> dict[str, list[tuple[Any, int, int]]]:
    """``{column: [(value, reference count, current count)]}`` from one ``groupBy``."""
    from pyspark.sql import functions as F

    def melted(df: Any, side: int) -> Any:
        items = [
            F.struct(
                F.lit(i).alias("c"),
                (_finite_value(n) if numeric else F.col(_quoted(n)).cast("string")).alias("v"),
            )
            for i, n in enumerate(names)
        ]
        exploded = df.select(F.explode(F.array(*items)).alias("e"))
        return exploded.select(F.lit(side).alias("side"), F.col("e.c"), F.col("e.v"))

    both = melted(reference, 0).unionByName(melted(current, 1))
    if numeric:
        both = both.filter(F.col("v").isNotNull())
    rows = (
        both.groupBy("c", "v")
        .agg(
            F.sum(F.when(F.col("side") == 0, 1).otherwise(0)).alias("r"),
            F.sum(F.when(F.col("side") == 1, 1).otherwise(0)).alias("k"),
        )
        .collect()
    )
    out: dict[str, list[tuple[Any, int, int]]] = {n: [] for n in names}
    for row in rows:
        out[names[row["c"]]].append((row["v"], int(row["r"]), int(row["k"])))
    return out


# -- numeric, exact: from counts per value ------------------------------------------------------
def _virtual_quantile(values: Any, counts: Any, probabilities: Any) -> Any:
    """``numpy.quantile(repeat(values, counts), p)``, method ``linear``, without the repeat."""
    import numpy as np

    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    q = np.asarray(probabilities, dtype="float64")
    virtual = n * q + (1 + q * (1 - 1 - 1)) - 1  # numpy's _compute_virtual_index(alpha=beta=1)
    previous = np.floor(virtual)
    gamma = virtual - previous
    low = np.clip(previous, 0, n - 1).astype(np.int64)
    high = np.clip(previous + 1, 0, n - 1).astype(np.int64)
    a = values[np.searchsorted(cumulative, low, side="right")]
    b = values[np.searchsorted(cumulative, high, side="right")]
    difference = b - a
    result = a + difference * gamma
    return np.where(gamma >= 0.5, b - difference * (1 - gamma), result)


def _ks_from_counts(values: Any, ref: Any, cur: Any) -> tuple[float, float]:
    """scipy's two-sided ``ks_2samp`` (``method="auto"``) from counts per distinct value."""
    import numpy as np
    from scipy import stats

    n1, n2 = int(ref.sum()), int(cur.sum())
    if max(n1, n2) <= KS_EXACT_MAX_N:  # the exact p-value: scipy on the (small) samples
        with warnings.catch_warnings():  # as the pandas path: scipy's documented fallback
            warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
            result = stats.ks_2samp(np.repeat(values, ref), np.repeat(values, cur))
        return float(result.statistic), float(result.pvalue)
    differences = np.cumsum(ref) / n1 - np.cumsum(cur) / n2
    min_s = float(np.clip(-differences.min(), 0, 1))
    max_s = float(differences.max())
    d = min_s if min_s > max_s else max_s
    m, n = sorted([float(n1), float(n2)], reverse=True)
    p = float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))
    return d, p


def _side_summary(values: Any, counts: Any, missing: float) -> dict[str, Any]:

    n = int(counts.sum())
    if n == 0:
        return {"count": 0, "missing_share": _round(missing)}
    mean = float((values * counts).sum() / n)
    std = math.sqrt(float((counts * (values - mean) ** 2).sum() / n))
    p25, p50, p75 = _virtual_quantile(values, counts, [0.25, 0.5, 0.75])
    return {
        "count": n, "missing_share": _round(missing), "mean": _round(mean), "std": _round(std),
        "p25": _round(float(p25)), "p50": _round(float(p50)), "p75": _round(float(p75)),
    }  # fmt: skip


def _empty_side(
    feature: str, summary: dict[str, Any], n_ref: int, n_cur: int, missing: tuple[float, float]
) -> _Measured:
    empty = " and ".join(
        side for side, n in (("reference data", n_ref), ("current batch", n_cur)) if n == 0
    )
    nan = float("nan")
    drift = FeatureDrift(
        feature=str(feature), kind="numeric", psi=nan, test="ks", statistic=nan, p_value=nan,
        drifted=n_cur != n_ref, reason=f"{_name(feature)}: no non-missing values in the {empty}",
        reference_missing=missing[0], current_missing=missing[1],
    )  # fmt: skip
    return _Measured(drift, summary)


def _numeric_result(
    feature: str,
    *,
    summary: dict[str, Any],
    edges: Any,
    ref_bins: Any,
    cur_bins: Any,
    statistic: float,
    p_value: float,
    missing: tuple[float, float],
    psi_max: float,
    p_min: float,
) -> _Measured:
    psi = _psi_from_counts(ref_bins, cur_bins)
    drifted, reason = _verdict(
        _name(feature), psi=psi, test="ks", p_value=p_value, psi_max=psi_max, p_min=p_min,
        missing=missing,
    )  # fmt: skip
    summary["bins"] = {
        "edges": [_round(float(e)) for e in edges],
        "reference": [_round(float(s)) for s in _shares(ref_bins)],
        "current": [_round(float(s)) for s in _shares(cur_bins)],
    }
    drift = FeatureDrift(
        feature=str(feature), kind="numeric", psi=psi, test="ks", statistic=statistic,
        p_value=p_value, drifted=drifted, reason=reason,
        reference_missing=missing[0], current_missing=missing[1],
    )  # fmt: skip
    return _Measured(drift, summary)


def _numeric_exact(
    feature: str,
    counted: list[tuple[Any, int, int]],
    rows: tuple[int, int],
    *,
    bins: int,
    psi_max: float,
    p_min: float,
) -> _Measured:
    import numpy as np
    import pandas as pd

    counted = sorted(counted)
    values = np.array([v for v, _, _ in counted], dtype="float64")
    ref = np.array([r for _, r, _ in counted], dtype=np.int64)
    cur = np.array([k for _, _, k in counted], dtype=np.int64)
    n_ref, n_cur = int(ref.sum()), int(cur.sum())
    if max(rows) <= MAX_REBUILT_ROWS:  # the samples, rebuilt: the pandas function itself
        reference = np.concatenate([np.repeat(values, ref), np.full(rows[0] - n_ref, np.nan)])
        current = np.concatenate([np.repeat(values, cur), np.full(rows[1] - n_cur, np.nan)])
        return _measure_numeric(
            feature, pd.Series(reference), pd.Series(current), bins=bins, psi_max=psi_max,
            p_min=p_min,
        )  # fmt: skip
    missing = (1.0 - n_ref / rows[0], 1.0 - n_cur / rows[1])
    summary = {
        "reference": _side_summary(values, ref, missing[0]),
        "current": _side_summary(values, cur, missing[1]),
    }
    if n_ref == 0 or n_cur == 0:
        return _empty_side(feature, summary, n_ref, n_cur, missing)
    probabilities = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    edges = np.unique(_virtual_quantile(values[ref > 0], ref[ref > 0], probabilities))

    def binned(counts: Any) -> Any:
        cumulative = np.concatenate([[0], np.cumsum(counts)])
        at_most = cumulative[np.searchsorted(values, edges, side="right")]
        return np.diff(np.concatenate([[0], at_most, [cumulative[-1]]]))

    statistic, p_value = _ks_from_counts(values, ref, cur)
    return _numeric_result(
        feature, summary=summary, edges=edges, ref_bins=binned(ref), cur_bins=binned(cur),
        statistic=statistic, p_value=p_value, missing=missing, psi_max=psi_max, p_min=p_min,
    )  # fmt: skip


# -- numeric, approximate: quantile grid and one bucketing pass ---------------------------------
def _numeric_approximate(
    reference: Any,
    current: Any,
    names: list[str],
    facts: tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]],
    rows: tuple[int, int],
    *,
    bins: int,
    psi_max: float,
    p_min: float,
) -> dict[str, _Measured]:
    import numpy as np
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F
    from scipy import stats

    grid = [k / GRID_POINTS for k in range(1, GRID_POINTS)]

    def moments(df: Any) -> Any:
        expressions = []
        for name in names:
            value = _finite_value(name)
            expressions += [
                F.percentile_approx(value, grid, QUANTILE_ACCURACY),
                F.avg(value),
                F.stddev_pop(value),
            ]
        return df.agg(*expressions).collect()[0]

    ref_row, cur_row = moments(reference), moments(current)
    splits: dict[str, Any] = {}
    deciles: dict[str, Any] = {}
    for i, name in enumerate(names):
        points = [p for p in (ref_row[3 * i] or []) + (cur_row[3 * i] or []) if p is not None]
        splits[name] = np.unique(np.array(points, dtype="float64"))
        step = GRID_POINTS // bins if GRID_POINTS % bins == 0 else None
        chosen = (
            [ref_row[3 * i][step * j - 1] for j in range(1, bins)]
            if step and ref_row[3 * i]
            else list(np.quantile(ref_row[3 * i] or [0.0], np.linspace(0, 1, bins + 1)[1:-1]))
        )
        deciles[name] = np.unique(np.array(chosen, dtype="float64"))

    def at_most(df: Any, side: int) -> dict[str, Any]:
        """Per column: how many finite values are <= each split point (x <= s <=> -x >= -s)."""
        negated = df.select(
            *[
                F.coalesce(-_finite_value(n), F.lit(float("nan"))).alias(f"__aims_n{i}")
                for i, n in enumerate(names)
            ]  # missing as NaN: the Bucketizer's "invalid" bucket
        )
        arrays = [
            [-math.inf, *sorted(-splits[n]), math.inf] for n in names
        ]  # left-closed buckets of -x
        bucketizer = Bucketizer(
            inputCols=[f"__aims_n{i}" for i in range(len(names))],
            outputCols=[f"__aims_b{i}" for i in range(len(names))],
            splitsArray=arrays,
            handleInvalid="keep",
        )
        bucketed = bucketizer.transform(negated)
        items = [
            F.struct(F.lit(i).alias("c"), F.col(f"__aims_b{i}").alias("b"))
            for i in range(len(names))
        ]
        counted = (
            bucketed.select(F.explode(F.array(*items)).alias("e"))
            .groupBy(F.col("e.c").alias("c"), F.col("e.b").alias("b"))
            .count()
            .collect()
        )
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            points = splits[name]
            buckets = np.zeros(len(points) + 2, dtype=np.int64)  # the last: invalid (missing)
            for row in counted:
                if row["c"] == i and row["b"] is not None and int(row["b"]) < len(points) + 1:
                    buckets[int(row["b"])] += int(row["count"])
            # with m points s_0 < ... < s_(m-1): bucket 0 holds x > s_(m-1), bucket j holds
            # s_(m-j-1) < x <= s_(m-j), bucket m holds x <= s_0; so x <= s_k fills m-k .. m
            m = len(points)
            out[name] = np.cumsum(buckets[m::-1])[:m]
        return out

    ref_at_most, cur_at_most = at_most(reference, 0), at_most(current, 1)
    measured: dict[str, _Measured] = {}
    for i, name in enumerate(names):
        n_ref, n_cur = facts[0][name][0], facts[1][name][0]
        missing = (1.0 - n_ref / rows[0], 1.0 - n_cur / rows[1])

        def side(row: Any, n: int, share: float, i: int = i) -> dict[str, Any]:
            points = row[3 * i] or []
            if n == 0 or not points:
                return {"count": n, "missing_share": _round(share)}
            return {
                "count": n, "missing_share": _round(share), "mean": _round(float(row[3 * i + 1])),
                "std": _round(float(row[3 * i + 2])),
                "p25": _round(float(points[GRID_POINTS // 4 - 1])),
                "p50": _round(float(points[GRID_POINTS // 2 - 1])),
                "p75": _round(float(points[3 * GRID_POINTS // 4 - 1])),
            }  # fmt: skip

        summary = {
            "reference": side(ref_row, n_ref, missing[0]),
            "current": side(cur_row, n_cur, missing[1]),
            "quantiles": f"approximate (percentile_approx, accuracy {QUANTILE_ACCURACY})",
        }
        if n_ref == 0 or n_cur == 0:
            measured[name] = _empty_side(name, summary, n_ref, n_cur, missing)
            continue
        points = splits[name]
        ref_cdf, cur_cdf = ref_at_most[name] / n_ref, cur_at_most[name] / n_cur
        statistic = float(np.max(np.abs(ref_cdf - cur_cdf))) if len(points) else 0.0
        m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
        p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(m * n / (m + n))), 0, 1))
        edges = deciles[name]
        positions = np.searchsorted(points, edges)

        def binned(at: Any, total: int, positions: Any = positions) -> Any:
            return np.diff(np.concatenate([[0], at[positions], [total]]))

        measured[name] = _numeric_result(
            name, summary=summary, edges=edges, ref_bins=binned(ref_at_most[name], n_ref),
            cur_bins=binned(cur_at_most[name], n_cur), statistic=statistic, p_value=p_value,
            missing=missing, psi_max=psi_max, p_min=p_min,
        )  # fmt: skip
    return measured


# -- categorical ---------------------------------------------------------------------------------
def _categorical(
    feature: str,
    counted: list[tuple[Any, int, int]],
    *,
    boolean: bool,
    psi_max: float,
    p_min: float,
) -> _Measured:
    import pandas as pd

    def key(value: Any) -> Any:
        if value is None:
            return _MISSING
        return value == "true" if boolean else value

    ordered = sorted(counted, key=lambda item: (-item[1], -item[2], str(item[0])))
    ref = [(key(v), r) for v, r, _ in ordered if r > 0]
    cur = [(key(v), k) for v, _, k in ordered if k > 0]
    ref_counts = pd.Series([c for _, c in ref], index=pd.Index([v for v, _ in ref], dtype=object))
    cur_counts = pd.Series([c for _, c in cur], index=pd.Index([v for v, _ in cur], dtype=object))
    return measure_categorical_counts(feature, ref_counts, cur_counts, psi_max=psi_max, p_min=p_min)


def measure_frames(
    current_df: Any,
    reference_df: Any,
    *,
    columns: Sequence[Any] | None,
    psi_max: float,
    ks_pvalue_min: float,
    chi2_pvalue_min: float,
    bins: int,
    allow_identifiers: bool = False,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> Measurement:
    """The drift of each chosen column (in column order), the skipped columns, and the frames'
    row counts and digests. A pandas frame on one side is turned into a Spark DataFrame.

    Categorical columns that look like identifiers (``_identifiers.looks_like_identifier`` on
    either side, from ``approx_count_distinct``: exact for small counts, within about 5 % for
    large ones) are left out, or refused when named in ``columns``, unless
    ``allow_identifiers``: their categories are never brought to the driver."""
    from pyspark.sql import types as T

    _check_bins(bins)
    current = _as_spark(current_df, reference_df)
    reference = _as_spark(reference_df, current)
    chosen, skipped = _select(current, reference, columns)
    ref_types = {f.name: f.dataType for f in reference.schema.fields}
    cur_types = {f.name: f.dataType for f in current.schema.fields}
    numeric = [c for c in chosen if _kind(ref_types[c]) == "numeric"]
    categorical = [c for c in chosen if _kind(ref_types[c]) == "categorical"]

    cur_categorical = [c for c in categorical if _kind(cur_types.get(c)) == "categorical"]
    ref_rows, ref_facts = _side_facts(reference, numeric, categorical)
    cur_rows, cur_facts = _side_facts(current, numeric, cur_categorical)
    identifiers: list[Any] = []
    if not allow_identifiers:
        for column in categorical:
            for facts in (ref_facts, cur_facts):
                if column not in facts:
                    continue
                rows_seen, distinct = facts[column]
                if looks_like_identifier(distinct, rows_seen, max_categories=max_categories):
                    if columns is not None:
                        refuse_identifier(
                            column, distinct, rows_seen, max_categories=max_categories
                        )
                    identifiers.append(column)
                    break
        chosen = [c for c in chosen if c not in identifiers]
        categorical = [c for c in categorical if c not in identifiers]
        if not chosen:
            raise DataError(ERROR_NO_COLUMNS)
    for side, rows in (("reference data", ref_rows), ("current batch", cur_rows)):
        if rows == 0:
            raise DataError(ERROR_NO_ROWS.format(side=side))
    for column in chosen:
        ref_kind, cur_kind = _kind(ref_types[column]), _kind(cur_types[column])
        if (
            ref_kind != cur_kind
            and current.filter(current[_quoted(column)].isNotNull()).limit(1).count()
        ):
            raise DataError(
                ERROR_TYPE_MISMATCH.format(
                    column=column, reference_kind=ref_kind,
                    reference_dtype=ref_types[column].simpleString(),
                    current_kind=cur_kind or "unsupported",
                    current_dtype=cur_types[column].simpleString(),
                )
            )  # fmt: skip
    exact = [c for c in numeric if ref_facts[c][1] + cur_facts[c][1] <= MAX_EXACT_DISTINCT]
    approximate = [c for c in numeric if c not in exact]
    rows = (ref_rows, cur_rows)

    measured: dict[str, _Measured] = {}
    if exact:
        counted = _counts_by_value(reference, current, exact, numeric=True)
        for column in exact:
            measured[column] = _numeric_exact(
                column, counted[column], rows, bins=bins, psi_max=psi_max, p_min=ks_pvalue_min
            )
    if approximate:
        measured.update(
            _numeric_approximate(
                reference, current, approximate, (ref_facts, cur_facts), rows, bins=bins,
                psi_max=psi_max, p_min=ks_pvalue_min,
            )
        )  # fmt: skip
    if categorical:
        counted = _counts_by_value(reference, current, categorical, numeric=False)
        for column in categorical:
            boolean = isinstance(ref_types[column], T.BooleanType)
            measured[column] = _categorical(
                column, counted[column], boolean=boolean, psi_max=psi_max, p_min=chi2_pvalue_min
            )
    ref_digest, _ = spark_row_set_digest_and_count(reference)
    cur_digest, _ = spark_row_set_digest_and_count(current)
    return Measurement(
        measured=[measured[c] for c in chosen], skipped=skipped,
        identifier_columns=list(identifiers), reference_rows=ref_rows, current_rows=cur_rows,
        reference_digest=ref_digest, current_digest=cur_digest,
    )  # fmt: skip



__all__ = ["measure_frames"]
