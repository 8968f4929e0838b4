"""Inline SVG charts for reports: the risk heatmap, per-group fairness bars, the status donut.

Every chart is a self-contained ``<svg>`` string (no external fonts, images or scripts) with the
user's text escaped, so it can sit inside an HTML report that is read offline or printed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from aims_mlops.presentation import (
    ABOVE,
    BAD,
    BAND_COLOURS,
    BAND_LABELS,
    HIGH,
    STATUS_COLOURS,
    WITHIN,
    heat_band,
    percent,
)

INK = "#1d2b3a"
MUTED = "#5f6b78"
BAR_FILL = "#3b6ea5"
#: Bars under the fairness limit: the palette's "bad".
BAR_BELOW_FILL = BAD
#: A residual marker above the appetite.
ABOVE_MARKER = "#8e2a1f"
HALO = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"'
FONT = "font-family=\"Helvetica, Arial, 'DejaVu Sans', sans-serif\""


def _slots(n: int) -> list[tuple[float, float]]:
    """Marker positions (fractions of a cell) for ``n`` markers sharing a heatmap cell."""
    if n <= 1:
        return [(0.5, 0.52)]
    if n == 2:
        return [(0.3, 0.52), (0.7, 0.52)]
    if n == 3:
        return [(0.3, 0.36), (0.7, 0.36), (0.5, 0.72)]
    if n == 4:
        return [(0.3, 0.34), (0.7, 0.34), (0.3, 0.72), (0.7, 0.72)]
    step = 1 / 3.4
    grid = [(0.2 + step * (i % 3), 0.24 + step * (i // 3)) for i in range(9)]
    return [grid[i % 9] for i in range(n)]


def _t(value: object) -> str:
    return escape(str(value), quote=True)


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class PlacedRisk(Protocol):
    """What the heatmap reads of a risk: the engine's :class:`~aims_mlops.engine.RiskResult`."""

    @property
    def id(self) -> str: ...
    @property
    def inherent_likelihood(self) -> int: ...
    @property
    def impact(self) -> int: ...
    @property
    def residual_likelihood(self) -> int: ...
    @property
    def residual_impact(self) -> int: ...
    @property
    def above_appetite(self) -> bool: ...


