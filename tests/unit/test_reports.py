"""Reports from pure inputs: config text, records built with ``new_record``, the real engine."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aims_mlops.catalog import load_catalog
from aims_mlops.config import example_config_text, parse_config
from aims_mlops.engine import CurrentModel, assess, soa_rows
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.judgement import Judgement

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SYSTEM = "income-classifier"
RUN = "5f1c0c5e8f3a4d3f9a1b2c3d4e5f6a7b"
MALICIOUS = '<script>alert("x")</script> & <b>Co</b>'


def _at(days_ago: float, now: datetime = NOW) -> str:
    return (now - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")


FAIRNESS_GROUPS: list[list[object]] = [
    ["Male", "White", 19174, 0.262, 0.71, 0.09, 0.83],
    ["Female", "White", 8642, 0.128, 0.62, 0.03, 0.92],
    ["Male", "Black", 1569, 0.173, 0.66, 0.05, 0.88],
    ["Female", "Black", 1555, 0.078, 0.55, 0.02, 0.95],
    ["Male", "Asian-Pac-Islander", 693, 0.301, 0.74, 0.11, 0.81],
    ["Female", "Asian-Pac-Islander", 346, 0.147, 0.6, 0.04, 0.9],
]
DQ_CHECKS: list[dict[str, object]] = [
    {
        "type": "expect_table_row_count_to_be_between",
        "kwargs": {"min_value": 1000, "max_value": 10000000},
        "success": True,
        "unexpected_count": None,
        "unexpected_percent": None,
        "reason": "32561 rows",
    },
    {
        "type": "expect_column_values_to_not_be_null",
        "kwargs": {"column": "age"},
        "success": True,
        "unexpected_count": 0,
        "unexpected_percent": 0.0,
        "reason": "no nulls",
    },
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "age", "min_value": 17, "max_value": 90},
        "success": False,
        "unexpected_count": 43,
        "unexpected_percent": 0.132,
        "reason": "43 of 32561 values (0.13 %) outside 17..90",
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "sex", "value_set": ["Male", "Female"]},
        "success": True,
        "unexpected_count": 0,
        "unexpected_percent": 0.0,
        "reason": "every value in the set",
    },
]


def build_records(
    *, system: str = SYSTEM, run_id: str = RUN, now: datetime = NOW
) -> list[EvidenceRecord]:
    """A realistic evidence set for the example system (and the organization), collected
    relative to ``now`` and about run ``run_id`` (model version 3)."""
    sub = Subject(
        run_id=run_id,
        model_name="income-classifier",
        model_version="3",
        dataset_digests=("a1b2c3d4",),
    )

    def rec(kind: str, days: float, **kw: object) -> EvidenceRecord:
        kw.setdefault("outcome", "pass")
        kw.setdefault("subject", sub)
        return new_record(
            kind=kind,
            system=kw.pop("system", system),
            collector="test",
            collected_at=_at(days, now),
            **kw,
        )  # type: ignore[arg-type]

    dpd = 0.301 - 0.078
    return [
        rec(
            "lineage.datasets",
            2,
            controls=["A.4.3", "A.7.2", "A.7.3", "A.7.5"],
            details={
                "datasets": [
                    {
                        "name": "adult-train",
                        "digest": "a1b2c3d4",
                        "sha256": "9" * 64,
                        "context": "training",
                        "num_rows": 32561,
                        "source": {"uri": "aims_mlops/data/adult.data.gz"},
                    },
                    {
                        "name": "adult-test",
                        "digest": "e5f6a7b8",
                        "sha256": "8" * 64,
                        "context": "testing",
                        "num_rows": 16281,
                        "source": None,
                    },
                ]
            },
        ),
        rec(
            "lineage.code",
            2,
            controls=["A.6.2.3", "A.7.6"],
            details={
                "git": {
                    "commit": "0123456789abcdef0123456789abcdef01234567",
                    "branch": "main",
                    "remote_url": "https://git.example.test/credit/models.git",
                    "dirty": False,
                },
                "source_name": "train.py",
            },
        ),
        rec(
            "lineage.params",
            2,
            controls=["A.6.2.3", "A.6.2.8"],
            details={"params_total": 12, "params_sha256": "ab" * 32},
        ),
        rec(
            "lineage.environment",
            2,
            controls=["A.4.4"],
            details={
                "python_version": "3.11.9",
                "platform": "Linux-6.1-x86_64",
                "packages": {"scikit-learn": "1.9.0", "mlflow": "3.17.2", "fairlearn": None},
                "distributions_sha256": "cd" * 32,
            },
        ),
        rec(
            "lineage.compute",
            2,
            controls=["A.4.5"],
            details={"hostname": "trainer-1", "cpu_count": 2},
        ),
        rec(
            "lineage.model",
            2,
            controls=["A.7.5"],
            details={
                "registered_versions": [{"name": "income-classifier", "version": "3"}],
                "logged_models": [],
            },
        ),
        rec(
            "data_quality",
            2,
            outcome="fail",
            controls=["A.7.4", "A.6.2.4"],
            metrics={"success_percent": 75.0, "evaluated_expectations": 4.0},
            details={"dataset": "adult-train", "dataset_digest": "a1b2c3d4", "checks": DQ_CHECKS},
        ),
        rec(
            "fairness",
            1,
            outcome="fail",
            controls=["A.5.4", "A.6.2.4"],
            metrics={"demographic_parity_difference": dpd, "equalized_odds_difference": 0.09},
            details={
                "sensitive_features": ["sex", "race"],
                "group_table_columns": [
                    "sex",
                    "race",
                    "count",
                    "selection_rate",
                    "true_positive_rate",
                    "false_positive_rate",
                    "accuracy",
                ],
                "group_table": FAIRNESS_GROUPS,
                "groups": 6,
                "checks": [
                    {
                        "metric": "demographic_parity_difference",
                        "value": dpd,
                        "min": None,
                        "max": 0.1,
                        "passed": False,
                        "reason": f"demographic_parity_difference = {dpd:.3f} > max 0.1",
                    },
                    {
                        "metric": "equalized_odds_difference",
                        "value": 0.09,
                        "min": None,
                        "max": 0.1,
                        "passed": True,
                        "reason": "within",
                    },
                ],
                "warnings": [],
            },
        ),
        rec("performance", 1, controls=["A.6.2.4"], metrics={"accuracy": 0.853, "roc_auc": 0.905}),
        rec(
            "monitoring",
            40,
            controls=["A.6.2.6", "9.1"],
            subject=Subject(),
            metrics={"psi_max": 0.05},
        ),
        rec(
            "attestation",
            100,
            system=None,
            subject=Subject(),
            controls=["A.2.2"],
            details={
                "by": "Jane Doe",
                "document": "https://intranet.example.test/ai-policy.pdf",
                "document_sha256": None,
                "statement": "approved AI policy",
            },
        ),
        rec(
            "attestation",
            300,
            system=None,
            subject=Subject(),
            controls=["5.2"],
            valid_until=_at(-10, now),
            details={
                "by": "CEO",
                "document": "policy.pdf",
                "document_sha256": "1" * 64,
                "statement": "policy signed",
            },
        ),
        rec(
            "attestation",
            30,
            subject=Subject(),
            controls=["A.4.6"],
            details={
                "by": "Head of Credit Modelling",
                "document": "team.md",
                "document_sha256": None,
                "statement": "team roster",
            },
        ),
    ]


def build_judgement(
    *, config_text: str | None = None, records: Sequence[EvidenceRecord] | None = None
) -> Judgement:
    config = parse_config(config_text or example_config_text())
    catalog = load_catalog()
    chosen = list(records) if records is not None else build_records()
    current = {
        SYSTEM: CurrentModel(
            name="income-classifier",
            version="3",
            run_id=RUN,
            dataset_digests=("a1b2c3d4",),
            alias="champion",
        )
    }
    assessment = assess(catalog, config, chosen, current_models=current, now=NOW)
    return Judgement(
        assessment=assessment,
        config=config,
        config_path=Path("aims.yaml"),
        catalog=catalog,
        records=tuple(chosen),
        current_models=current,
        store=None,  # type: ignore[arg-type]  # reports never touch the store
    )


def malicious_config() -> str:
    text = example_config_text()
    text = text.replace("name: Applicant income classifier", f"name: '{MALICIOUS}'")
    text = text.replace(
        "owner: Head of Credit Modelling (credit-models@example-lending.test)",
        'owner: "<img src=x onerror=alert(1)> | Eve"',
    )
    # an owner is a listed person: the hostile name is listed in people: too
    return text.replace(
        "\npeople:\n", '\npeople:\n  - name: "<img src=x onerror=alert(1)> | Eve"\n'
    )


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.text: list[str] = []
        self.rows: list[tuple[dict[str, str | None], list[str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "tr":
            self.stack.append((tag, attributes, []))
        elif self.stack and "data-evidence" in attributes:
            self.stack[-1][2].append(str(attributes["data-evidence"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self.stack:
            _, attributes, evidence = self.stack.pop()
            self.rows.append((attributes, evidence, []))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def with_class(self, tag: str, cls: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()]


def parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def judgement() -> Judgement:
    return build_judgement()


@pytest.fixture(scope="module")
def html(judgement: Judgement) -> str:
    from aims_mlops.reports import render_html

    return render_html(judgement, SYSTEM)


# -------------------------------------------------------------------------------------- HTML
def test_html_lists_every_applicable_control_with_status_and_evidence(
    judgement: Judgement, html: str
) -> None:
    doc = parse(html)
    rows = {
        a["data-control"]: (a["data-status"], evidence)
        for a, evidence, _ in doc.rows
        if "control" in (a.get("class") or "").split()
    }
    expected = {
        c.id: (c.status, list(c.evidence))
        for c in judgement.assessment.systems[SYSTEM].controls
        if c.status != "not_applicable"
    }
    assert len(expected) == 66  # 67 catalog entries, 1 excluded in the example SoA
    assert rows == expected
    excluded = {a["data-control"] for a, _, _ in doc.rows if "excluded" in (a.get("class") or "")}
    assert excluded == {"A.10.4"}  # suppliers (A.10.3) apply: the census data is a third party's
    chips = [a["data-status"] for a in doc.with_class("span", "status")]
    assert chips.count("failing") >= 3


def test_every_evidence_link_resolves_to_an_appendix_entry_with_its_hash(
    judgement: Judgement, html: str
) -> None:
    doc = parse(html)
    ids = {a.get("id") for _, a in doc.tags if a.get("id")}
    links = {a["href"] for t, a in doc.tags if t == "a" and (a.get("href") or "").startswith("#")}
    assert links and all(link[1:] in ids for link in links)
    appendix = {a["data-record"] for a in doc.with_class("tr", "record")}
    expected = {r.id for r in judgement.records if r.system in (SYSTEM, None)}
    assert appendix == expected
    for record in judgement.records:
        assert record.content_hash in html
        assert f'id="ev-{record.id}"' in html
    fairness = next(r for r in judgement.records if r.kind == "fairness")
    assert f'href="#ev-{fairness.id}"' in html
    assert f"#{fairness.content_hash[:12]}" in html


def test_user_text_is_escaped() -> None:
    from aims_mlops.reports import render_html, render_markdown

    j = build_judgement(config_text=malicious_config())
    html = render_html(j, SYSTEM)
    assert "<script" not in html and "<b>Co</b>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt; | Eve" in html
    text = "".join(parse(html).text)
    assert MALICIOUS in text  # readers see the name as written
    md = render_markdown(j, SYSTEM)
    assert "<script" not in md and "<img" not in md
    assert "&lt;img src=x onerror=alert(1)&gt; \\| Eve" in md


def test_html_is_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert "https://" in html  # evidence holds URLs (shown as text) ...
    references = re.findall(r"""(?:src|href|xlink:href)\s*=\s*["']?([^"'\s>]+)""", html)
    assert references and all(ref.startswith("#") for ref in references)  # ... never fetched
    lowered = html.lower()
    for marker in ("<script", "<link", "<img", "<iframe", "@import", "url(http", "url(//"):
        assert marker not in lowered
    assert "@media print" in html and "page-break-before" in html


def test_heatmap_has_25_cells_shaded_above_the_appetite() -> None:
    from aims_mlops.reports import render_html

    for appetite in (6, 12):
        text = example_config_text().replace("appetite: 6", f"appetite: {appetite}")
        j = build_judgement(config_text=text)
        doc = parse(render_html(j, SYSTEM))
        cells = doc.with_class("rect", "cell")
        assert len(cells) == 25
        shaded = {
            (int(a["data-likelihood"]), int(a["data-impact"]))  # type: ignore[arg-type]
            for a in doc.with_class("rect", "above")
        }
        expected = {(lk, im) for lk in range(1, 6) for im in range(1, 6) if lk * im > appetite}
        assert shaded == expected
        assert len(expected) == (13 if appetite == 6 else 6)
        risks = j.assessment.systems[SYSTEM].risks
        assert len(doc.with_class("g", "residual")) == len(risks) == 5
        moved = [
            r
            for r in risks
            if (r.inherent_likelihood, r.impact) != (r.residual_likelihood, r.residual_impact)
        ]
        assert len(doc.with_class("line", "treatment")) == len(moved)
        assert len(doc.with_class("g", "inherent")) == len(moved)


def test_fairness_chart_marks_groups_below_the_parity_limit(html: str) -> None:
    doc = parse(html)
    assert len(doc.with_class("g", "bar")) == len(FAIRNESS_GROUPS)
    top = max(float(g[3]) for g in FAIRNESS_GROUPS)  # type: ignore[arg-type]
    below = [g for g in FAIRNESS_GROUPS if float(g[3]) < top - 0.1]  # type: ignore[arg-type]
    assert len(below) == 4
    assert len(doc.with_class("g", "below")) == len(below)
    assert len(doc.with_class("tr", "below")) == len(below)
    assert len(doc.with_class("line", "threshold")) == 1
    assert "Female, Black" in html and "0.078" in html


def test_data_quality_and_gaps_sections(judgement: Judgement, html: str) -> None:
    doc = parse(html)
    checks = doc.with_class("tr", "check")
    assert [c["data-success"] for c in checks] == [str(c["success"]) for c in DQ_CHECKS]
    assert "43 of 32561 values (0.13 %) outside 17..90" in html
    gaps = judgement.assessment.systems[SYSTEM].gaps
    rows = [a["data-control"] for a in doc.with_class("tr", "gap")]
    assert rows == [g.control for g in gaps] and len(rows) > 10
    assert "<code>aims_mlops.check_data(df, name=&quot;training&quot;)</code>" in html
    assert "Head of Credit Modelling (credit-models@example-lending.test)" in html
    # lineage on the system card
    assert "0123456789abcdef0123456789abcdef01234567" in html and "adult-train" in html
    assert "Python 3.11.9" in html


def test_report_refuses_an_unassessed_system_or_another_model_version(
    judgement: Judgement,
) -> None:
    from aims_mlops import AimsError
    from aims_mlops.reports import ERROR_MODEL_VERSION, ERROR_NOT_ASSESSED, render_html

    with pytest.raises(AimsError) as info:
        render_html(judgement, "marketing-propensity")
    assert str(info.value) == ERROR_NOT_ASSESSED.format(
        system="marketing-propensity", assessed=SYSTEM
    )
    with pytest.raises(AimsError) as info:
        render_html(judgement, SYSTEM, model_version="2")
    assert str(info.value) == ERROR_MODEL_VERSION.format(
        wanted="2", system=SYSTEM, actual="income-classifier version 3"
    )
    assert render_html(judgement, SYSTEM, model_version="3") == render_html(judgement, SYSTEM)


def test_report_without_evidence_says_so() -> None:
    from aims_mlops.reports import render_html, render_markdown

    j = build_judgement(records=[])
    html = render_html(j, SYSTEM)
    assert "No fairness record for this system." in html
    assert "No data-quality record for this system." in html
    assert 'class="chart bars"' not in html
    assert "0 records of this system" in html
    assert "_No fairness record for this system._" in render_markdown(j, SYSTEM)


# ---------------------------------------------------------------------------------- Markdown
def test_markdown_has_every_control_and_linked_evidence(judgement: Judgement) -> None:
    from aims_mlops.reports import render_markdown

    md = render_markdown(judgement, SYSTEM)
    sa = judgement.assessment.systems[SYSTEM]
    labels = {"not_applicable": "not applicable"}
    for control in sa.controls:
        if control.status == "not_applicable":
            continue
        line = next(x for x in md.splitlines() if f'<a id="control-{control.id}"></a>' in x)
        assert f"**{labels.get(control.status, control.status)}**" in line
        for evidence in control.evidence:
            if not evidence.startswith("config:"):
                assert f"(#ev-{evidence})" in line
    for record in judgement.records:
        assert f'<a id="ev-{record.id}"></a>`{record.id}`' in md
        assert record.content_hash in md
    # every table row has as many cells as its header
    tables = re.findall(r"((?:^\|.*\|$\n?)+)", md, flags=re.M)
    for table in tables:
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in table.strip().splitlines()}
        assert len(widths) == 1, table[:200]
    assert "Male, White" in md and "▼" in md and "█" in md


