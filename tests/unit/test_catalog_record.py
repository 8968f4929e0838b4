"""One record builder fills in the catalog's controls: collectors build their records with
``catalog_record`` and never write a list of controls themselves."""

from __future__ import annotations

import ast
from pathlib import Path

import aims_mlops.collectors as collectors
from aims_mlops.catalog import catalog_record, load_catalog

COLLECTORS = Path(collectors.__file__).parent


def test_the_record_speaks_to_the_controls_the_catalog_names() -> None:
    for kind in ("data_quality", "fairness", "monitoring", "performance"):
        record = catalog_record(kind=kind, system="s", outcome="info", collector="test")
        assert record.controls == tuple(load_catalog().controls_for_kind(kind)) != ()
        assert record.kind == kind


def test_no_collector_builds_a_record_or_names_controls_itself() -> None:
    offenders = []
    for path in sorted(COLLECTORS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            if name == "new_record" or (
                name == "catalog_record" and any(k.arg == "controls" for k in node.keywords)
            ):
                offenders.append(f"{path.relative_to(COLLECTORS)}:{node.lineno}")
    assert offenders == []
