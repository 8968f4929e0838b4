"""The one presentation module: palette, labels, heat bands, percentages, summary texts."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aims_mlops import presentation as p
from aims_mlops.catalog import load_catalog
from aims_mlops.config import example_config_text, parse_config
from aims_mlops.engine import STATUSES, SystemAssessment, assess

PACKAGE = Path(__file__).resolve().parents[2] / "aims_mlops"
#: Code that shows verdicts: it must take colours, labels and kind -> control answers from the
#: presentation module and the catalog, never keep its own.
VIEW_CODE = [
    *sorted((PACKAGE / "reports").glob("*.py")),
    *sorted((PACKAGE / "views").glob("*.py")),
    *sorted((PACKAGE / "cli").glob("*.py")),
    PACKAGE / "integrations" / "ipython.py",
    PACKAGE / "demo.py",
]


@pytest.fixture(scope="module")
def sa() -> SystemAssessment:
    config = parse_config(example_config_text())
    system = config.in_scope_systems[0].id
    result = assess(
        load_catalog(),
        config,
        [],
        current_models={system: None},
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return result.systems[system]


def test_every_status_has_one_label_and_one_swatch() -> None:
    assert set(p.STATUS_LABELS) == set(p.STATUS_COLOURS) == set(STATUSES)
    assert p.status_label("not_applicable") == "not applicable"
    assert p.status_label("someday") == "someday"  # unknown: shown as is
    assert p.status_swatch("someday") == p.UNKNOWN_SWATCH
    assert p.outcome_swatch("pass") == p.STATUS_COLOURS["satisfied"]
    assert p.STATUS_COLOURS["satisfied"].background == p.GOOD
    assert p.STATUS_COLOURS["failing"].background == p.BAD


def test_heat_bands_and_score_colours() -> None:
    assert [p.heat_band(s, 6) for s in (1, 6, 7, 15, 16, 25)] == [
        "within", "within", "above", "above", "high", "high",
    ]  # fmt: skip
    assert set(p.BAND_COLOURS) == set(p.HEAT_BANDS) == set(p.BAND_LABELS)
    assert p.score_colour(0.8) == p.GOOD and p.score_colour(0.5) == p.WARNING
    assert p.score_colour(0.49) == p.BAD
    assert p.appetite_colour(True) == p.BAD and p.appetite_colour(False) == p.GOOD


def test_percent_keeps_one_decimal() -> None:
    assert p.percent(0.725) == "72.5 %"
    assert p.percent(199 / 200) == "99.5 %"  # whole numbers would round it up to 100
    assert p.percent(0.375, digits=0) == "38 %"


def test_summary_text_lists_the_first_gaps_with_owners(sa: SystemAssessment) -> None:
    text = p.summary_text(sa, appetite=6, records=0, evaluated_at="2026-12-01T00:00:00Z")
    lines = text.splitlines()
    assert lines[0] == f"{sa.name} ({sa.system})"
    assert lines[1] == f"owner: {sa.owner}"
    assert lines[2] == "model: " + p.NO_CURRENT_MODEL.format(system=sa.system)
    assert "--promote" in lines[2]
    assert lines[3].startswith(f"conformity: {p.percent(sa.score)} (")
    counts = sa.counts()
    assert lines[4] == "status: " + " · ".join(
        f"{p.status_label(s)} {counts[s]}" for s in STATUSES
    )
    assert f"gaps: {len(sa.gaps)} (first {p.SUMMARY_GAPS})" in lines
    for gap in sa.gaps[: p.SUMMARY_GAPS]:
        assert f"  {gap.control} {p.status_label(gap.status)} — owner {gap.owner}" in lines
    assert sum(" — owner " in line for line in lines) == p.SUMMARY_GAPS
    above = sa.risks_above_appetite
    assert above, "the example register has risks above its appetite"
    for risk in above:
        assert f"  {risk.id} {risk.category}: {p.risk_movement(risk)}" in lines
    assert lines[-1] == "evidence records: 0 · evaluated 2026-12-01T00:00:00Z"


def test_listing_text_lists_every_control_and_risk(sa: SystemAssessment) -> None:
    text = p.listing_text(sa)
    lines = text.splitlines()
    assert lines[:5] == p.summary_text(sa, appetite=6).splitlines()[:5]  # one header
    for control in sa.controls:
        assert any(line.split()[-len(control.title.split()) :] == control.title.split()
                   and control.id in line.split() for line in lines), control.id  # fmt: skip
    for risk in sa.risks:
        assert f"  {risk.id} {risk.category}: {p.risk_movement(risk)} · {p.risk_verdict(risk)}" in (
            lines
        )
    assert f"  … and {len(sa.gaps) - p.LISTING_GAPS} more (--format json lists all)" in lines


def test_status_lines() -> None:
    rows = [
        {"system": "credit", "score": 0.5, "risks_above_appetite": 1, "gaps": 3},
        {"system": "churn-model", "score": 1.0, "risks_above_appetite": 0, "gaps": 0},
    ]
    assert p.status_lines(rows).splitlines() == [
        "credit       score  50.0 %  risks above appetite 1  gaps 3",
        "churn-model  score 100.0 %  risks above appetite 0  gaps 0",
    ]
    assert p.status_lines([]) == "no AI systems in scope"


def test_palette_is_defined_once() -> None:
    """No colour of the palette is spelled out anywhere else in the package."""
    colours = {s.background.lower() for s in p.STATUS_COLOURS.values()}
    colours |= {s.background.lower() for s in p.OUTCOME_COLOURS.values()}
    colours |= {c.lower() for c in p.BAND_COLOURS.values()}
    # the reports' former palette, which disagreed
    colours |= {"#2e7d4f", "#c0392b", "#d68910", "#7f8c8d", "#aab7c4", "#f6d5d1", "#e4f2e3"}
    home = PACKAGE / "presentation" / "_style.py"
    for path in PACKAGE.rglob("*.py"):
        if path == home:
            continue
        found = colours & {m.lower() for m in re.findall(r"#[0-9a-fA-F]{6}\b", path.read_text())}
        assert not found, f"{path.relative_to(PACKAGE)} spells out palette colours {found}"


CONTROL_ID = re.compile(r"\bA\.\d+\.\d+\b")


def _code_strings(path: Path) -> list[str]:
    """String literals of a module, docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


@pytest.mark.parametrize("path", VIEW_CODE, ids=lambda path: path.name)
def test_views_keep_no_control_ids(path: Path) -> None:
    """Which controls a kind of evidence serves is the catalog's answer, asked, never copied."""
    allowed = {"demo.py": {"A.2.2"}}  # the demo attests to its sample AI policy
    found = {m for s in _code_strings(path) for m in CONTROL_ID.findall(s)}
    assert found <= allowed.get(path.name, set()), f"{path.name}: {sorted(found)}"
