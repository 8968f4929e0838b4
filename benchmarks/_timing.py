"""Timing helpers shared by the benchmarks: alternating runs, medians with their range, ratios.

On a shared machine one run per side says more about the neighbours than about the code: every
benchmark runs its sides in turn (A B A B A B ...), so a burst of load hits both alike, and
reports each side's median with its min-max, and the ratio of the medians.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping


def alternate(
    sides: Mapping[str, Callable[[], object]], *, repeat: int = 3
) -> dict[str, list[float]]:
    """Seconds of ``repeat`` runs of each side, the sides taking turns (A B A B ...)."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeat):
        for name, run in sides.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float], *, unit: str = "s", digits: int = 3) -> str:
    """``0.123 s (0.101-0.140, 3 runs)``: the median and the range."""
    return (
        f"{median(values):.{digits}f} {unit} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f}, {len(values)} runs)"
    )


def ratio(numerator: list[float], denominator: list[float]) -> str:
    """The ratio of the medians, and the range of the ratios run by run (runs are paired)."""
    pairs = [a / b for a, b in zip(numerator, denominator, strict=False) if b > 0]
    middle = median(numerator) / median(denominator)
    if not pairs:
        return f"{middle:.2f}x"
    return f"{middle:.2f}x (paired runs {min(pairs):.2f}-{max(pairs):.2f}x)"


def load_line() -> str:
    """The machine's load averages and cores, to print next to the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def report(times: Mapping[str, list[float]], *, baseline: str, unit: str = "s") -> None:
    """Print each side's median (min-max) and its ratio to ``baseline``'s median."""
    width = max(len(name) for name in times) + 2
    print(load_line())
    for name, values in times.items():
        line = f"{name:<{width}}{spread(values, unit=unit)}"
        if name != baseline:
            line += f"   {ratio(values, times[baseline])} of {baseline}"
        print(line)
