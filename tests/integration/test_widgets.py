"""The dashboard and portfolio widgets on a real MLflow evidence store (no browser).

Evidence is written through the real capture path (``aims_mlops.attest``, ``capture.emit``) to
a fresh sqlite store; the widgets are built, clicked and read back. Expected figures come from
the engine through the public API (``aims_mlops.summary`` / ``aims_mlops.status``), not from the
view code.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest

import aims_mlops
from aims_mlops.capture import emit, get_session, reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.integrations._widgets import dashboard, portfolio
from aims_mlops.views import PAGE_SIZE, Dashboard, Portfolio

pytestmark = pytest.mark.slow

CONFIG = """
version: 1
organization: {name: Test Org, aims_scope: Credit and churn models, policy_owner: CRO}
risk_criteria: {appetite: 6}
store: {evidence_experiment: aims-evidence-test}
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
"""
FILLERS = 24


def fairness_record(outcome: str, value: float) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system="credit",
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        metrics={"demographic_parity_difference": value},
        details={
            "checks": [
                {"passed": outcome == "pass", "reason": f"demographic_parity_difference = {value}"}
            ],
            "sensitive_features": ["sex"],
        },
        controls=load_catalog().controls_for_kind("fairness"),
    )


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow sqlite file with its tables created (creating them costs seconds per store)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path, empty_store: Path) -> Iterator[Path]:
    """aims.yaml in a fresh directory and store, with evidence for ``credit``."""
    shutil.copyfile(empty_store, isolated_mlflow.removeprefix("sqlite:///"))
    path = tmp_path / "aims.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    aims_mlops.init(system="credit", config=path, autolog=False)
    try:
        yield path
    finally:
        reset_session()


@pytest.fixture
def evidence(workspace: Path) -> dict[str, EvidenceRecord]:
    import mlflow

    stored = {"fairness": emit(get_session().context(), fairness_record("fail", 0.18))}
    stored["attestation"] = aims_mlops.attest(
        "4.1", by="CRO", document="https://example.test/context", org=True
    )
    # an explicit experiment id: set_experiment() would leak MLflow's active experiment
    experiment_id = mlflow.MlflowClient().create_experiment("credit-training")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        subject = Subject(run_id=run.info.run_id, experiment_id=run.info.experiment_id)
        record = new_record(
            kind="lineage.params",
            system="credit",
            outcome="info",
            collector="test",
            subject=subject,
            controls=["A.6.2.3"],
            details={"params": {"C": "1.0"}},
        )
        stored["run_level"] = emit(get_session().context(), record, run_id=run.info.run_id)
        fillers = [
            new_record(
                kind="lineage.environment",
                system="credit",
                outcome="info",
                collector="test",
                subject=subject,
                controls=["A.4.4"],
                details={"i": i},
            )
            for i in range(FILLERS)
        ]
        # the same store, batched: one MLflow call for the tags of all of them
        get_session().store.write_many(fillers, run_id=run.info.run_id)
    return stored


def chip_counts(html: str) -> dict[str, int]:
    return {label: int(n) for label, n in re.findall(r">([a-z ]+) (\d+)</span>", html)}


def test_dashboard_shows_the_engine_result(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    summary = aims_mlops.summary("credit", config=workspace)
    board = dashboard(config=workspace)  # the bound system
    assert isinstance(board, Dashboard) and board.system == "credit"
    assert isinstance(board.widget, widgets.VBox)
    bundle = board._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == board.widget.model_id
    assert bundle["text/plain"] == repr(board)
    assert repr(board).startswith("Dashboard(system='credit'")

    counts = summary["counts"]
    applicable = sum(counts.values()) - counts["not_applicable"]
    expected_score = f"{round(counts['satisfied'] / applicable, 4) * 100:.1f} %"
    assert f"<b>{expected_score}</b>" in board.score_label.value
    assert (
        f"({counts['satisfied']} of {applicable} applicable satisfied)" in board.score_label.value
    )
    assert board.score_bar.value == pytest.approx(summary["score"])
    assert chip_counts(board.chips.value) == {
        "satisfied": counts["satisfied"],
        "failing": counts["failing"],
        "stale": counts["stale"],
        "missing": counts["missing"],
        "not applicable": counts["not_applicable"],
    }
    assert counts["failing"] >= 1
    assert "Credit scoring" in board.header.value and "Alice" in board.header.value

    # heat map: A.5.4's assessment shows a failing result, so R1 stays at 4x4; R2 at 1x5
    assert "○R1 ●R1" in board.heat_cells[(4, 4)].value
    assert "○R2 ●R2" in board.heat_cells[(1, 5)].value
    assert "R" not in board.heat_cells[(2, 3)].value.replace("<br>", "")
    assert board.heat_cells[(2, 3)].layout.border_top.startswith("3px")  # appetite line
    assert board.heat_cells[(4, 4)].style.background != board.heat_cells[(1, 1)].style.background
    assert "inherent 4×4=16 → residual 4×4=16" in board.risk_list.value

    # gaps: owners and the exact action
    for gap in summary["gaps"][:5]:
        assert gap["owner"] in board.gaps.value
    a624 = next(g for g in summary["gaps"] if g["control"] == "A.6.2.4")
    assert a624["how_to_close"].replace('"', "&quot;") in board.gaps.value


def test_dashboard_has_a_lifecycle_tab(workspace: Path) -> None:
    board = dashboard(config=workspace)
    assert board.tabs.titles[4] == "Lifecycle"
    page = board.lifecycle.value
    assert "From start to certification" in page and "Leadership commitment and roles" in page
    assert "Next actions" in page and "person-days" in page


def test_filters_expand_and_drill_down(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    summary = aims_mlops.summary("credit", config=workspace)
    failing = [c["id"] for c in summary["controls"] if c["status"] == "failing"]
    board = dashboard("credit", config=workspace)

    board.status_filter.value = "failing"
    titles = dict(zip([g.id for g in board.model.groups], board.accordion.titles, strict=True))
    assert titles["A.6"].endswith(f"— {sum(1 for c in failing if c.startswith('A.6.'))} matching")
    rows = board.open_group("A.6")
    assert [r.row.control.id for r in rows] == [c for c in failing if c.startswith("A.6.")]
    assert all(r.row.control.status == "failing" for r in rows)
    assert board.tabs.selected_index == 1

    row = next(r for r in rows if r.row.control.id == "A.6.2.4")
    assert not row.expanded
    row.toggle.click()
    assert row.expanded and row.details is not None
    shown = row.details.children[0].value
    reasons = next(c for c in summary["controls"] if c["id"] == "A.6.2.4")["reasons"]
    for reason in reasons:
        assert reason.replace("'", "&#x27;").replace('"', "&quot;") in shown
    assert evidence["fairness"].id in shown
    assert [b.description for b in row.evidence_buttons] == [evidence["fairness"].id[:12]]

    row.evidence_buttons[0].click()  # drill down to the record
    assert board.tabs.selected_index == 2
    assert evidence["fairness"].content_hash in board.record_detail.value
    assert "demographic_parity_difference" in board.record_detail.value
    row.toggle.click()
    assert not row.expanded

    board.status_filter.value = "all"
    board.text_filter.value = "A.7.4"
    assert [r.row.control.id for r in board.open_group("A.7")] == ["A.7.4"]


def test_evidence_timeline_pages_and_run_record(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    board = dashboard("credit", config=workspace)
    total = FILLERS + 3  # fairness, org attestation, run-level record
    assert board.model.evidence_count() == total
    assert len(board.evidence_rows) == PAGE_SIZE
    assert f"page 1 of 2 ({total} rows)" in board.evidence_pager.label.value
    assert board.evidence_pager.previous.disabled and not board.evidence_pager.next.disabled
    collected = [r.row.collected_at for r in board.evidence_rows]
    assert collected == sorted(collected, reverse=True)

    board.evidence_pager.next.click()
    assert len(board.evidence_rows) == total - PAGE_SIZE
    assert board.evidence_pager.next.disabled

    board.kind_filter.value = "lineage.params"
    assert [r.row.id for r in board.evidence_rows] == [evidence["run_level"].id]
    board.evidence_rows[0].button.click()
    detail = board.record_detail.value
    assert evidence["run_level"].subject.run_id in detail
    assert evidence["run_level"].content_hash in detail
    assert "not an http(s) server" in detail  # sqlite store: no MLflow UI link


def test_attestation_form_stores_and_refreshes(
    workspace: Path, evidence: dict[str, EvidenceRecord], tmp_path: Path
) -> None:
    before = aims_mlops.summary("credit", config=workspace)
    assert next(c for c in before["controls"] if c["id"] == "A.7.3")["status"] != "satisfied"
    board = dashboard("credit", config=workspace)
    # A.4.6 (the people assigned to the system) is one only a person can attest to
    assert "A.4.6" in [value for _, value in board.attest_control.options]

    board.attest_submit.click()  # empty form
    assert "fill in who attests" in board.attest_message.value

    document = tmp_path / "team.md"
    document.write_text(
        "Alice and Bob build and run the credit model; Alice is trained in fairness assessment,\n"
        "Bob in production monitoring (training records kept by HR).\n",
        encoding="utf-8",
    )
    board.attest_control.value = "A.4.6"
    assert "people and competences" in board.attest_document_hint.value
    board.attest_by.value = "Alice"
    board.attest_document.value = str(document)
    board.attest_valid_days.value = 30
    board.attest_submit.click()
    assert "recorded attestation" in board.attest_message.value

    stored = get_session().store.records(system="credit", kinds=["attestation"])
    mine = [r for r in stored if r.controls == ("A.4.6",)]
    assert len(mine) == 1 and mine[0].details["by"] == "Alice"
    assert mine[0].id in board.attest_message.value
    assert mine[0].details["document_sha256"]  # the local document was hashed

    after = aims_mlops.summary("credit", config=workspace)
    assert next(c for c in after["controls"] if c["id"] == "A.4.6")["status"] == "satisfied"
    assert after["score"] > before["score"]
    applicable = sum(after["counts"].values()) - after["counts"]["not_applicable"]
    assert f"<b>{round(after['counts']['satisfied'] / applicable, 4) * 100:.1f} %</b>" in (
        board.score_label.value
    )
    assert chip_counts(board.chips.value)["satisfied"] == after["counts"]["satisfied"]
    assert board.model.evidence_count() == FILLERS + 4


def test_refresh_button_picks_up_new_evidence(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    before = aims_mlops.summary("credit", config=workspace)
    board = dashboard("credit", config=workspace)
    assert board.model.counts == before["counts"]
    a624 = next(r.control for r in board.model.group("A.6").rows if r.control.id == "A.6.2.4")
    assert a624.status == "failing"
    emit(get_session().context(), fairness_record("pass", 0.02))  # fairness fixed
    board.refresh_button.click()
    after = aims_mlops.summary("credit", config=workspace)
    assert board.model.counts == after["counts"]
    assert after["counts"]["failing"] < before["counts"]["failing"]
    assert "refreshed" in board.message.value
    a54 = next(c for c in after["controls"] if c["id"] == "A.5.4")
    assert a54["status"] == "satisfied"
    # R1's treating control is satisfied now: its residual moves to 2x3
    assert "●R1" in board.heat_cells[(2, 3)].value
    assert "●R1" not in board.heat_cells[(4, 4)].value


def test_portfolio_sorts_and_opens_a_dashboard(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    rows = {r["system"]: r for r in aims_mlops.status(config=workspace)}
    board = portfolio(config=workspace)
    assert isinstance(board, Portfolio)
    by_score = sorted(rows.values(), key=lambda r: (r["score"], r["name"].lower()))
    assert board.visible_systems() == [r["system"] for r in by_score]
    board.sort.value = "name"
    assert board.visible_systems() == ["churn", "credit"]
    board.reverse.value = True
    assert board.visible_systems() == ["credit", "churn"]
    board.sort.value = "risks"
    board.reverse.value = False
    assert board.visible_systems()[0] == "credit"  # R1 above appetite
    credit_row = next(r for r in board.rows if r.row.system == "credit")
    assert f"<b>{rows['credit']['gaps']}</b> gaps" in credit_row.summary.value
    assert "1 above appetite" in credit_row.summary.value

    credit_row.button.click()
    assert board.selected == "credit" and board.dashboard is not None
    assert board.detail.children == (board.dashboard.widget,)
    assert board.dashboard.model.score == pytest.approx(rows["credit"]["score"])
    assert credit_row.button.button_style == "info"


def test_read_only_portfolio_opens_dashboards_without_the_attestation_form(
    workspace: Path, evidence: dict[str, EvidenceRecord]
) -> None:
    from aims_mlops.views._dashboard import ERROR_READ_ONLY

    board = portfolio(config=workspace, read_only=True)
    dashboard = board.select("credit")
    assert dashboard.read_only
    assert "Attest" not in dashboard.tabs.titles
    assert len(dashboard.tabs.children) == len(dashboard.tabs.titles) == 5
    assert "Lifecycle" in dashboard.tabs.titles
    before = len(get_session().store.records(system="credit"))
    with pytest.raises(aims_mlops.AimsError) as info:
        dashboard.submit_attestation()
    assert str(info.value) == ERROR_READ_ONLY
    assert len(get_session().store.records(system="credit")) == before
