"""Judging measured metrics against declared thresholds (shared by the collectors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ThresholdCheck:
    """One metric judged against its declared bound."""

    metric: str
    value: float | None
    minimum: float | None
    maximum: float | None
    passed: bool
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "value": self.value,
            "min": self.minimum,
            "max": self.maximum,
            "passed": self.passed,
            "reason": self.reason,
        }


def judge_thresholds(
    metrics: Mapping[str, float], thresholds: Mapping[str, Mapping[str, float | None]]
) -> list[ThresholdCheck]:
    """Judge each thresholded metric; a metric with a threshold but no value fails.

    ``thresholds`` maps a metric name to ``{"min": x}`` and/or ``{"max": y}`` (inclusive bounds).
    """
    checks: list[ThresholdCheck] = []
    for name, bound in thresholds.items():
        minimum = bound.get("min")
        maximum = bound.get("max")
        value = metrics.get(name)
        if value is None:
            checks.append(
                ThresholdCheck(name, None, minimum, maximum, False, f"{name} was not measured")
            )
            continue
        problems = []
        if minimum is not None and value < minimum:
            problems.append(f"{name} = {value:.4g} is below the minimum {minimum:g}")
        if maximum is not None and value > maximum:
            problems.append(f"{name} = {value:.4g} is above the maximum {maximum:g}")
        if problems:
            checks.append(ThresholdCheck(name, value, minimum, maximum, False, "; ".join(problems)))
        else:
            bounds = " and ".join(
                part
                for part in (
                    f">= {minimum:g}" if minimum is not None else "",
                    f"<= {maximum:g}" if maximum is not None else "",
                )
                if part
            )
            checks.append(
                ThresholdCheck(
                    name, value, minimum, maximum, True, f"{name} = {value:.4g} {bounds}"
                )
            )
    return checks
