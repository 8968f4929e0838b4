"""The one record builder that fills in the catalog's controls: the evidence of a kind speaks
to the entries the catalog names for that kind, never to a list written in code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aims_mlops.catalog._catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord, new_record


def catalog_record(
    *, kind: str, controls_of: str | None = None, also: Iterable[str] = (), **fields: Any
) -> EvidenceRecord:
    """:func:`aims_mlops.evidence.new_record` of ``kind`` with ``controls`` from
    :meth:`Catalog.controls_for_kind` (``fields``: every other field of ``new_record``).

    ``controls_of``: the kind whose controls the record speaks to when that is not its own (an
    ``error`` record speaks to the controls of the kind whose capture failed); ``also``: entries
    the catalog derives from such records besides (a configuration approval also serves the
    entries whose rule derives ``changes_approved``)."""
    controls = (*load_catalog().controls_for_kind(controls_of or kind), *also)
    return new_record(kind=kind, controls=controls, **fields)


__all__ = ["catalog_record"]
