"""The dashboard and portfolio view-model: pure, no ipywidgets, no MLflow.

Assessments come from the real engine on hand-built records; expected values (heat-map cells,
appetite boundary, pages, sort orders, links) are worked out by hand or recomputed here from the
engine's result, independently of the view-model code.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from aims_mlops import AimsError
from aims_mlops.catalog import load_catalog
from aims_mlops.config import parse_config
from aims_mlops.engine import Assessment, assess
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.presentation import NO_CURRENT_MODEL
from aims_mlops.views import PAGE_SIZE, dashboard_model, portfolio_model
from aims_mlops.views._model import (
    ERROR_SYSTEM_NOT_ASSESSED,
    ERROR_UNKNOWN_SORT,
    DashboardModel,
    mlflow_run_url,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

CONFIG = """
version: 1
organization: {name: Test Org, aims_scope: Credit and churn models, policy_owner: CRO}
risk_criteria: {appetite: 6}
systems:
  - id: credit
    name: Credit scoring
    owner: Alice
    intended_use: Score loan applicants
    sensitive_features: [sex]
    fairness: {demographic_parity_difference: {max: 0.1}}
  - id: churn
    name: Churn
    owner: Bob
    intended_use: Predict customer churn
  - id: vendor
    name: Vendor model
    owner: Carol
    in_scope: false
    scope_reason: hosted by the vendor
risks:
  - id: R1
    system: credit
    category: bias
    description: Unequal outcomes between groups
    likelihood: 4
    impact: 4
    treatment: mitigate
    controls: [A.5.4]
    owner: Alice
    residual: {likelihood: 2, impact: 3}
  - id: R2
    system: credit
    category: privacy
    description: Personal data leaks
    likelihood: 1
    impact: 5
    treatment: accept
    owner: DPO
  - id: R3
    system: churn
    category: other
    description: Churn risk
    likelihood: 2
    impact: 2
    treatment: accept
    owner: Bob
soa:
  - control: A.10.3
    applicable: false
    justification: no suppliers