def heatmap_svg(
    risks: Sequence[PlacedRisk],
    *,
    appetite: int,
    likelihood_labels: Mapping[int, str],
    impact_labels: Mapping[int, str],
    id_prefix: str = "heatmap",
) -> str:
    """A 5x5 likelihood x impact grid, cells shaded by heat band (within the appetite, above it,
    far above it); each risk as a hollow inherent marker with an arrow to its filled residual
    marker."""
    cell = 78
    left, top = 132, 16
    grid = 5 * cell
    width, height = left + grid + 16, top + grid + 110
    out = [
        f'<svg class="chart heatmap" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" {FONT} font-size="12">',
        f"<title>Risk heatmap: likelihood by impact, appetite {appetite}</title>",
        "<defs>"
        f'<marker id="{id_prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INK}"/></marker></defs>',
    ]

    occupants: dict[tuple[int, int], int] = {}
    for risk in risks:
        cells = {(risk.residual_likelihood, risk.residual_impact)}
        cells.add((risk.inherent_likelihood, risk.impact))
        for key in cells:
            occupants[key] = occupants.get(key, 0) + 1

    def center(likelihood: int, impact: int, slot: int) -> tuple[float, float]:
        fx, fy = _slots(occupants.get((likelihood, impact), 1))[slot]
        return left + (impact - 1 + fx) * cell, top + (5 - likelihood + fy) * cell

    for likelihood in range(5, 0, -1):
        for impact in range(1, 6):
            score = likelihood * impact
            band = heat_band(score, appetite)
            classes = {WITHIN: "", ABOVE: " above", HIGH: " above high"}[band]
            x, y = left + (impact - 1) * cell, top + (5 - likelihood) * cell
            out.append(
                f'<rect class="cell{classes}" data-likelihood="{likelihood}" '
                f'data-impact="{impact}" data-band="{band}" x="{x}" y="{y}" width="{cell}" '
                f'height="{cell}" fill="{BAND_COLOURS[band]}" stroke="#ffffff" stroke-width="2"/>'
            )
            out.append(
                f'<text x="{x + cell - 6}" y="{y + 14}" text-anchor="end" fill="{MUTED}" '
                f'font-size="10">{score}</text>'
            )
    for level in range(1, 6):
        y = top + (5 - level + 0.5) * cell
        out.append(
            f'<text x="{left - 8}" y="{_f(y - 2)}" text-anchor="end" fill="{INK}">{level}</text>'
            f'<text x="{left - 8}" y="{_f(y + 12)}" text-anchor="end" fill="{MUTED}" '
            f'font-size="10">{_t(likelihood_labels.get(level, ""))}</text>'
        )
        x = left + (level - 0.5) * cell
        out.append(
            f'<text x="{_f(x)}" y="{top + grid + 16}" text-anchor="middle" '
            f'fill="{INK}">{level}</text>'
            f'<text x="{_f(x)}" y="{top + grid + 30}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="10">{_t(impact_labels.get(level, ""))}</text>'
        )
    out.append(
        f'<text x="{left + grid / 2}" y="{top + grid + 48}" text-anchor="middle" '
        f'font-weight="bold" fill="{INK}">Impact</text>'
        f'<text x="18" y="{top + grid / 2}" text-anchor="middle" font-weight="bold" '
        f'fill="{INK}" transform="rotate(-90 18 {top + grid / 2})">Likelihood</text>'
    )

    used: dict[tuple[int, int], int] = {}

    def slot(likelihood: int, impact: int) -> int:
        key = (likelihood, impact)
        used[key] = used.get(key, 0) + 1
        return used[key] - 1

    radius = 12
    markers: list[str] = []
    arrows: list[str] = []
    for risk in risks:
        inherent_at = (risk.inherent_likelihood, risk.impact)
        moved = inherent_at != (risk.residual_likelihood, risk.residual_impact)
        residual_at = (risk.residual_likelihood, risk.residual_impact)
        rx, ry = center(*residual_at, slot(*residual_at))
        label = _t(risk.id)
        flag = " above" if risk.above_appetite else ""
        if moved:
            ix, iy = center(*inherent_at, slot(*inherent_at))
            dx, dy = rx - ix, ry - iy
            dist = math.hypot(dx, dy) or 1.0
            sx, sy = ix + dx / dist * radius, iy + dy / dist * radius
            ex, ey = rx - dx / dist * (radius + 2), ry - dy / dist * (radius + 2)
            arrows.append(
                f'<line class="treatment" x1="{_f(sx)}" y1="{_f(sy)}" x2="{_f(ex)}" y2="{_f(ey)}" '
                f'stroke="{INK}" stroke-width="1.6" stroke-dasharray="4 3" '
                f'marker-end="url(#{id_prefix}-arrow)"/>'
            )
            markers.append(
                f'<g class="marker inherent"><title>{label}: inherent {risk.inherent_likelihood} × '
                f"{risk.impact}</title>"
                f'<circle cx="{_f(ix)}" cy="{_f(iy)}" r="{radius}" fill="#ffffff" stroke="{INK}" '
                f'stroke-width="1.6"/><text x="{_f(ix)}" y="{_f(iy + 4)}" text-anchor="middle" '
                f'font-size="10" fill="{INK}">{label}</text></g>'
            )
        markers.append(
            f'<g class="marker residual{flag}"><title>{label}: residual '
            f"{risk.residual_likelihood} × {risk.residual_impact}</title>"
            f'<circle cx="{_f(rx)}" cy="{_f(ry)}" r="{radius}" '
            f'fill="{ABOVE_MARKER if risk.above_appetite else INK}" '
            f'stroke="{INK if moved else "#ffffff"}" stroke-width="1.6"/>'
            f'<text x="{_f(rx)}" y="{_f(ry + 4)}" text-anchor="middle" font-size="10" '
            f'fill="#ffffff" font-weight="bold">{label}</text></g>'
        )
    out.extend(arrows)
    out.extend(markers)

    ly = top + grid + 70
    out.append(
        f'<g class="legend" font-size="11" fill="{INK}">'
        f'<circle cx="{left + 8}" cy="{ly}" r="7" fill="#ffffff" stroke="{INK}" '
        f'stroke-width="1.4"/>'
        f'<text x="{left + 20}" y="{ly + 4}">inherent</text>'
        f'<circle cx="{left + 92}" cy="{ly}" r="7" fill="{INK}"/>'
        f'<text x="{left + 104}" y="{ly + 4}">residual</text>'
        f'<rect x="{left + 170}" y="{ly - 7}" width="14" height="14" '
        f'fill="{BAND_COLOURS[ABOVE]}"/>'
        f'<text x="{left + 190}" y="{ly + 4}">{_t(BAND_LABELS[ABOVE].format(appetite=appetite))}'
        "</text>"
        f'<rect x="{left + 170}" y="{ly + 11}" width="14" height="14" '
        f'fill="{BAND_COLOURS[HIGH]}"/>'
        f'<text x="{left + 190}" y="{ly + 22}">{_t(BAND_LABELS[HIGH])}</text>'
        "</g>"
    )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True, kw_only=True)
class Bar:
    """One bar: a group's label, its value and (optionally) its size."""

    label: str
    value: float
    count: int | None = None


def _scale_max(values: Sequence[float]) -> float:
    top = max(values, default=0.0)
    if top <= 0:
        return 1.0
    if top > 0.5:
        return 1.0
    return min(1.0, math.ceil(top * 10 + 0.5) / 10)


