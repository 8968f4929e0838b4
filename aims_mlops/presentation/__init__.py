"""Presentation: how every view shows the engine's verdicts, defined once.

One palette (status and outcome chips, the risk heat map's bands, score bars), the status
labels, the percentage format, and the plain-text summaries. The CLI, the widgets, the IPython
magics and the reports (HTML, Markdown, charts) all use these, so a status looks and reads the
same everywhere. Pure and light: it imports only the engine's result types (no ipywidgets, no
MLflow), and it decides nothing.
"""

from aims_mlops.presentation._style import (
    ABOVE,
    BAD,
    BAND_COLOURS,
    BAND_LABELS,
    GOOD,
    HEAT_BANDS,
    HIGH,
    OUTCOME_COLOURS,
    SCORE_FAIR,
    SCORE_GOOD,
    STATUS_COLOURS,
    STATUS_LABELS,
    UNKNOWN_SWATCH,
    WARNING,
    WITHIN,
    Swatch,
    appetite_colour,
    heat_band,
    outcome_swatch,
    percent,
    score_colour,
    status_label,
    status_swatch,
)
from aims_mlops.presentation._text import (
    LISTING_GAPS,
    NO_CURRENT_MODEL,
    SUMMARY_GAPS,
    gap_lines,
    listing_text,
    model_label,
    risk_movement,
    risk_verdict,
    status_lines,
    summary_text,
)

__all__ = [
    "ABOVE",
    "BAD",
    "BAND_COLOURS",
    "BAND_LABELS",
    "GOOD",
    "HEAT_BANDS",
    "HIGH",
    "LISTING_GAPS",
    "NO_CURRENT_MODEL",
    "OUTCOME_COLOURS",
    "SCORE_FAIR",
    "SCORE_GOOD",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "SUMMARY_GAPS",
    "UNKNOWN_SWATCH",
    "WARNING",
    "WITHIN",
    "Swatch",
    "appetite_colour",
    "gap_lines",
    "heat_band",
    "listing_text",
    "model_label",
    "outcome_swatch",
    "percent",
    "risk_movement",
    "risk_verdict",
    "score_colour",
    "status_label",
    "status_lines",
    "status_swatch",
    "summary_text",
]