"""


def ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


def fairness(system: str, outcome: str, value: float, days_ago: float = 1) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system=system,
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        metrics={"demographic_parity_difference": value},
        controls=["A.5.4", "A.6.2.4"],
        collected_at=ts(days_ago),
    )


def filler(system: str | None, count: int, *, start: float = 10.0) -> list[EvidenceRecord]:
    """``count`` info records, one an hour apart, the first ``start`` days ago."""
    return [
        new_record(
            kind="lineage.environment",
            system=system,
            outcome="info",
            collector="test",
            controls=["A.4.4"],
            collected_at=ts(start - i / 24),
            details={"i": i},
        )
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def records() -> list[EvidenceRecord]:
    org = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="test",
        controls=["4.1"],
        details={"by": "CRO", "document": "https://example.test/context", "statement": "ok"},
        collected_at=ts(2),
    )
    return [
        fairness("credit", "fail", 0.18),
        fairness("churn", "pass", 0.01),
        org,
        *filler("credit", 40),
        *filler("churn", 5),
        *filler(None, 19, start=20),
    ]


@pytest.fixture(scope="module")
def assessment(records: list[EvidenceRecord]) -> Assessment:
    config = parse_config(CONFIG)
    return assess(
        load_catalog(), config, records, current_models={"credit": None, "churn": None}, now=NOW
    )


@pytest.fixture(scope="module")
def model(assessment: Assessment, records: list[EvidenceRecord]) -> DashboardModel:
    return dashboard_model(
        assessment=assessment,
        system="credit",
        catalog=load_catalog(),
        config=parse_config(CONFIG),
        records=records,
        tracking_uri="http://mlflow.example.test:5000/",
    )


def test_header_reads_the_engine_result(model: DashboardModel, assessment: Assessment) -> None:
    sa = assessment.systems["credit"]
    statuses = [c.status for c in sa.controls]
    applicable = [s for s in statuses if s != "not_applicable"]
    satisfied = applicable.count("satisfied")
    assert model.name == "Credit scoring"
    assert model.owner == "Alice"
    assert model.model_label == NO_CURRENT_MODEL.format(system="credit")
    assert "--promote" in model.model_label
    assert model.applicable == len(applicable)
    assert model.score_text == f"{round(satisfied / len(applicable), 4) * 100:.1f} %"
    assert model.counts == {
        s: statuses.count(s) for s in ("satisfied", "failing", "stale", "missing", "not_applicable")
    }
    assert model.counts["failing"] >= 1  # the failing fairness record
    assert model.evaluated_at == "2026-12-01T12:00:00Z"


def test_heatmap_places_inherent_and_residual_positions(model: DashboardModel) -> None:
    # R1: A.5.4 fails, so residual = inherent 4x4; R2 (accepted, no residual): 1x5 both
    assert model.heat_cell(4, 4).inherent == ("R1",)
    assert model.heat_cell(4, 4).residual == ("R1",)
    assert model.heat_cell(4, 4).markers == "○R1 ●R1"
    assert model.heat_cell(2, 3).residual == ()  # the declared residual does not apply
    assert model.heat_cell(1, 5).inherent == ("R2",)
    assert model.heat_cell(1, 5).residual == ("R2",)
    assert model.heat_cell(2, 2).markers == ""  # R3 belongs to churn
    occupied = {
        (c.likelihood, c.impact) for row in model.heatmap for c in row if c.inherent or c.residual
    }
    assert occupied == {(4, 4), (1, 5)}
    # layout: likelihood 5 on top, impact 1 on the left
    assert [row[0].likelihood for row in model.heatmap] == [5, 4, 3, 2, 1]
    assert [c.impact for c in model.heatmap[0]] == [1, 2, 3, 4, 5]
    assert all(c.score == c.likelihood * c.impact for row in model.heatmap for c in row)


def test_heatmap_bands_and_appetite_boundary(model: DashboardModel) -> None:
    cells = {(c.likelihood, c.impact): c for row in model.heatmap for c in row}
    within = {k for k, c in cells.items() if c.band == "within"}
    # appetite 6: worked out by hand
    assert within == {(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 1), (2, 2), (2, 3),
                      (3, 1), (3, 2), (4, 1), (5, 1)}  # fmt: skip
    high = {k for k, c in cells.items() if c.band == "high"}
    assert high == {(4, 4), (4, 5), (5, 4), (5, 5)}  # scores 16, 20, 20, 25 (> 15.5)
    top = {k for k, c in cells.items() if c.boundary_top}
    right = {k for k, c in cells.items() if c.boundary_right}
    assert top == {(1, 4), (1, 5), (2, 3), (3, 2)}
    assert right == {(2, 3), (3, 2), (4, 1), (5, 1)}
    assert cells[(4, 4)].colour != cells[(1, 1)].colour


def test_risk_rows_show_the_movement(model: DashboardModel) -> None:
    r1 = next(r for r in model.risks if r.risk.id == "R1")
    assert r1.movement == "inherent 4×4=16 → residual 4×4=16"
    assert r1.risk.above_appetite and r1.verdict == "above appetite 6"
    assert [r.risk.id for r in model.risks_above_appetite] == ["R1"]
    assert [r.risk.id for r in model.risks] == ["R1", "R2"]
    # the row holds the engine's own result: nothing copied
    sa = model.assessment
    assert [r.risk for r in model.risks] == list(sa.risks)
    assert all(a is b for a, b in zip((r.risk for r in model.risks), sa.risks, strict=True))


def test_controls_grouped_in_catalog_order(model: DashboardModel, assessment: Assessment) -> None:
    sa = assessment.systems["credit"]
    catalog = load_catalog()
    assert [g.id for g in model.groups] == list(catalog.groups())
    assert [r.control for g in model.groups for r in g.rows] == list(sa.controls)
    a6 = model.group("A.6")
    assert all(r.control.group == "A.6" for r in a6.rows)
    counts = a6.counts()
    applicable = len(a6.rows) - counts["not_applicable"]
    assert a6.heading().startswith(
        f"A.6 AI system life cycle — {counts['satisfied']}/{applicable} satisfied"
    )
    assert "1 failing" in a6.heading()


def test_status_and_text_filters(model: DashboardModel, assessment: Assessment) -> None:
    sa = assessment.systems["credit"]
    failing = [c.id for c in sa.controls if c.status == "failing"]
    assert [r.control.id for r in model.controls("failing")] == failing
    assert "A.6.2.4" in failing
    assert [r.control.id for r in model.controls("all")] == [c.id for c in sa.controls]
    # text: id, title, owner (case-insensitive)
    assert [r.control.id for r in model.controls(text="a.7.4")] == ["A.7.4"]
    titled = [c.id for c in sa.controls if "quality" in c.title.lower()]
    assert [r.control.id for r in model.controls(text="QUALITY")] == titled
    # organization-scope entries are owned by the policy owner
    org_owned = [c.id for c in sa.controls if c.owner == "CRO"]
    assert org_owned and [r.control.id for r in model.controls(text="cro")] == org_owned
    assert (
        model.group("A.6").heading("failing") == "A.6 AI system life cycle — 1 matching"
    )
    page = model.control_page("A.6", status="failing")
    assert [r.control.id for r in page.rows] == ["A.6.2.4"] and page.pages == 1


def test_evidence_pages_newest_first(model: DashboardModel, records: list[EvidenceRecord]) -> None:
    mine = [r for r in records if r.system in ("credit", None)]
    expected = [r.id for r in sorted(mine, key=lambda r: r.collected_at, reverse=True)]
    assert len(expected) == 61  # 40 credit filler + 19 org filler + fairness + attestation
    assert model.evidence_count() == 61
    pages = [model.evidence_page(n) for n in range(3)]
    assert [len(p.rows) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 11]
    assert [r.id for p in pages for r in p.rows] == expected
    assert pages[0].label == "page 1 of 3 (61 rows)"
    assert model.evidence_page(99).page == 2  # clamped
    assert model.evidence_page(-3).page == 0
    only = model.evidence_page(0, kind="fairness")
    assert only.total == 1 and only.rows[0].kind == "fairness"
    assert model.evidence_kinds == ("attestation", "fairness", "lineage.environment")


def test_record_drill_down(model: DashboardModel, records: list[EvidenceRecord]) -> None:
    failing = records[0]
    row = model.record(failing.id)
    assert row is not None
    assert row.content_hash == failing.compute_hash()
    assert row.metrics == {"demographic_parity_difference": 0.18}
    assert row.controls == ("A.5.4", "A.6.2.4")
    assert row.run_id is None and row.mlflow_url is None
    assert model.record(records[1].id) is None  # churn's record is not shown for credit


def test_run_links_only_for_http_tracking_servers() -> None:
    assert (
        mlflow_run_url("http://host:5000/", "abc", "7")
        == "http://host:5000/#/experiments/7/runs/abc"
    )
    assert mlflow_run_url("https://mlflow.example.test", "abc", None) == (
        "https://mlflow.example.test/#/runs/abc"
    )
    assert mlflow_run_url("sqlite:///mlflow.db", "abc", "7") is None
    assert mlflow_run_url("file:///tmp/mlruns", "abc", "7") is None
    assert mlflow_run_url("http://host:5000", None, "7") is None


def test_run_level_record_gets_a_link_and_bounded_details(assessment: Assessment) -> None:
    record = new_record(
        kind="lineage.params",
        system="credit",
        outcome="info",
        collector="test",
        subject=Subject(run_id="r" * 32, experiment_id="3", model_name="m", model_version="2"),
        details={"params": {f"p{i}": "x" * 50 for i in range(200)}},
        collected_at=ts(0.5),
    )
    model = dashboard_model(
        assessment=assessment,
        system="credit",
        catalog=load_catalog(),
        config=parse_config(CONFIG),
        records=[record],
        tracking_uri="http://127.0.0.1:5000",
    )
    row = model.evidence_page(0).rows[0]
    assert row.mlflow_url == f"http://127.0.0.1:5000/#/experiments/3/runs/{'r' * 32}"
    assert row.model == "m version 2"
    assert len(row.details_preview) < 2_100 and row.details_preview.endswith("is in MLflow)")


def test_gaps_and_attestable_controls(model: DashboardModel, assessment: Assessment) -> None:
    sa = assessment.systems["credit"]
    assert [(g.control, g.owner, g.how_to_close) for g in model.gaps] == [
        (g.control, g.owner, g.how_to_close) for g in sa.gaps
    ]
    assert model.gaps[0].status == "failing"  # failing gaps come first
    catalog = load_catalog()
    excluded = {c.id for c in sa.controls if c.status == "not_applicable"}
    assert "A.10.3" in excluded
    expected = [e.id for e in catalog.entries if e.rule.attestation and e.id not in excluded]
    assert [a.id for a in model.attestable] == expected
    assert next(a for a in model.attestable if a.id == "4.1").scope == "organization"


def test_summary_text(model: DashboardModel) -> None:
    text = model.summary_text()
    lines = text.splitlines()
    assert lines[0] == "Credit scoring (credit)"
    assert f"conformity: {model.score_text}" in text
    assert "  R1 bias: inherent 4×4=16 → residual 4×4=16" in lines
    assert f"gaps: {len(model.gaps)} (first 5)" in lines
    assert model.gaps[0].how_to_close in text


def test_unknown_system_is_an_aims_error(assessment: Assessment) -> None:
    with pytest.raises(AimsError) as caught:
        dashboard_model(
            assessment=assessment,
            system="vendor",
            catalog=load_catalog(),
            config=parse_config(CONFIG),
            records=[],
        )
    assert str(caught.value) == ERROR_SYSTEM_NOT_ASSESSED.format(
        system="vendor", known="churn, credit"
    )


def test_portfolio_rows_and_sorting(assessment: Assessment) -> None:
    portfolio = portfolio_model(assessment)
    systems = assessment.systems
    assert {r.system for r in portfolio.rows} == {"credit", "churn"}  # vendor is out of scope
    by_score = sorted(systems.values(), key=lambda sa: (sa.score, sa.name.lower()))
    assert [r.system for r in portfolio.sorted("score")] == [sa.system for sa in by_score]
    assert [r.system for r in portfolio.sorted("name")] == ["churn", "credit"]
    assert [r.system for r in portfolio.sorted("name", reverse=True)] == ["credit", "churn"]
    assert [r.system for r in portfolio.sorted("risks")] == ["credit", "churn"]
    by_gaps = sorted(systems.values(), key=lambda sa: (-len(sa.gaps), sa.name.lower()))
    assert [r.system for r in portfolio.sorted("gaps")] == [sa.system for sa in by_gaps]
    credit = next(r for r in portfolio.rows if r.system == "credit")
    assert credit.risks_above_appetite == 1 and credit.gaps == len(systems["credit"].gaps)
    assert portfolio.overall == assessment.readiness.overall
    with pytest.raises(AimsError) as caught:
        portfolio.sorted("owner")
    assert str(caught.value) == ERROR_UNKNOWN_SORT.format(
        key="owner", keys="score, risks, gaps, name"
    )


def test_view_model_does_not_import_ipywidgets() -> None:
    code = (
        "import sys, aims_mlops.views as v, aims_mlops.views._model;"
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported';"
        "assert 'mlflow' not in sys.modules, 'mlflow imported'"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr


def test_the_gaps_tab_lists_open_nonconformities(assessment: Assessment) -> None:
    from datetime import UTC, datetime

    from aims_mlops.reports._register import NcCandidate, closing_record, opening_record

    moment = datetime.fromisoformat(assessment.evaluated_at.replace("Z", "+00:00")).astimezone(UTC)
    raised = [
        opening_record(
            NcCandidate(entry=e, system="credit", source="failing", reasons=("x",)), now=moment
        )
        for e in ("A.5.4", "A.7.4")
    ]
    done = closing_record(raised[1], now=moment)
    model = dashboard_model(
        assessment=assessment,
        system="credit",
        catalog=load_catalog(),
        config=parse_config(CONFIG),
        records=[*raised, done],
    )
    assert [(nc["control"], nc["state"]) for nc in model.nonconformities] == [("A.5.4", "open")]