# ------------------------------------------------------------------------------------- xlsx
def test_soa_workbook_round_trips(judgement: Judgement) -> None:
    from openpyxl import load_workbook

    from aims_mlops.reports import soa_workbook

    rows = soa_rows(judgement.assessment)
    book = load_workbook(io.BytesIO(soa_workbook(rows)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:6] == [
        "Control",
        "Title",
        "Objective",
        "Applicable",
        "Justification",
        "Implementation",
    ]
    assert "Linked risks" in header and "Evidence" in header
    assert sheet.max_row == len(rows) + 1 == 39
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:I{len(rows) + 1}"
    assert sheet["A1"].font.b
    assert sheet.column_dimensions["E"].width >= 40
    by_control = {row[0].value: [c.value for c in row] for row in sheet.iter_rows(min_row=2)}
    col = header.index
    config = parse_config(example_config_text())
    for decision in config.soa:
        line = by_control[decision.control]
        assert line[col("Applicable")] == ("Yes" if decision.applicable else "No")
        assert line[col("Justification")] == decision.justification
    r1 = next(r for r in config.risks if r.id == "R1")
    for control in r1.controls:
        assert "R1" in (by_control[control][col("Linked risks")] or "").split("\n")


# -------------------------------------------------------------------------------- readiness
def test_readiness_counts_and_shares(judgement: Judgement) -> None:
    from aims_mlops.reports import readiness_report, readiness_text

    report = readiness_report(judgement)
    catalog = judgement.catalog
    sa = judgement.assessment.systems[SYSTEM]
    expected: dict[str, dict[str, int]] = {}
    for entry in catalog.entries:
        counts = expected.setdefault(entry.group, {})
        status = sa.control(entry.id).status  # one system: each entry counted once
        counts[status] = counts.get(status, 0) + 1
    groups = report["clauses"] + report["annex_a"]
    assert [g["group"] for g in report["clauses"]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert report["annex_a"][0]["group"] == "A.2" and len(report["annex_a"]) == 9
    for row in groups:
        counts = {k: v for k, v in row["counts"].items() if v}
        assert counts == expected[row["group"]]
        applicable = sum(v for k, v in counts.items() if k != "not_applicable")
        satisfied = counts.get("satisfied", 0)
        share = 1.0 if applicable == 0 else round(satisfied / applicable, 4)
        assert row["share_satisfied"] == share
        assert (row["applicable"], row["satisfied"]) == (applicable, satisfied)
    statuses = [c.status for c in sa.controls]
    assert report["satisfied"] == statuses.count("satisfied")
    assert report["applicable"] == len(statuses) - statuses.count("not_applicable")
    assert report["overall"] == round(report["satisfied"] / report["applicable"], 4)
    text = readiness_text(report)
    assert f"{report['overall'] * 100:.1f} % satisfied" in text
    assert text.splitlines()[1].startswith("NOT READY (")  # no internal audit nor review yet
    assert not report["ready"]
    assert {b["id"] for b in report["blockers"]} >= {"9.2.1", "9.3.1"}
    assert f"{report['excluded']} excluded in the Statement of Applicability" in text
    assert "Clauses 4-10:" in text and "Annex A objectives:" in text


def test_readiness_freshness_by_age(judgement: Judgement) -> None:
    from aims_mlops.reports import readiness_report

    fresh = readiness_report(judgement)["freshness"]
    by_kind = {(i["system"], i["kind"]): i for i in fresh["items"]}
    assert len(by_kind) == 13  # 6 lineage, dq, fairness, performance, monitoring, 3 attestations
    assert by_kind[(SYSTEM, "monitoring")]["status"] == "stale"  # 40 days, interval 7
    assert by_kind[(SYSTEM, "monitoring")]["fresh_days"] == 7
    assert by_kind[(None, "attestation 5.2")]["status"] == "expiring"  # valid 10 more days
    assert by_kind[(None, "attestation 5.2")]["expires_at"] == "2026-06-11T12:00:00Z"
    assert by_kind[(None, "attestation A.2.2")]["status"] == "fresh"  # 100 of 365 days
    assert by_kind[(SYSTEM, "fairness")]["fresh_days"] == 90
    assert fresh["counts"] == {"fresh": 11, "expiring": 1, "stale": 1}
    assert fresh["age_distribution"] == {
        "0-7 days": 9,
        "8-30 days": 1,
        "31-90 days": 1,
        "91-365 days": 2,
        "over 365 days": 0,
    }
    # 60 days later: data quality and fairness (90-day limit) are expiring, the policy stale
    later = readiness_report(judgement, now=NOW + timedelta(days=60))["freshness"]
    states = {(i["system"], i["kind"]): i["status"] for i in later["items"]}
    assert states[(SYSTEM, "data_quality")] == states[(SYSTEM, "fairness")] == "expiring"
    assert states[(None, "attestation 5.2")] == "stale"


def test_readiness_remediation_follows_the_engine_with_owners(judgement: Judgement) -> None:
    from aims_mlops.reports import readiness_report

    gaps = readiness_report(judgement)["remediation"]
    engine = judgement.assessment.readiness.gaps
    assert [(g["control"], g["system"]) for g in gaps] == [(g.control, g.system) for g in engine]
    assert [g["rank"] for g in gaps] == list(range(1, len(engine) + 1))
    failing = [g for g in gaps if g["status"] == "failing"]
    assert failing and all(g["priority"] == "failing" for g in failing)
    assert gaps[: len(failing)] == failing
    policy_owner = parse_config(example_config_text()).organization.policy_owner
    assert all(g["owner"] == policy_owner for g in gaps if g["system"] is None)
    assert all(g["how_to_close"] for g in gaps)


# ----------------------------------------------------------------------------- system card
def test_system_card_record_closes_the_documentation_controls(judgement: Judgement) -> None:
    import hashlib

    from aims_mlops.reports import render_html, system_card_record

    sa = judgement.assessment.systems[SYSTEM]
    assert sa.control("A.6.2.7").status == "missing"
    document = render_html(judgement, SYSTEM).encode()
    card = system_card_record(judgement, SYSTEM, document=document, fmt="html")
    card.verify()
    assert card.kind == "system_card" and card.outcome == "pass"
    assert set(card.controls) == {"A.6.2.7", "A.8.2"}
    assert card.details["document_sha256"] == hashlib.sha256(document).hexdigest()
    assert card.subject.model_version == "3" and card.subject.run_id == RUN
    after = build_judgement(records=[*judgement.records, card])
    assert after.assessment.systems[SYSTEM].control("A.6.2.7").status == "satisfied"
    assert after.assessment.systems[SYSTEM].control("A.6.2.7").evidence == (card.id,)


def test_readiness_counts_organization_entries_once_across_systems() -> None:
    from aims_mlops.reports import readiness_report

    second = (
        "  - id: fraud-detector\n"
        "    name: Fraud detector\n"
        "    owner: Head of Fraud\n"
        "    intended_use: Flag card transactions for review.\n"
        "  - id: marketing-propensity\n"
    )
    text = example_config_text().replace("  - id: marketing-propensity\n", second)
    text = text.replace("\npeople:\n", "\npeople:\n  - name: Head of Fraud\n")
    j = build_judgement(config_text=text)
    assert set(j.assessment.systems) == {SYSTEM, "fraud-detector"}
    report = readiness_report(j)
    entries = j.catalog.entries
    organization = sum(1 for e in entries if e.scope == "organization")
    assert sum(sum(g["counts"].values()) for g in report["clauses"] + report["annex_a"]) == (
        organization + 2 * (len(entries) - organization)
    )
    engine = j.assessment.readiness
    assert report["overall"] == engine.overall
    assert round(report["satisfied"] / report["applicable"], 4) == engine.overall
    for row in report["clauses"] + report["annex_a"]:
        applicable, satisfied = row["applicable"], row["satisfied"]
        share = 1.0 if applicable == 0 else round(satisfied / applicable, 4)
        assert share == engine.per_group[row["group"]] == row["share_satisfied"], row["group"]
    fraud_gaps = [g for g in report["remediation"] if g["system"] == "fraud-detector"]
    assert fraud_gaps and all(g["owner"] == "Head of Fraud" for g in fraud_gaps)
    assert report["per_system"] == {s: sa.score for s, sa in j.assessment.systems.items()}


def test_reports_say_the_evidence_is_unsigned_or_name_the_findings(html: str) -> None:
    from dataclasses import replace as replaced
    from html import escape

    from aims_mlops.evidence import IntegrityFinding
    from aims_mlops.evidence._trust import NOTE_UNSIGNED
    from aims_mlops.reports import render_markdown

    assert escape(f"integrity: {NOTE_UNSIGNED}") in html
    finding = IntegrityFinding(record_id="forged-1", why="it is not signed", system=SYSTEM)
    flagged = replaced(build_judgement(), integrity_findings=(finding,))
    markdown = render_markdown(flagged, SYSTEM)
    assert "record forged-1 failed verification: it is not signed" in markdown
    assert "evidence is unsigned" in markdown


def test_the_report_shows_the_configuration_lines_commands_as_code_and_escaped() -> None:
    from dataclasses import replace as replaced

    from aims_mlops.judgement import ConfigurationState
    from aims_mlops.judgement._configuration import NOTE_DRAFT_NO_APPROVAL
    from aims_mlops.reports import render_html

    state = ConfigurationState(
        draft=True,
        draft_reason=NOTE_DRAFT_NO_APPROVAL,
        unapproved_changes=("owner: <script>alert(1)</script>",),
    )
    html = render_html(replaced(build_judgement(), configuration=state), SYSTEM)
    assert "<code>aims config approve --by NAME --key FILE</code>" in html
    assert "`aims config approve" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
