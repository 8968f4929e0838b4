"""Reading framework obligations from a judgement (recording incidents is
:mod:`aims_mlops.capture`'s)."""

from __future__ import annotations

from typing import Any

from aims_mlops.eu_ai_act._obligations import FRAMEWORK, classification, obligation_rows


def framework_status(judgement: Any, framework: str = FRAMEWORK) -> list[dict[str, Any]]:
    """Per assessed system, the items of ``framework`` that bind it, met or not (from the
    judgement's verdicts): one row per (system, item)."""
    crosswalk = judgement.catalog.crosswalk(framework)
    rows: list[dict[str, Any]] = []
    for system_id, assessment in judgement.assessment.systems.items():
        system = judgement.config.system(system_id)
        rows.extend(obligation_rows(crosswalk, assessment, classification(system)))
    return rows
