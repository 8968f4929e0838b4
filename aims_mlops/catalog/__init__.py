"""The control catalog: what ISO/IEC 42001 asks for, and what evidence satisfies each part.

The catalog lists the 29 management-system requirements of clauses 4-10 and the 38 reference
controls of Annex A, with the standard's ids and short titles, a description in this project's
own words (never the standard's text), and an :class:`EvidenceRule`: the parts that together
satisfy the entry, how fresh the evidence must be, and the exact actions that would close a gap.
It is package data (``iso42001.yaml``), validated when loaded.

A rule is a list of parts (:class:`RulePart`: declared in ``aims.yaml``, captured evidence of a
kind, an attestation, derived from other entries) and an entry is satisfied only when every part
holds. Annex A controls none of whose parts needs an attestation are :meth:`Catalog.automatable`:
captured evidence and ``aims.yaml`` alone can satisfy them.

The catalog is the one source of which evidence kinds serve which entry
(:meth:`Catalog.controls_for_kind`); the kinds themselves are :mod:`aims_mlops.evidence`'s
registry. Crosswalks to other frameworks (NIST AI RMF now) are data files, one per framework
(``crosswalks/<id>.yaml``), each checked against that framework's vocabulary
(``frameworks/<id>.yaml``): :meth:`Catalog.crosswalk`.
"""

from aims_mlops.catalog._catalog import Catalog, CatalogEntry, load_catalog, parse_catalog
from aims_mlops.catalog._crosswalk import Crosswalk, CrosswalkLink, Framework, FrameworkItem
from aims_mlops.catalog._lifecycle import Lifecycle, Phase, load_lifecycle, parse_lifecycle
from aims_mlops.catalog._records import catalog_record
from aims_mlops.catalog._rule import (
    CHECK_REQUIREMENTS,
    CONFIG_CHECKS,
    DEFAULT_FRESH_DAYS,
    DERIVED_CHECKS,
    EvidenceRule,
    RulePart,
)

__all__ = [
    "CHECK_REQUIREMENTS",
    "CONFIG_CHECKS",
    "DEFAULT_FRESH_DAYS",
    "DERIVED_CHECKS",
    "Catalog",
    "CatalogEntry",
    "Crosswalk",
    "CrosswalkLink",
    "EvidenceRule",
    "Framework",
    "FrameworkItem",
    "Lifecycle",
    "Phase",
    "RulePart",
    "catalog_record",
    "load_catalog",
    "load_lifecycle",
    "parse_catalog",
    "parse_lifecycle",
]
