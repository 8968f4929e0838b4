"""The AI system inventory (pure): what the tracking server holds — registered models and
experiments with logged models — matched to the systems aims.yaml declares.

A registered model no system binds (``systems[].mlflow.registered_model``, in scope or out of it
with its ``scope_reason``) is *undeclared* ("shadow" AI): clause 4.3 is not satisfied while one
exists, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aims_mlops.evidence import EXPERIMENT, REGISTERED_MODEL, Inventory

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig

@dataclass(frozen=True, kw_only=True)
class InventoryRow:
    """One inventory line: the thing found and the system that declares it (or none)."""

    kind: str
    name: str
    count: int
    declared: bool
    system: str | None
    in_scope: bool | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "count": self.count,
            "declared": self.declared,
            "system": self.system,
            "in_scope": self.in_scope,
            "reason": self.reason,
        }


def inventory_rows(config: AimsConfig, inventory: Inventory) -> tuple[InventoryRow, ...]:
    """Each thing found, with the system declaring it (``declared: False`` when none does); then
    each declared binding the tracking server does not hold (count 0)."""
    rows: list[InventoryRow] = []
    seen: set[tuple[str, str]] = set()
    for item in inventory.found:
        sid = (
            config.system_for_model(item.name)
            if item.kind == REGISTERED_MODEL
            else config.system_for_experiment(item.name)
        )
        system = config.system(sid) if sid is not None else None
        seen.add((item.kind, item.name))
        rows.append(
            InventoryRow(
                kind=item.kind,
                name=item.name,
                count=item.count,
                declared=system is not None,
                system=sid,
                in_scope=system.in_scope if system is not None else None,
                reason=system.scope_reason if system is not None and not system.in_scope else None,
            )
        )
    for system in config.systems:
        for kind, name in (
            (REGISTERED_MODEL, system.mlflow.registered_model),
            (EXPERIMENT, system.mlflow.experiment),
        ):
            if name and (kind, name) not in seen:
                rows.append(
                    InventoryRow(
                        kind=kind,
                        name=name,
                        count=0,
                        declared=True,
                        system=system.id,
                        in_scope=system.in_scope,
                        reason=None if system.in_scope else system.scope_reason,
                    )
                )
    return tuple(rows)


def undeclared_models(config: AimsConfig, names: Iterable[str]) -> list[str]:
    """The registered models no system of ``config`` binds, sorted."""
    return sorted(n for n in set(names) if config.system_for_model(n) is None)
