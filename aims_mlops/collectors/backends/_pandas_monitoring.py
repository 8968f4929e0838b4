"""The pandas backend of monitoring: which columns to measure in two pandas frames, their kinds,
counts per category, identifier-like columns, and the frames' digests. The statistics and the
record come from the core (:mod:`aims_mlops.collectors._monitoring`); this module never imports
the Spark backend, nor the Spark backend this one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aims_mlops._errors import DataError
from aims_mlops.collectors._digest import frame_sha256
from aims_mlops.collectors._identifiers import looks_like_identifier, refuse_identifier
from aims_mlops.collectors._monitoring import (
    DEFAULT_MAX_CATEGORIES,
    ERROR_NO_ROWS,
    ERROR_TYPE_MISMATCH,
    FeatureDrift,
    Measurement,
    _category_counts,
    _check_bins,
    _kind_of,
    _measure_numeric,
    _Measured,
    choose_columns,
    measure_categorical_counts,
)

if TYPE_CHECKING:
    import pandas as pd


def _measure_categorical(
    feature: str,
    reference: pd.Series,
    current: pd.Series,
    *,
    psi_max: float,
    p_min: float,
) -> _Measured:
    ref_counts = _category_counts(reference)
    cur_counts = _category_counts(current)
    return measure_categorical_counts(feature, ref_counts, cur_counts, psi_max=psi_max, p_min=p_min)


def _identifier_columns(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    columns: Sequence[Any] | None,
    *,
    max_categories: int,
) -> list[Any]:
    """The categorical columns that look like identifiers (on either side). One named in
    ``columns`` raises :class:`DataError`; by default they are returned, to be skipped."""
    candidates = list(reference_df.columns) if columns is None else list(columns)
    flagged = []
    for column in candidates:
        if column not in reference_df.columns or _kind_of(reference_df[column]) != "categorical":
            continue  # unknown columns are reported by _select_columns; numbers carry no labels
        for frame in (reference_df, current_df):
            if column not in frame.columns:
                continue
            values = frame[column]
            distinct, rows = int(values.nunique(dropna=True)), int(values.notna().sum())
            if looks_like_identifier(distinct, rows, max_categories=max_categories):
                if columns is not None:
                    refuse_identifier(column, distinct, rows, max_categories=max_categories)
                flagged.append(column)
                break
    return flagged


def _select_columns(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    columns: Sequence[Any] | None,
    exclude: Sequence[Any] = (),
) -> tuple[list[Any], list[Any]]:
    """The columns to check and the reference columns skipped for their dtype."""
    chosen, skipped = choose_columns(
        reference_columns=list(reference_df.columns),
        current_columns=list(current_df.columns),
        kind_of=lambda c: _kind_of(reference_df[c]),
        dtype_of=lambda c: reference_df[c].dtype,
        columns=columns,
        exclude=exclude,
    )
    for side, frame in (("reference data", reference_df), ("current batch", current_df)):
        if len(frame) == 0:
            raise DataError(ERROR_NO_ROWS.format(side=side))
    return chosen, skipped


def _measure_all(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    *,
    columns: Sequence[Any] | None,
    psi_max: float,
    ks_pvalue_min: float,
    chi2_pvalue_min: float,
    bins: int,
    exclude: Sequence[Any] = (),
) -> tuple[list[_Measured], list[Any]]:
    _check_bins(bins)
    chosen, skipped = _select_columns(current_df, reference_df, columns, exclude)
    measured: list[_Measured] = []
    for column in chosen:
        ref, cur = reference_df[column], current_df[column]
        ref_kind, cur_kind = _kind_of(ref), _kind_of(cur)
        if ref_kind != cur_kind and cur.notna().any():
            raise DataError(
                ERROR_TYPE_MISMATCH.format(
                    column=column, reference_kind=ref_kind, reference_dtype=ref.dtype,
                    current_kind=cur_kind or "unsupported", current_dtype=cur.dtype,
                )
            )  # fmt: skip
        if ref_kind == "numeric":
            measured.append(
                _measure_numeric(column, ref, cur, bins=bins, psi_max=psi_max, p_min=ks_pvalue_min)
            )
        else:
            measured.append(
                _measure_categorical(column, ref, cur, psi_max=psi_max, p_min=chi2_pvalue_min)
            )
    return measured, skipped


def measure_frames(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    *,
    columns: Sequence[Any] | None,
    psi_max: float,
    ks_pvalue_min: float,
    chi2_pvalue_min: float,
    bins: int,
    allow_identifiers: bool = False,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> Measurement:
    """The pandas backend: measure every chosen column of two pandas frames."""
    identifiers = (
        []
        if allow_identifiers
        else _identifier_columns(current_df, reference_df, columns, max_categories=max_categories)
    )
    measured, skipped = _measure_all(
        current_df, reference_df, columns=columns, psi_max=psi_max,
        ks_pvalue_min=ks_pvalue_min, chi2_pvalue_min=chi2_pvalue_min, bins=bins,
        exclude=identifiers,
    )  # fmt: skip
    return Measurement(
        measured=measured,
        skipped=skipped,
        identifier_columns=identifiers,
        reference_rows=len(reference_df),
        current_rows=len(current_df),
        reference_digest=frame_sha256(reference_df),
        current_digest=frame_sha256(current_df),
    )


def feature_drift(
    current_df: pd.DataFrame,
    reference_df: pd.DataFrame,
    *,
    columns: Sequence[Any] | None = None,
    psi_max: float = 0.2,
    ks_pvalue_min: float = 0.01,
    chi2_pvalue_min: float = 0.01,
    bins: int = 10,
) -> list[FeatureDrift]:
    """Drift of each column of ``columns`` (default: every numeric or categorical column of the
    reference), in column order. Raises :class:`DataError` for missing or unusable columns."""
    measured, _ = _measure_all(
        current_df, reference_df, columns=columns, psi_max=psi_max,
        ks_pvalue_min=ks_pvalue_min, chi2_pvalue_min=chi2_pvalue_min, bins=bins,
    )  # fmt: skip
    return [m.drift for m in measured]


__all__ = ["feature_drift", "measure_frames"]
