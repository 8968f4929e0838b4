"""What the tracking server holds, as discovered (registered models and experiments with logged
models): the plain types the store fills and the engine judges (below both: neither imports the
other for it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

REGISTERED_MODEL = "registered_model"
EXPERIMENT = "experiment"


@dataclass(frozen=True, kw_only=True)
class Discovered:
    """One thing found in the tracking server: a registered model or an experiment holding
    logged models; ``created_at`` ISO UTC when known, ``count`` versions or logged models."""

    kind: Literal["registered_model", "experiment"]
    name: str
    created_at: str | None = None
    count: int = 0


@dataclass(frozen=True, kw_only=True)
class Inventory:
    """What discovery found (``complete``: False when the listing could not be finished, which
    the rows and 4.3 say)."""

    found: tuple[Discovered, ...] = ()
    complete: bool = True
    problem: str | None = None

    @property
    def registered_models(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.found if d.kind == REGISTERED_MODEL)

    def before(self, moment: str) -> Inventory:
        """The inventory as of ``moment`` (ISO UTC): what existed by then (unknown age: kept)."""
        return Inventory(
            found=tuple(d for d in self.found if d.created_at is None or d.created_at <= moment),
            complete=self.complete,
            problem=self.problem,
        )
