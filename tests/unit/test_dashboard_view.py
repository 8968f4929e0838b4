"""The dashboard's pure view functions (``views/_dashboard_view.py``): every fragment the widget
shows, computed from the view-model without ipywidgets, a kernel or a browser. Expected values
come from the engine's result and the view-model, not from the functions under test."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from aims_mlops import AimsError
from aims_mlops.config import parse_config
from aims_mlops.engine import Assessment
from aims_mlops.engine._results import STATUSES
from aims_mlops.evidence import EvidenceRecord
from aims_mlops.views._dashboard_view import (
    APPETITE_EDGE,
    ERROR_NO_SYSTEM,
    PLAIN_EDGE,
    choose_system,
    control_detail_html,
    control_summary_html,
    evidence_summary_html,
    gaps_html,
    header_html,
    heat_cell_view,
    kept_choice,
    kind_options,
    missing_record_html,
    record_html,
    risk_table_html,
    score_label_html,
    score_style,
    status_filter_options,
)
from aims_mlops.views._model import ALL, DashboardModel
from tests.unit import test_view_model as view_model

#: The view-model tests' fixtures: the engine's result on hand-built records, system "credit".
CONFIG = view_model.CONFIG
records = view_model.records
assessment = view_model.assessment
model = view_model.model


def test_the_view_functions_load_no_ipywidgets() -> None:
    code = (
        "import sys, aims_mlops.views._dashboard_view;"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported';"
        "assert 'mlflow' not in sys.modules, 'mlflow imported'"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_header_and_score(model: DashboardModel, assessment: Assessment) -> None:
    header = header_html(model)
    assert "Credit scoring" in header and "(credit)" in header and "Alice" in header
    controls = assessment.systems["credit"].controls
    satisfied = sum(1 for c in controls if c.status == "satisfied")
    label = score_label_html(model)
    assert f"({satisfied} of {model.applicable} applicable satisfied)" in label
    assert [score_style(s) for s in (1.0, 0.0)] == ["success", "danger"]


def test_header_escapes_names(model: DashboardModel) -> None:
    fields = ("name", "system", "owner", "model_label", "evaluated_at", "eu_ai_act")
    hostile = SimpleNamespace(**{f: getattr(model, f) for f in fields})
    hostile.name = "<script>alert(1)</script>"
    assert "<script>" not in header_html(hostile)  # type: ignore[arg-type]
    assert "&lt;script&gt;" in header_html(hostile)


def test_heat_cells_mark_the_appetite_boundary(model: DashboardModel) -> None:
    cells = [cell for row in model.heatmap for cell in row]
    assert len(cells) == 25
    for cell in cells:
        view = heat_cell_view(cell, model.appetite)
        assert view.background == cell.colour
        assert view.border_top == (APPETITE_EDGE if cell.boundary_top else PLAIN_EDGE)
        assert view.border_right == (APPETITE_EDGE if cell.boundary_right else PLAIN_EDGE)
        side = "above" if cell.above_appetite else "within"
        assert view.tooltip.endswith(f"({side} appetite {model.appetite})")
        assert f"{cell.likelihood} × impact {cell.impact} = {cell.score}" in view.tooltip
    assert any(heat_cell_view(c, 6).border_top == APPETITE_EDGE for c in cells)


def test_the_risk_table_lists_every_risk_of_the_system(model: DashboardModel) -> None:
    table = risk_table_html(model)
    assert "<b>R1</b>" in table and "<b>R2</b>" in table and "R3" not in table  # R3: churn
    empty = SimpleNamespace(risks=[])
    assert risk_table_html(empty) == "<i>no risks registered for this system</i>"


def test_status_filter_counts_every_status(model: DashboardModel) -> None:
    options = status_filter_options(model.counts)
    assert options[0] == (f"all ({sum(model.counts.values())})", ALL)
    assert [value for _, value in options[1:]] == list(STATUSES)
    assert kept_choice("failing", options) == "failing"
    assert kept_choice("no-such-status", options) == ALL
    assert kind_options(["fairness"]) == [("all kinds", ALL), ("fairness", "fairness")]


def test_control_rows(model: DashboardModel) -> None:
    group = next(g for g in model.groups if g.id == "A.5")
    row = next(r for r in group.rows if r.control.id == "A.5.4").control
    assert "<b>A.5.4</b>" in control_summary_html(row)
    detail = control_detail_html(row)
    for reason in row.reasons:
        assert reason.replace("<", "&lt;").split("&")[0][:20] in detail
    if row.status not in ("satisfied", "not_applicable") and row.how_to_close:
        assert "How to close" in detail


def test_evidence_rows_and_drill_down(model: DashboardModel, records: list[EvidenceRecord]) -> None:
    failing = records[0]
    row = model.record(failing.id)
    assert row is not None
    assert "<b>fairness</b>" in evidence_summary_html(row)
    drill = record_html(row)
    assert failing.id in drill and failing.content_hash in drill
    assert "organization- or system-level record (no run)" in drill
    assert missing_record_html("<x>") == "<i>record &lt;x&gt; is not among this system's</i>"


def test_gaps_and_the_register(model: DashboardModel) -> None:
    text = gaps_html(model)
    assert f"<b>{len(model.gaps)} gaps</b>, most urgent first" in text
    assert "no open nonconformity" in text


def test_choose_system() -> None:
    config = parse_config(CONFIG)
    assert choose_system("churn", config=config) == "churn"
    assert choose_system(None, config=None, assessed={"only": object()}) == "only"
    with pytest.raises(AimsError) as caught:
        choose_system(None, config=config)
    assert str(caught.value) == ERROR_NO_SYSTEM.format(known="credit, churn")
