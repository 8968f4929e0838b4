"""Suppliers found in lineage, for the supplier register: the engine's one answer
(:mod:`aims_mlops.engine._suppliers`), which A.10.2 / A.10.3 and ``aims validate`` read too."""

from __future__ import annotations

from aims_mlops.engine._suppliers import Supplier, find_suppliers

__all__ = ["Supplier", "find_suppliers"]
