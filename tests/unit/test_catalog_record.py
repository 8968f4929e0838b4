"""One record builder fills in the catalog's controls: collectors build their records with
``catalog_record`` and never write a list of controls themselves."""

from __future__ import annotations

import ast
import datetime as dt
import functools
from pathlib import Path

import aims_mlops.collectors as collectors
from aims_mlops.capture._emit import error_record
from aims_mlops.catalog import catalog_record, load_catalog
from aims_mlops.eu_ai_act import incident_record, report_record
from aims_mlops.judgement import GateResult, deployment_record
from aims_mlops.reports._register import NcCandidate, opening_record

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


PACKAGE = COLLECTORS.parent
BUILDER = PACKAGE / "catalog" / "_records.py"


def _calls(node: ast.AST) -> set[str]:
    """The names of every function called in ``node`` (``f(...)`` and ``obj.f(...)``)."""
    return {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name | ast.Attribute)
    }


def _reads_controls_for_kind(
    expr: ast.AST, lookups: set[str], assigned: dict[str, ast.AST], seen: frozenset[str]
) -> bool:
    """Whether ``expr`` asks the catalog for a kind's controls: directly, through a function
    of its module that does, or through a local name assigned from such an expression."""
    if _calls(expr) & ({"controls_for_kind"} | lookups):
        return True
    names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} & set(assigned) - seen
    return any(
        _reads_controls_for_kind(assigned[name], lookups, assigned, seen | {name})
        for name in names
    )


@functools.cache
def _functions(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _lookups(paths: list[Path]) -> set[str]:
    """The functions of ``paths`` that (transitively, across modules) ask for a kind's controls."""
    calls = [(f.name, _calls(f)) for path in paths if path != BUILDER for f in _functions(path)]
    lookups: set[str] = set()
    while True:
        more = {name for name, called in calls if called & ({"controls_for_kind"} | lookups)}
        if more <= lookups:
            return lookups
        lookups |= more


def _builds_a_record(call: ast.Call) -> bool:
    name = call.func.id if isinstance(call.func, ast.Name) else ""
    return name in {"new_record", "catalog_record"} or name.endswith("_record")


def _filled_lines(path: Path, lookups: set[str] | None = None) -> list[int]:
    """The lines of ``path`` where a record's ``controls`` come from a kind's controls."""
    lookups = _lookups([path]) if lookups is None else lookups
    lines = []
    for function in _functions(path):
        assigned = {
            target.id: node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and _builds_a_record(node)):
                continue
            if any(
                k.arg == "controls"
                and _reads_controls_for_kind(k.value, lookups, assigned, frozenset())
                for k in node.keywords
            ):
                lines.append(node.lineno)
    return lines


def test_no_module_but_the_builder_fills_a_record_with_a_kinds_controls() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    lookups = _lookups(paths)
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in paths
        if path != BUILDER
        for line in _filled_lines(path, lookups)
    ]
    assert offenders == []


def test_the_check_sees_a_record_filled_through_a_helper_or_a_local(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "def _controls(kind):\n"
        "    return load_catalog().controls_for_kind(kind)\n"
        "def _via():\n"
        "    return _controls('x')\n"
        "def a():\n"
        "    return new_record(kind='x', controls=_via())\n"
        "def b(catalog):\n"
        "    found = list(catalog.controls_for_kind('x'))\n"
        "    return new_record(kind='x', controls=found)\n"
        "def c(control):\n"
        "    return new_record(kind='attestation', controls=[control])\n"
        "def d():\n"
        "    return incident_record(system='s', controls=_controls('incident'))\n",
        encoding="utf-8",
    )
    assert _filled_lines(module) == [6, 9, 13]


def test_an_error_record_speaks_to_the_controls_of_the_kind_that_failed() -> None:
    record = error_record("fairness", ValueError("boom"), system="s")
    assert record.kind == "error"
    assert record.controls == tuple(sorted(load_catalog().controls_for_kind("fairness"))) != ()


def test_a_record_with_also_speaks_to_those_entries_too() -> None:
    record = catalog_record(
        kind="fairness", also=("6.3",), system="s", outcome="info", collector="test"
    )
    assert record.controls == tuple(sorted({*load_catalog().controls_for_kind("fairness"), "6.3"}))


def test_records_built_outside_collectors_speak_to_the_catalogs_controls() -> None:
    """The same controls as when each builder asked the catalog itself (sorted, as recorded)."""
    day = dt.date(2026, 11, 1)
    incident = incident_record(
        system="s", kind="death", severity="high", summary="s", aware_on=day, today=day
    )
    gate = GateResult(system="s", passed=True, failures=(), checked=(), score=1.0)
    deployment = deployment_record(
        gate, model_name="m", model_version="1", run_id=None, alias="champion",
        action="promoted", approver=None, trigger="cli",
    )  # fmt: skip
    opening = opening_record(
        NcCandidate(entry="A.6.2.4", system="s", source="failing", reasons=("r",)),
        now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    for record in (incident, report_record(incident, on=day), deployment, opening):
        expected = tuple(sorted(set(load_catalog().controls_for_kind(record.kind))))
        assert record.controls == expected != (), record.kind
