"""Monitoring: drift between a production batch and the reference data a model was built on.

Per feature (column), two measures:

- **numeric** columns: the population stability index (PSI) over bins cut at the reference
  quantiles (``bins`` equal-frequency bins; duplicate edges are merged; the outer bins are
  open-ended so every current value falls in a bin; bins are right-closed ``(e[i-1], e[i]]``)
  and the two-sample Kolmogorov-Smirnov test (:func:`scipy.stats.ks_2samp`). NaN and +-inf are
  left out of both; the share of missing values on each side is reported.
- **categorical** columns (object, string, category, bool): PSI over the categories (a category
  unseen in the reference is a bin of its own; missing values are the category ``<missing>``)
  and the chi-squared test of homogeneity on the 2 x k contingency table of counts
  (:func:`scipy.stats.chi2_contingency`, with its default Yates correction when k = 2).

``PSI = sum((c - r) * ln(c / r))`` over bins, with ``r`` and ``c`` the reference and current
shares of a bin; an empty bin's share is taken as :data:`PSI_EPSILON` (1e-4, without
renormalising) so the logarithm stays finite. A feature has drifted when its PSI exceeds
``psi_max`` or its test's p-value is below the test's minimum.

On Spark DataFrames the same measures come from aggregations in the cluster (counts per value,
per category or per quantile bin; ``backends/_spark_monitoring.py``); only those small arrays
reach the driver, and the reference and current digests are row-set digests.

Evidence holds aggregate statistics only: shares, quantiles, means, test statistics, and the
labels of at most :data:`MAX_NAMED_CATEGORIES` categories per feature, each seen in at least
:data:`MIN_NAMED_CATEGORY_COUNT` reference rows. Raw rows never enter a record. A label is the
category's value only with ``include_values=True``; otherwise it is a hashed label
(``sha256:`` + 12 hex digits, :func:`~aims_mlops.collectors._identifiers.hashed_label`).
A categorical column that looks like an identifier (more than ``max_categories`` distinct
values, or near-unique) is refused when named in ``columns`` and skipped otherwise (named in
``identifier_columns_skipped``), unless ``allow_identifiers``.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from numbers import Real
from typing import TYPE_CHECKING, Any, Literal

from aims_mlops._errors import DataError
from aims_mlops.catalog import catalog_record
from aims_mlops.collectors._identifiers import (
    DEFAULT_MAX_CATEGORIES,
    hashed_label,
)
from aims_mlops.evidence import EvidenceRecord, Subject, canonical_json
from aims_mlops.evidence._record import MAX_DETAILS_CHARS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ERROR_MISSING_COLUMNS = (
    "column(s) {missing} of the reference data are missing from the current batch; "
    "it has: {columns}"
)
ERROR_UNKNOWN_COLUMNS = "column(s) {missing} are not in the reference data; it has: {columns}"
ERROR_NO_ROWS = "the {side} has no rows: drift needs data on both sides"
ERROR_NO_COLUMNS = "no columns to check: the reference data has no numeric or categorical column"
ERROR_UNSUPPORTED_DTYPE = (
    "column {column!r} has dtype {dtype}: drift is measured for numeric, string, category and "
    "bool columns only; leave it out of columns=[...]"
)
ERROR_TYPE_MISMATCH = (
    "column {column!r} is {reference_kind} ({reference_dtype}) in the reference data but "
    "{current_kind} ({current_dtype}) in the current batch"
)
ERROR_EMPTY_SAMPLE = "the {side} sample has no non-missing values: PSI is undefined"
ERROR_BAD_BINS = "bins must be an integer >= 2; got {value!r}"
ERROR_UNKNOWN_THRESHOLD = "unknown monitoring threshold {name!r}; known: {known}"
ERROR_BAD_THRESHOLD = "monitoring threshold {name!r} must be a finite number; got {value!r}"
ERROR_BAD_DATA_QUALITY = (
    "data_quality must be a mapping with 'success' (bool) and 'statistics' (mapping), as "
    "run_expectations returns; got {value!r}"
)

#: Share given to an empty bin in the PSI formula (keeps ``ln(c / r)`` finite).
PSI_EPSILON = 1e-4
#: At most this many category names per feature appear in a record (the most frequent ones).
MAX_NAMED_CATEGORIES = 20
#: A category is named in a record only when at least this many reference rows hold it.
MIN_NAMED_CATEGORY_COUNT = 5
#: At most this many features get a summary in a record (the worst first).
MAX_SUMMARIZED_FEATURES = 100
#: At most this many drift checks (reason sentences) appear in a record.
MAX_CHECKS = 100
COLLECTOR_NAME = "aims_mlops.monitoring"

DEFAULT_THRESHOLDS: dict[str, float] = {
    "psi_max": 0.2,
    "ks_pvalue_min": 0.01,
    "chi2_pvalue_min": 0.01,
}
#: Keys of the ``monitoring`` section of ``aims.yaml`` that are not drift thresholds.
_NON_THRESHOLD_KEYS = frozenset({"interval_days"})
_MAX_NAME_CHARS = 100
_MAX_LISTED_COLUMNS = 50

Kind = Literal["numeric", "categorical"]
Test = Literal["ks", "chi2"]


@dataclass(frozen=True, kw_only=True)
class FeatureDrift:
    """The drift verdict of one feature; ``reason`` is a sentence a person can check."""

    feature: str
    kind: Kind
    psi: float
    test: Test
    statistic: float
    p_value: float
    drifted: bool
    reason: str
    reference_missing: float = 0.0
    current_missing: float = 0.0


class _Missing:
    """The category of missing values (one object, so NaN and None count together)."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


