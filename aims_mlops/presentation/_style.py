"""One palette and one set of words for the engine's verdicts: status and outcome colours and
labels, the bands of the risk heat map, percentages.

Pure Python: imports only the engine's status names, so the CLI, the widgets, the IPython magics
and the reports all draw from here without loading ipywidgets or MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from aims_mlops.engine._results import FAILING, MISSING, NOT_APPLICABLE, SATISFIED, STALE


@dataclass(frozen=True, kw_only=True)
class Swatch:
    """A chip's colours: its fill and the text drawn on it."""

    background: str
    foreground: str


#: status -> the label people read (the engine's values stay in data attributes and JSON).
STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        SATISFIED: "satisfied",
        FAILING: "failing",
        STALE: "stale",
        MISSING: "missing",
        NOT_APPLICABLE: "not applicable",
    }
)
#: status -> its chip colours (text contrast at least 4.5:1 except ``stale``, about 3:1).
STATUS_COLOURS: Mapping[str, Swatch] = MappingProxyType(
    {
        SATISFIED: Swatch(background="#2e7d32", foreground="#ffffff"),
        FAILING: Swatch(background="#c62828", foreground="#ffffff"),
        STALE: Swatch(background="#ef6c00", foreground="#ffffff"),
        MISSING: Swatch(background="#757575", foreground="#ffffff"),
        NOT_APPLICABLE: Swatch(background="#cfd8dc", foreground="#263238"),
    }
)
#: evidence outcome -> its chip colours.
OUTCOME_COLOURS: Mapping[str, Swatch] = MappingProxyType(
    {
        "pass": Swatch(background="#2e7d32", foreground="#ffffff"),
        "fail": Swatch(background="#c62828", foreground="#ffffff"),
        "error": Swatch(background="#6a1b9a", foreground="#ffffff"),
        "info": Swatch(background="#1565c0", foreground="#ffffff"),
    }
)
#: Colours of anything the palette does not know (a status or outcome from a newer version).
UNKNOWN_SWATCH = Swatch(background="#9e9e9e", foreground="#ffffff")

#: Signal colours derived from the status palette: good, needs attention, bad.
GOOD = STATUS_COLOURS[SATISFIED].background
WARNING = STATUS_COLOURS[STALE].background
BAD = STATUS_COLOURS[FAILING].background

#: Bands of the 5 x 5 risk heat map: within the appetite, above it, far above it.
WITHIN = "within"
ABOVE = "above"
HIGH = "high"
HEAT_BANDS: tuple[str, ...] = (WITHIN, ABOVE, HIGH)
#: heat-map band -> cell fill.
BAND_COLOURS: Mapping[str, str] = MappingProxyType(
    {WITHIN: "#c8e6c9", ABOVE: "#ffe0b2", HIGH: "#ffcdd2"}
)
#: heat-map band -> legend text (``{appetite}`` is filled in).
BAND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        WITHIN: "within appetite (score ≤ {appetite})",
        ABOVE: "above appetite (score > {appetite})",
        HIGH: "far above appetite",
    }
)

#: Score at or above which a score bar is green, resp. orange (below: red).
SCORE_GOOD = 0.8
SCORE_FAIR = 0.5


def status_label(status: str) -> str:
    """Human label of a status (``not_applicable`` -> ``not applicable``)."""
    return STATUS_LABELS.get(status, status)


def status_swatch(status: str) -> Swatch:
    """The chip colours of a status."""
    return STATUS_COLOURS.get(status, UNKNOWN_SWATCH)


def outcome_swatch(outcome: str) -> Swatch:
    """The chip colours of an evidence outcome (``pass``, ``fail``, ``error``, ``info``)."""
    return OUTCOME_COLOURS.get(outcome, UNKNOWN_SWATCH)


def heat_band(score: int, appetite: int) -> str:
    """``within`` (score <= appetite), ``above``, or ``high`` (in the upper half above it)."""
    if score <= appetite:
        return WITHIN
    return HIGH if score > appetite + (25 - appetite) / 2 else ABOVE


def score_colour(score: float) -> str:
    """Green from 80 %, orange from 50 %, red below."""
    return GOOD if score >= SCORE_GOOD else WARNING if score >= SCORE_FAIR else BAD


def appetite_colour(above: bool) -> str:
    """Red for a risk above the appetite, green within it."""
    return BAD if above else GOOD


def percent(share: float, *, digits: int = 1) -> str:
    """A share in 0..1 as a percentage, e.g. ``72.5 %`` (one decimal by default: whole numbers
    would show 199 of 200 satisfied as 100 %)."""
    return f"{share * 100:.{digits}f} %"