def group_bars_svg(
    bars: Sequence[Bar],
    *,
    title: str,
    limit_low: float | None = None,
    limit_label: str = "",
    max_label_chars: int = 34,
) -> str:
    """Horizontal bars (rates 0..1) per group; the highest rate marked, and ``limit_low`` (the
    lowest rate within the fairness threshold) drawn as a dashed line with bars under it in red."""
    label_w, bar_w, row_h = 230, 560, 26
    top, left = 34, 10
    width = left + label_w + bar_w + 110
    height = top + row_h * max(len(bars), 1) + 50
    scale = _scale_max([b.value for b in bars])

    def x_of(value: float) -> float:
        return left + label_w + max(0.0, min(value, scale)) / scale * bar_w

    out = [
        f'<svg class="chart bars" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {FONT} font-size="12">',
        f"<title>{_t(title)}</title>",
        f'<text x="{left}" y="18" font-weight="bold" fill="{INK}">{_t(title)}</text>',
    ]
    ticks = 5
    for i in range(ticks + 1):
        value = scale * i / ticks
        x = x_of(value)
        out.append(
            f'<line x1="{_f(x)}" y1="{top - 4}" x2="{_f(x)}" y2="{top + row_h * len(bars)}" '
            f'stroke="#e3e7eb"/><text x="{_f(x)}" y="{top + row_h * len(bars) + 16}" '
            f'text-anchor="middle" fill="{MUTED}" font-size="10">{value:.2f}</text>'
        )
    if bars:
        bottom = top + row_h * len(bars)
        highest = max(b.value for b in bars)
        hx = x_of(highest)
        out.append(
            f'<line class="reference" x1="{_f(hx)}" y1="{top - 8}" x2="{_f(hx)}" y2="{bottom}" '
            f'stroke="{INK}" stroke-width="1.2" stroke-dasharray="2 3"/>'
            f'<text x="{_f(hx)}" y="{top - 11}" text-anchor="middle" font-size="10" '
            f'fill="{MUTED}">highest</text>'
        )
        if limit_low is not None:
            lx = x_of(limit_low)
            out.append(
                f'<line class="threshold" x1="{_f(lx)}" y1="{top - 8}" x2="{_f(lx)}" '
                f'y2="{bottom}" stroke="{BAR_BELOW_FILL}" stroke-width="2" '
                f'stroke-dasharray="6 4"/>'
                f'<text x="{_f(lx)}" y="{bottom + 32}" text-anchor="middle" font-size="10" '
                f'fill="{BAR_BELOW_FILL}">{_t(limit_label)}</text>'
            )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        below = limit_low is not None and bar.value < limit_low
        label = (
            bar.label
            if len(bar.label) <= max_label_chars
            else bar.label[: max_label_chars - 1] + "…"
        )
        size = f" (n={bar.count:,})" if bar.count is not None else ""
        out.append(
            f'<g class="bar{" below" if below else ""}"><title>{_t(bar.label)}: {bar.value:.3f}'
            f"{size}</title>"
            f'<text x="{left + label_w - 8}" y="{y + row_h / 2 + 4}" text-anchor="end" '
            f'fill="{INK}">{_t(label)}</text>'
            f'<rect x="{left + label_w}" y="{y + 4}" '
            f'width="{_f(x_of(bar.value) - left - label_w)}" '
            f'height="{row_h - 8}" rx="2" fill="{BAR_BELOW_FILL if below else BAR_FILL}"/>'
            f'<text x="{_f(x_of(bar.value) + 6)}" y="{y + row_h / 2 + 4}" fill="{INK}" '
            f'font-size="11" {HALO}>{bar.value:.3f}{_t(size)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def donut_svg(score: float, counts: Mapping[str, int], *, size: int = 150) -> str:
    """The conformity score in the middle of a ring split by status counts."""
    radius, stroke = size / 2 - 12, 18
    c = size / 2
    circumference = 2 * math.pi * radius
    total = sum(counts.values()) or 1
    out = [
        f'<svg class="chart donut" role="img" viewBox="0 0 {size} {size}" width="{size}" '
        f'height="{size}" {FONT}>',
        f"<title>Conformity score {percent(score)}</title>",
        f'<circle cx="{c}" cy="{c}" r="{_f(radius)}" fill="none" stroke="#eef1f4" '
        f'stroke-width="{stroke}"/>',
    ]
    offset = 0.0
    for status, swatch in STATUS_COLOURS.items():
        color = swatch.background
        n = counts.get(status, 0)
        if not n:
            continue
        length = circumference * n / total
        out.append(
            f'<circle class="segment {status}" cx="{c}" cy="{c}" r="{_f(radius)}" fill="none" '
            f'stroke="{color}" stroke-width="{stroke}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {c} {c})"/>'
        )
        offset += length
    out.append(
        f'<text x="{c}" y="{c + 8}" text-anchor="middle" font-size="24" font-weight="bold" '
        f'fill="{INK}">{percent(score)}</text>'
        f'<text x="{c}" y="{c + 26}" text-anchor="middle" font-size="10" fill="{MUTED}">'
        "satisfied</text></svg>"
    )
    return "".join(out)