@dataclass(frozen=True, slots=True)
class _Measured:
    drift: FeatureDrift
    summary: dict[str, Any]


# -- formatting ---------------------------------------------------------------------------------
def _g(value: float, digits: int = 2) -> str:
    """Short number: ``1.2e-9`` rather than ``1.2e-09``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:.{digits}g}")


def _round(value: float, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def _name(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_NAME_CHARS else text[: _MAX_NAME_CHARS - 1] + "…"


def _list_columns(columns: Iterable[Any]) -> str:
    names = [repr(str(c)) for c in columns]
    shown = ", ".join(names[:_MAX_LISTED_COLUMNS])
    if len(names) > _MAX_LISTED_COLUMNS:
        shown += f", … ({len(names) - _MAX_LISTED_COLUMNS} more)"
    return shown


# -- kinds and values ---------------------------------------------------------------------------
def _kind_of(series: pd.Series) -> Kind | None:
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if (
        types.is_bool_dtype(dtype)
        or types.is_object_dtype(dtype)
        or types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    ):
        return "categorical"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "numeric"
    return None


def _finite(series: pd.Series) -> tuple[np.ndarray, float]:
    """The finite values of a numeric series, sorted, and the share of the rest (NaN, NA, +-inf)."""
    import numpy as np

    values = series.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.sort(values[np.isfinite(values)])
    missing = 1.0 - finite.size / values.size if values.size else 0.0
    return finite, missing


def _category_counts(series: pd.Series) -> pd.Series:
    """Counts per category, missing values merged into one ``<missing>`` category."""
    import pandas as pd

    counts = series.value_counts(dropna=False, sort=False)
    counts = counts[counts > 0]
    index = pd.Index(counts.index, dtype=object)
    counts.index = index.where(~index.isna(), _MISSING)
    return counts.groupby(level=0, sort=False).sum()


def _quantile_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    import numpy as np

    return np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def _bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in the bins ``(-inf, e0], (e0, e1], ..., (e[-1], inf)`` of sorted values."""
    import numpy as np

    at_most = np.searchsorted(sorted_values, edges, side="right")
    return np.diff(np.concatenate(([0], at_most, [sorted_values.size])))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts.astype("float64")


