"""The control catalog: what ISO/IEC 42001 asks for, and what evidence satisfies each part.

The catalog lists the 29 management-system requirements of clauses 4-10 and the 38 reference
controls of Annex A, with the standard's ids and short titles, a description in this project's
own words (never the standard's text), and an
:class:`EvidenceRule`: the evidence kinds, ``aims.yaml`` declaration, derived entries and/or
attestation that together satisfy the entry, how fresh the evidence must be, and the exact action
that would close a gap. It is package data (``iso42001.yaml``), validated when loaded.

Any one way a rule names satisfies it (evidence kinds, a config declaration, derived entries,
an attestation); automated evidence that says no is never overridden by an attestation. Annex A
controls with a way other than attestation are :meth:`Catalog.automatable`: captured evidence
and ``aims.yaml`` alone can satisfy them.

The catalog is the one source of which evidence kinds serve which entry
(:meth:`Catalog.controls_for_kind`); the kinds themselves are :mod:`aims_mlops.evidence`'s
registry. Crosswalks to other frameworks (NIST AI RMF now) are data files, one per framework
(``crosswalks/<id>.yaml``), each checked against that framework's vocabulary
(``frameworks/<id>.yaml``): :meth:`Catalog.crosswalk`.
"""

from aims_mlops.catalog._catalog import (
    CONFIG_CHECKS,
    DEFAULT_FRESH_DAYS,
    Catalog,
    CatalogEntry,
    EvidenceRule,
    load_catalog,
    parse_catalog,
)
from aims_mlops.catalog._crosswalk import Crosswalk, CrosswalkLink, Framework, FrameworkItem

__all__ = [
    "CONFIG_CHECKS",
    "DEFAULT_FRESH_DAYS",
    "Catalog",
    "CatalogEntry",
    "Crosswalk",
    "CrosswalkLink",
    "EvidenceRule",
    "Framework",
    "FrameworkItem",
    "load_catalog",
    "parse_catalog",
]
