"""The one record builder that fills in the catalog's controls: the evidence of a kind speaks
to the entries the catalog names for that kind, never to a list written in code."""

from __future__ import annotations

from typing import Any

from aims_mlops.catalog._catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord, new_record


def catalog_record(*, kind: str, **fields: Any) -> EvidenceRecord:
    """:func:`aims_mlops.evidence.new_record` of ``kind`` with ``controls`` from
    :meth:`Catalog.controls_for_kind` (``fields``: every other field of ``new_record``)."""
    return new_record(kind=kind, controls=load_catalog().controls_for_kind(kind), **fields)


__all__ = ["catalog_record"]