def _psi_from_counts(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    import numpy as np

    ref = _shares(np.asarray(reference_counts, dtype="float64"))
    cur = _shares(np.asarray(current_counts, dtype="float64"))
    ref = np.where(ref == 0, PSI_EPSILON, ref)
    cur = np.where(cur == 0, PSI_EPSILON, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise DataError(ERROR_BAD_BINS.format(value=bins))


def population_stability_index(reference: Any, current: Any, *, bins: int = 10) -> float:
    """PSI of ``current`` against ``reference`` (array-likes or Series).

    Numeric data: ``bins`` quantile bins of the reference (merged duplicate edges, open-ended
    outer bins), non-finite values left out. Other data: one bin per category, missing values
    counted as a category. Empty bins get a share of :data:`PSI_EPSILON`.
    """
    import pandas as pd

    _check_bins(bins)
    ref = reference if isinstance(reference, pd.Series) else pd.Series(reference)
    cur = current if isinstance(current, pd.Series) else pd.Series(current)
    kind = _kind_of(ref)
    if kind != _kind_of(cur) and cur.notna().any():
        raise DataError(
            ERROR_TYPE_MISMATCH.format(
                column=ref.name, reference_kind=kind, reference_dtype=ref.dtype,
                current_kind=_kind_of(cur) or "unsupported", current_dtype=cur.dtype,
            )
        )  # fmt: skip
    if kind == "numeric":
        ref_values, _ = _finite(ref)
        cur_values, _ = _finite(cur)
        for side, values in (("reference", ref_values), ("current", cur_values)):
            if values.size == 0:
                raise DataError(ERROR_EMPTY_SAMPLE.format(side=side))
        edges = _quantile_edges(ref_values, bins)
        return _psi_from_counts(_bin_counts(ref_values, edges), _bin_counts(cur_values, edges))
    for side, series in (("reference", ref), ("current", cur)):
        if series.size == 0:
            raise DataError(ERROR_EMPTY_SAMPLE.format(side=side))
    table = pd.concat(
        {"reference": _category_counts(ref), "current": _category_counts(cur)}, axis=1, sort=False
    )
    table = table.fillna(0)
    return _psi_from_counts(table.iloc[:, 0].to_numpy(), table.iloc[:, 1].to_numpy())


# -- verdicts -----------------------------------------------------------------------------------
def _verdict(
    feature: str,
    *,
    psi: float,
    test: Test,
    p_value: float,
    psi_max: float,
    p_min: float,
    missing: tuple[float, float] | None = None,
) -> tuple[bool, str]:
    label = "KS" if test == "ks" else "chi-squared"
    psi_bad = psi > psi_max
    p_bad = p_value < p_min
    if psi_bad and p_bad:
        reason = (
            f"{feature}: PSI {_g(psi, 3)} > {psi_max:g} and {label} p = {_g(p_value)} < {p_min:g}"
        )
    elif psi_bad:
        reason = f"{feature}: PSI {_g(psi, 3)} > {psi_max:g} ({label} p = {_g(p_value)})"
    elif p_bad:
        reason = f"{feature}: {label} p = {_g(p_value)} < {p_min:g} (PSI {_g(psi, 3)})"
    else:
        reason = (
            f"{feature}: PSI {_g(psi, 3)} <= {psi_max:g} and {label} p = {_g(p_value)} >= {p_min:g}"
        )
    if missing is not None and missing[0] != missing[1]:
        before, after = (f"{share * 100:.1f} %" for share in missing)
        reason += f"; missing values {before} -> {after} of rows (left out of the test)"
    return psi_bad or p_bad, reason


def _numeric_side(values: np.ndarray, missing: float) -> dict[str, Any]:
    import numpy as np

    if values.size == 0:
        return {"count": 0, "missing_share": _round(missing)}
    p25, p50, p75 = np.quantile(values, [0.25, 0.5, 0.75])
    return {
        "count": int(values.size),
        "missing_share": _round(missing),
        "mean": _round(float(values.mean())),
        "std": _round(float(values.std())),
        "p25": _round(float(p25)),
        "p50": _round(float(p50)),
        "p75": _round(float(p75)),
    }


def _measure_numeric(
    feature: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    bins: int,
    psi_max: float,
    p_min: float,
) -> _Measured:
    from scipy import stats

    ref, ref_missing = _finite(reference)
    cur, cur_missing = _finite(current)
    summary: dict[str, Any] = {
        "reference": _numeric_side(ref, ref_missing),
        "current": _numeric_side(cur, cur_missing),
    }
    name = _name(feature)
    nan = float("nan")
    if ref.size == 0 or cur.size == 0:
        empty = " and ".join(
            side for side, v in (("reference data", ref), ("current batch", cur)) if v.size == 0
        )
        drifted = cur.size != ref.size  # one side empty: the feature changed beyond measure
        drift = FeatureDrift(
            feature=str(feature), kind="numeric", psi=nan, test="ks", statistic=nan,
            p_value=nan, drifted=drifted, reason=f"{name}: no non-missing values in the {empty}",
            reference_missing=ref_missing, current_missing=cur_missing,
        )  # fmt: skip
        return _Measured(drift, summary)
    edges = _quantile_edges(ref, bins)
    ref_counts = _bin_counts(ref, edges)
    cur_counts = _bin_counts(cur, edges)
    psi = _psi_from_counts(ref_counts, cur_counts)
    with warnings.catch_warnings():
        # for large tied samples scipy falls back from the exact to the asymptotic p-value,
        # warning each time; the fallback is its documented behaviour, not a user problem
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        result = stats.ks_2samp(ref, cur)
    statistic, p_value = float(result.statistic), float(result.pvalue)
    drifted, reason = _verdict(
        name, psi=psi, test="ks", p_value=p_value, psi_max=psi_max, p_min=p_min,
        missing=(ref_missing, cur_missing),
    )  # fmt: skip
    summary["bins"] = {
        "edges": [_round(float(e)) for e in edges],
        "reference": [_round(float(s)) for s in _shares(ref_counts)],
        "current": [_round(float(s)) for s in _shares(cur_counts)],
    }
    drift = FeatureDrift(
        feature=str(feature), kind="numeric", psi=psi, test="ks", statistic=statistic,
        p_value=p_value, drifted=drifted, reason=reason,
        reference_missing=ref_missing, current_missing=cur_missing,
    )  # fmt: skip
    return _Measured(drift, summary)


def measure_categorical_counts(
    feature: str,
    ref_counts: pd.Series,
    cur_counts: pd.Series,
    *,
    psi_max: float,
    p_min: float,
) -> _Measured:
    """The categorical measure from counts per category (missing values: the ``<missing>``
    category), however they were counted: pandas here, one Spark aggregation on Spark."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    table = pd.concat({"reference": ref_counts, "current": cur_counts}, axis=1, sort=False)
    table = table.fillna(0)
    ref = table.iloc[:, 0].to_numpy(dtype="float64")
    cur = table.iloc[:, 1].to_numpy(dtype="float64")
    psi = _psi_from_counts(ref, cur)
    if table.shape[0] < 2:  # one category on both sides: identical distributions
        statistic, p_value = 0.0, 1.0
    else:
        result = stats.chi2_contingency(np.vstack([ref, cur]))
        statistic, p_value = float(result.statistic), float(result.pvalue)
    drifted, reason = _verdict(
        _name(feature), psi=psi, test="chi2", p_value=p_value, psi_max=psi_max, p_min=p_min
    )
    n_ref, n_cur = ref.sum(), cur.sum()
    is_missing = np.array([key is _MISSING for key in table.index])
    ref_missing = float(ref[is_missing].sum() / n_ref) if n_ref else 0.0
    cur_missing = float(cur[is_missing].sum() / n_cur) if n_cur else 0.0
    unseen = (ref == 0) & ~is_missing
    named = table[(ref >= MIN_NAMED_CATEGORY_COUNT) & ~is_missing]
    named = named.sort_values(by="reference", ascending=False, kind="stable")
    top = [
        {"category": _name(key), "reference": _round(r / n_ref), "current": _round(c / n_cur)}
        for key, r, c in zip(
            named.index[:MAX_NAMED_CATEGORIES],
            named.iloc[:MAX_NAMED_CATEGORIES, 0],
            named.iloc[:MAX_NAMED_CATEGORIES, 1],
            strict=True,
        )
    ]
    summary: dict[str, Any] = {
        "reference": {
            "count": int(n_ref),
            "missing_share": _round(ref_missing),
            "categories": int(((ref > 0) & ~is_missing).sum()),
        },
        "current": {
            "count": int(n_cur),
            "missing_share": _round(cur_missing),
            "categories": int(((cur > 0) & ~is_missing).sum()),
            "unseen_categories": int(unseen.sum()),
            "unseen_share": _round(float(cur[unseen].sum() / n_cur) if n_cur else 0.0),
        },
        "top_categories": top,
    }
    drift = FeatureDrift(
        feature=str(feature), kind="categorical", psi=psi, test="chi2", statistic=statistic,
        p_value=p_value, drifted=drifted, reason=reason,
        reference_missing=ref_missing, current_missing=cur_missing,
    )  # fmt: skip
    return _Measured(drift, summary)


def choose_columns(
    *,
    reference_columns: Sequence[Any],
    current_columns: Sequence[Any],
    kind_of: Callable[[Any], str | None],
    dtype_of: Callable[[Any], Any],
    columns: Sequence[Any] | None,
    exclude: Sequence[Any] = (),
) -> tuple[list[Any], list[Any]]:
    """The columns to check and the reference columns skipped for their type, whatever the frame
    (``kind_of``/``dtype_of`` read a reference column's kind and type): clear errors for unknown,
    unsupported or missing columns."""
    if columns is None:
        candidates = [c for c in reference_columns if c not in exclude]
        chosen = [c for c in candidates if kind_of(c) is not None]
        skipped = [c for c in candidates if c not in chosen]
    else:
        chosen, skipped = list(columns), []
        unknown = [c for c in chosen if c not in reference_columns]
        if unknown:
            raise DataError(
                ERROR_UNKNOWN_COLUMNS.format(
                    missing=_list_columns(unknown), columns=_list_columns(reference_columns)
                )
            )
        for column in chosen:
            if kind_of(column) is None:
                raise DataError(
                    ERROR_UNSUPPORTED_DTYPE.format(column=column, dtype=dtype_of(column))
                )
    if not chosen:
        raise DataError(ERROR_NO_COLUMNS)
    missing = [c for c in chosen if c not in current_columns]
    if missing:
        raise DataError(
            ERROR_MISSING_COLUMNS.format(
                missing=_list_columns(missing), columns=_list_columns(current_columns)
            )
        )
    return chosen, skipped


@dataclass(frozen=True, kw_only=True)
class Measurement:
    """What a backend measured of two frames: each chosen column's drift, the columns left
    out, the identifier-like columns skipped, and the frames' row counts and digests."""

    measured: list[_Measured]
    skipped: list[Any]
    identifier_columns: list[Any]
    reference_rows: int
    current_rows: int
    reference_digest: str
    current_digest: str


#: A backend: ``(current, reference, *, columns, psi_max, ks_pvalue_min, chi2_pvalue_min, bins,
#: allow_identifiers, max_categories) -> Measurement``.
Measure = Callable[..., Measurement]


# -- the evidence record ------------------------------------------------------------------------
def _hash_labels(measured: list[_Measured]) -> None:
    """Replace category names by hashed labels (the values may not be kept)."""
    for item in measured:
        for entry in item.summary.get("top_categories", ()):
            entry["category"] = hashed_label(entry["category"])


def _thresholds(thresholds: Mapping[str, float | None] | None) -> dict[str, float]:
    chosen = dict(DEFAULT_THRESHOLDS)
    for name, value in (thresholds or {}).items():
        if name in _NON_THRESHOLD_KEYS or value is None:
            continue
        if name not in DEFAULT_THRESHOLDS:
            raise DataError(
                ERROR_UNKNOWN_THRESHOLD.format(name=name, known=", ".join(DEFAULT_THRESHOLDS))
            )
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise DataError(ERROR_BAD_THRESHOLD.format(name=name, value=value))
        chosen[name] = float(value)
    return chosen


def _data_quality(result: Mapping[str, Any]) -> dict[str, Any]:
    if (
        not isinstance(result, Mapping)
        or not isinstance(result.get("success"), bool)
        or not isinstance(result.get("statistics"), Mapping)
    ):
        raise DataError(ERROR_BAD_DATA_QUALITY.format(value=type(result).__name__))
    statistics = {
        str(k): v
        for k, v in result["statistics"].items()
        if isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)
    }
    return {"success": result["success"], "statistics": statistics}


def _feature_entry(item: _Measured) -> dict[str, Any]:
    drift = item.drift
    return {
        "feature": _name(drift.feature),
        "kind": drift.kind,
        "drifted": drift.drifted,
        "psi": _round(drift.psi),
        "test": drift.test,
        "statistic": _round(drift.statistic),
        "p_value": _round(drift.p_value, 3),
        **item.summary,
    }


def _severity(item: _Measured) -> tuple[int, float, float]:
    """Sort key, worst first: drifted, then highest PSI, then lowest p-value."""
    drift = item.drift
    psi = drift.psi if math.isfinite(drift.psi) else math.inf
    p_value = drift.p_value if math.isfinite(drift.p_value) else -math.inf
    return (0 if drift.drifted else 1, -psi, p_value)


def _fit_details(
    base: dict[str, Any], entries: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> dict[str, Any]:
    """Add as many feature summaries and checks (worst first) as the record size limit allows."""
    margin = 200  # list keys and counters added below
    shown_checks = checks[:MAX_CHECKS]
    while True:
        details = {**base, "checks": shown_checks}
        used = len(canonical_json(details)) + margin
        if used <= MAX_DETAILS_CHARS or not shown_checks:
            break
        shown_checks = shown_checks[: len(shown_checks) // 2]
    shown: list[dict[str, Any]] = []
    for entry in entries[:MAX_SUMMARIZED_FEATURES]:
        size = len(canonical_json(entry)) + 1
        if used + size > MAX_DETAILS_CHARS:
            break
        shown.append(entry)
        used += size
    details["features"] = shown
    details["features_omitted"] = len(entries) - len(shown)
    details["checks_omitted"] = len(checks) - len(shown_checks)
    return details


def monitoring_record(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    *,
    system: str | None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[Any] | None = None,
    data_quality: Mapping[str, Any] | None = None,
    subject: Subject | None = None,
    config_digest: str | None = None,
    model_version: str | None = None,
    include_values: bool = False,
    allow_identifiers: bool = False,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    measure: Measure,
) -> EvidenceRecord:
    """A ``monitoring`` evidence record: feature drift of a production batch against the
    reference data, optionally with the batch's data-quality result.

    ``measure`` is the backend that measures the two frames (:mod:`aims_mlops.collectors.backends`
    picks pandas or Spark, once); this function builds the record from its numbers and never
    looks at a frame itself.

    ``thresholds`` takes ``psi_max``, ``ks_pvalue_min`` and ``chi2_pvalue_min`` (the
    ``monitoring`` section of ``aims.yaml``; ``interval_days`` is ignored). The outcome is
    ``fail`` when a feature drifted or the data-quality result failed, else ``pass``.
    Category names are kept only with ``include_values``; identifier-like columns: see the
    module docstring.
    """
    limits = _thresholds(thresholds)
    quality = _data_quality(data_quality) if data_quality is not None else None
    measurement = measure(
        current_df, reference_df, columns=columns, psi_max=limits["psi_max"],
        ks_pvalue_min=limits["ks_pvalue_min"], chi2_pvalue_min=limits["chi2_pvalue_min"],
        bins=10, allow_identifiers=allow_identifiers, max_categories=max_categories,
    )  # fmt: skip
    return record_from_measurement(
        measurement, limits=limits, quality=quality, system=system, subject=subject,
        config_digest=config_digest, model_version=model_version, include_values=include_values,
    )  # fmt: skip


def _drift_metrics(measurement: Measurement, drifts: list[FeatureDrift]) -> dict[str, float]:
    metrics: dict[str, float] = {
        "features_checked": len(drifts),
        "features_drifted": sum(1 for d in drifts if d.drifted),
        "current_rows": measurement.current_rows,
        "reference_rows": measurement.reference_rows,
    }
    psis = [d.psi for d in drifts if math.isfinite(d.psi)]
    p_values = [d.p_value for d in drifts if math.isfinite(d.p_value)]
    if psis:
        metrics["max_psi"] = max(psis)
    if p_values:
        metrics["min_p_value"] = min(p_values)
    return metrics


def _add_quality(
    quality: Mapping[str, Any],
    *,
    checks: list[dict[str, Any]],
    metrics: dict[str, float],
    base: dict[str, Any],
) -> None:
    """The batch's data-quality result in the record: a check (failed ones first), its success
    percentage as a metric, the bounded result under ``data_quality``."""
    if quality["success"]:
        checks.append(
            {"check": "data_quality", "feature": None, "passed": True,
             "reason": "data quality of the current batch: every expectation passed"}
        )  # fmt: skip
    base["data_quality"] = quality
    percent = quality["statistics"].get("success_percent")
    if percent is not None:
        metrics["data_quality_success_percent"] = percent
    if not quality["success"]:
        n_failed = quality["statistics"].get("unsuccessful_expectations")
        n_evaluated = quality["statistics"].get("evaluated_expectations")
        counted = (
            f"{n_failed:g} of {n_evaluated:g} expectations failed"
            if n_failed is not None and n_evaluated is not None
            else "expectations failed"
        )
        checks.insert(
            0,
            {"check": "data_quality", "feature": None, "passed": False,
             "reason": f"data quality of the current batch: {counted}"},
        )  # fmt: skip


def _monitoring_subject(
    subject: Subject | None, digests: tuple[str, str], model_version: str | None
) -> Subject:
    """The record's subject: the two frames' digests and the model version added to the
    caller's subject (or a new one)."""
    if subject is None:
        return Subject(model_version=model_version, dataset_digests=digests)
    extra = tuple(d for d in digests if d not in subject.dataset_digests)
    return replace(
        subject,
        dataset_digests=subject.dataset_digests + extra,
        model_version=subject.model_version or model_version,
    )


def record_from_measurement(
    measurement: Measurement,
    *,
    limits: Mapping[str, float],
    quality: Mapping[str, Any] | None,
    system: str | None,
    subject: Subject | None = None,
    config_digest: str | None = None,
    model_version: str | None = None,
    include_values: bool = False,
) -> EvidenceRecord:
    """The ``monitoring`` record from what a backend measured (pure: no frame is read), judged
    with ``limits`` (:func:`_thresholds`), with the batch's data-quality result when given."""
    measured, skipped = measurement.measured, measurement.skipped
    identifiers = measurement.identifier_columns
    if not include_values:
        _hash_labels(measured)
    drifts = [m.drift for m in measured]
    metrics = _drift_metrics(measurement, drifts)

    ordered = sorted(measured, key=_severity)
    # every check that ran, failed ones first: a clean batch shows what it checked and passed
    checks: list[dict[str, Any]] = [
        {"check": "drift", "feature": _name(m.drift.feature), "passed": not m.drift.drifted,
         "reason": m.drift.reason}
        for m in ordered
    ]  # fmt: skip
    base: dict[str, Any] = {
        "thresholds": {**limits, "psi_bins": 10},
        "method": (
            "numeric: PSI on 10 reference-quantile bins + two-sample Kolmogorov-Smirnov; "
            "categorical: PSI over categories + chi-squared; empty bins count as share "
            f"{PSI_EPSILON:g}; non-finite numeric values are left out"
        ),
        "reference_sha256": measurement.reference_digest,
        "current_sha256": measurement.current_digest,
        "model_version": model_version,
        "columns_skipped": [_name(c) for c in skipped[:_MAX_LISTED_COLUMNS]],
        "identifier_columns_skipped": [_name(c) for c in identifiers[:_MAX_LISTED_COLUMNS]],
        "category_labels": "values" if include_values else "sha256",
    }
    if quality is not None:
        _add_quality(quality, checks=checks, metrics=metrics, base=base)
    if not checks and measured:
        # every check that ran is listed above; this only guards a batch whose checks were all
        # left out: a record with no checks holds nothing the monitoring entries can count
        checks.append(
            {"check": "drift", "feature": None, "passed": True,
             "reason": f"no drift in the {len(measured)} features checked"
             + ("; data quality of the current batch met" if quality is not None else "")}
        )  # fmt: skip
    details = _fit_details(base, [_feature_entry(m) for m in ordered], checks)
    digests = (measurement.reference_digest, measurement.current_digest)
    failed = any(d.drifted for d in drifts) or (quality is not None and not quality["success"])
    return catalog_record(
        kind="monitoring",
        system=system,
        outcome="fail" if failed else "pass",
        collector=COLLECTOR_NAME,
        subject=_monitoring_subject(subject, digests, model_version),
        metrics=metrics,
        details=details,
        config_digest=config_digest,
    )

__all__ = [
    "ERROR_MISSING_COLUMNS",
    "FeatureDrift",
    "monitoring_record",
    "population_stability_index",
]
