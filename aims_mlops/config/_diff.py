"""What changed between two configurations, in words an approver reads (``aims config status``).

Pure: compares the validated models section by section (thresholds, gate, risks with their
controls and treatment, impact assessments, the SoA, scope, people, approvers, trust) and the
public key material each names, so a key file whose content changed under the same path is a
change too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aims_mlops.config._models import AimsConfig

#: Lists of these sections are compared item by item, keyed by this field.
_KEYED: Mapping[str, str] = {
    "systems": "id",
    "risks": "id",
    "people": "name",
    "impact_assessments": "system",
    "risk_reviews": "system",
}
#: Changes an approver must read as a loosening: (field, before, after) -> what it loosens.
LOOSENINGS: Mapping[tuple[str, str, str], str] = {
    ("fairness_groups", "intersection", "each"): (
        "LOOSENS the fairness objective: judged per sensitive attribute, no longer over their "
        "intersections"
    ),
}
#: At most this many lines; the rest are counted.
MAX_LINES = 40


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _walk(path: str, old: Any, new: Any, out: list[str]) -> None:
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in list(dict.fromkeys([*old, *new])):
            child = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"{child} added: {_short(new[key])}")
            elif key not in new:
                out.append(f"{child} removed")
            else:
                _walk(child, old[key], new[key], out)
        return
    keyed = _KEYED.get(path)
    if keyed and isinstance(old, list | tuple) and isinstance(new, list | tuple):
        before = {str(i.get(keyed)): i for i in old if isinstance(i, Mapping)}
        after = {str(i.get(keyed)): i for i in new if isinstance(i, Mapping)}
        for key in list(dict.fromkeys([*before, *after])):
            child = f"{path}[{key}]"
            if key not in before:
                out.append(f"{child} added")
            elif key not in after:
                out.append(f"{child} removed")
            else:
                _walk(child, before[key], after[key], out)
        return
    if path == "soa" and isinstance(old, list | tuple) and isinstance(new, list | tuple):
        def label(d: Mapping[str, Any]) -> str:
            systems = d.get("systems")
            return f"{d.get('control')}" + (f" ({', '.join(systems)})" if systems else "")

        before = {label(d): d for d in old if isinstance(d, Mapping)}
        after = {label(d): d for d in new if isinstance(d, Mapping)}
        for key in list(dict.fromkeys([*before, *after])):
            if key not in before:
                out.append(f"soa[{key}] added")
            elif key not in after:
                out.append(f"soa[{key}] removed")
            elif before[key] != after[key]:
                _walk(f"soa[{key}]", before[key], after[key], out)
        return
    loosens = LOOSENINGS.get((path.rsplit(".", 1)[-1], str(old), str(new)))
    note = f" ({loosens})" if loosens else ""
    out.append(f"{path}: {_short(old)} -> {_short(new)}{note}")


def config_changes(
    old: AimsConfig,
    new: AimsConfig,
    *,
    old_keys: Mapping[str, str] | None = None,
    new_keys: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per change from ``old`` to ``new`` (``path: before -> after``, ``... added``,
    ``... removed``); ``*_keys`` map each key file path to its key id (content changes)."""
    out: list[str] = []
    _walk("", old.model_dump(mode="json"), new.model_dump(mode="json"), out)
    before, after = dict(old_keys or {}), dict(new_keys or {})
    for path in sorted(set(before) | set(after)):
        if path in before and path in after and before[path] != after[path]:
            out.append(f"key file {path}: key {before[path]} -> {after[path]}")
    if len(out) > MAX_LINES:
        out = [*out[:MAX_LINES], f"... and {len(out) - MAX_LINES} more changes"]
    return out
