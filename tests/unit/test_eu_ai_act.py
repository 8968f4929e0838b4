"""EU AI Act: classification in aims.yaml, the crosswalk as data, obligations, incidents, the
Annex IV dossier and the ML bill of materials, all on synthetic evidence (no MLflow)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from aims_mlops.catalog import load_catalog
from aims_mlops.config import ConfigError, example_config_text, parse_config
from aims_mlops.config import _models as M
from aims_mlops.engine import CurrentModel, assess
from aims_mlops.eu_ai_act import (
    DEADLINES,
    IncidentError,
    applies,
    classification,
    incident_record,
    incident_rows,
    obligation_rows,
    report_record,
    reporting_deadline,
    summary_line,
)
from aims_mlops.eu_ai_act import _incidents as I
from aims_mlops.evidence import Subject, new_record
from aims_mlops.reports import _annex_iv as A

SYSTEM = "income-classifier"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RUN = "r" * 32


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    return list(err.value.problems)


def line_of(text: str, needle: str) -> int:
    lines = enumerate(text.splitlines(), 1)
    return next(i for i, line in lines if line.strip().startswith(needle))


# ------------------------------------------------------------------------ classification
def test_the_example_classifies_the_demo_system_as_annex_iii_5b_high_risk() -> None:
    config = parse_config(example_config_text())
    eu = config.system(SYSTEM).eu_ai_act
    assert eu is not None
    assert (eu.role, eu.risk_class, eu.annex_iii, eu.gpai) == ("provider", "high", "5(b)", False)


def test_classification_errors_name_line_and_field() -> None:
    text = example_config_text()
    bad_point = text.replace('annex_iii: "5(b)"', 'annex_iii: "12(x)"')
    assert problems(bad_point) == [
        f"aims.yaml:{line_of(bad_point, 'annex_iii')}: systems[0].eu_ai_act.annex_iii: "
        + M.ERROR_EU_ANNEX_III_FORMAT.format(got="'12(x)'")
    ]
    prohibited = text.replace('risk_class: high\n      annex_iii: "5(b)"', "risk_class: prohibited")
    assert problems(prohibited) == [
        f"aims.yaml:{line_of(prohibited, 'risk_class: prohibited')}: "
        f"systems[0].eu_ai_act.risk_class: {M.ERROR_EU_PROHIBITED_IN_SCOPE}"
    ]
    no_basis = text.replace('      annex_iii: "5(b)"\n', "")
    (problem,) = problems(no_basis)
    assert re.match(r"aims\.yaml:\d+: systems\[0\]\.eu_ai_act\.annex_iii: ", problem)
    assert problem.endswith(M.ERROR_EU_HIGH_WITHOUT_BASIS)
    minimal = text.replace("risk_class: high", "risk_class: minimal")
    assert problems(minimal) == [
        f"aims.yaml:{line_of(minimal, 'annex_iii:')}: systems[0].eu_ai_act.annex_iii: "
        + M.ERROR_EU_ANNEX_III_NOT_HIGH.format(got="'minimal'")
    ]
    role = text.replace("role: provider", "role: maker")
    (problem,) = problems(role)
    assert problem.startswith(
        f"aims.yaml:{line_of(role, 'role: maker')}: systems[0].eu_ai_act.role:"
    )


def test_an_annex_i_product_is_high_risk_without_an_annex_iii_point() -> None:
    text = example_config_text().replace('annex_iii: "5(b)"', 'annex_i: "Regulation (EU) 2017/745"')
    eu = parse_config(text).system(SYSTEM).eu_ai_act
    assert eu is not None and eu.annex_i == "Regulation (EU) 2017/745"


# ------------------------------------------------------------------------ crosswalk
ARTICLES = {f"Art. {n}" for n in (9, 10, 11, 12, 13, 14, 15, 17, 26, 27, 72, 73, 50, 53, 55)}


def test_the_crosswalk_loads_and_every_article_maps_to_catalog_entries() -> None:
    catalog = load_catalog()
    crosswalk = catalog.crosswalk("eu-ai-act")
    ids = {link.item.id for link in crosswalk.links}
    assert ids >= ARTICLES
    for link in crosswalk.links:
        assert link.maps_to and all(target in catalog for target in link.maps_to), link.item.id
        assert link.item.title
        extra = link.item.extra or {}
        assert extra.get("applies_to"), link.item.id
        assert all(dt.date.fromisoformat(d) for d in extra["applies_from"].values()), link.item.id
    framework = crosswalk.framework
    assert "2024/1689" in framework.source and "proposal" in framework.source
    assert framework.last_checked.startswith("2026-12-01")
    art9 = crosswalk.to_dict()["items"][0]
    assert art9["id"] == "Art. 9" and art9["applies_from"]["annex_iii"] == "2026-08-02"
    assert art9["applies_from"]["annex_i"] == "2027-08-02"
    assert art9["proposed"] == {
        "annex_iii": "2027-12-02",
        "annex_i": "2028-08-02",
        "status": "proposal",
    }
    gpai = next(link for link in crosswalk.links if link.item.id == "Art. 53")
    assert (gpai.item.extra or {})["applies_from"] == {"all": "2025-08-02"}
    assert "eu-ai-act" in catalog.describe(catalog.controls_for_kind("incident")[0])["crosswalks"]


@pytest.mark.parametrize(
    ("eu", "expected_in", "expected_out"),
    [
        (
            {"role": "provider", "risk_class": "high", "gpai": False},
            {"Art. 9", "Art. 11", "Art. 17", "Art. 72", "Art. 73"},
            {"Art. 26", "Art. 27", "Art. 50", "Art. 53"},
        ),
        (
            {"role": "deployer", "risk_class": "high", "gpai": False},
            {"Art. 26", "Art. 27"},
            {"Art. 9", "Art. 73"},
        ),
        (
            {"role": "provider", "risk_class": "limited", "gpai": True},
            {"Art. 50", "Art. 53"},
            {"Art. 9", "Art. 55"},
        ),
        ({"role": "distributor", "risk_class": "minimal"}, set(), ARTICLES),
    ],
)
def test_obligations_follow_from_role_and_class(
    eu: dict[str, Any], expected_in: set[str], expected_out: set[str]
) -> None:
    crosswalk = load_catalog().crosswalk("eu-ai-act")
    bound = {link.item.id for link in crosswalk.links if applies(link, eu)}
    assert expected_in <= bound
    assert not (expected_out & bound)
    assert not any(applies(link, None) for link in crosswalk.links)


# ------------------------------------------------------------------------ incidents
@pytest.mark.parametrize(
    ("kind", "days"),
    [
        ("death", 10),
        ("critical-infrastructure", 2),
        ("widespread", 2),
        ("serious-harm", 15),
        ("fundamental-rights", 15),
        ("other", 15),
    ],
)
def test_reporting_deadline_follows_article_73(kind: str, days: int) -> None:
    assert reporting_deadline(kind, dt.date(2026, 11, 1)) == dt.date(2026, 11, 1) + dt.timedelta(
        days=days
    )
    assert DEADLINES[kind].basis.startswith("Art. 73(")


def _incident(kind: str = "death", aware: str = "2026-11-01", **kw: Any) -> Any:
    return incident_record(
        system=SYSTEM,
        kind=kind,
        severity="high",
        summary="an applicant was wrongly refused",
        aware_on=dt.date.fromisoformat(aware),
        today=dt.date(2026, 12, 1),
        **kw,
    )


def test_incident_input_errors_are_verbatim() -> None:
    with pytest.raises(IncidentError) as err:
        _incident(aware="2027-01-01")
    assert str(err.value) == I.ERROR_AWARE_IN_FUTURE.format(aware="2027-01-01", today="2026-12-01")
    with pytest.raises(IncidentError) as err:
        _incident(kind="meteor")
    assert str(err.value) == I.ERROR_INCIDENT_KIND.format(
        got="meteor", known=", ".join(I.INCIDENT_KINDS)
    )
    with pytest.raises(IncidentError) as err:
        _incident(reported_on=dt.date(2026, 10, 1))
    assert str(err.value) == I.ERROR_REPORTED_BEFORE_AWARE.format(
        reported="2026-10-01", aware="2026-11-01"
    )


def _a84(records: list[Any], now: datetime = NOW) -> Any:
    config = parse_config(example_config_text())
    catalog = load_catalog()
    assessment = assess(
        catalog, config, records, current_models={SYSTEM: None}, now=now, systems=[SYSTEM]
    )
    (entry,) = catalog.controls_for_kind("incident")
    # A.8.4 also needs the attested communication process; the incidents are its evidence part
    control = assessment.systems[SYSTEM].control(entry)
    return next(p for p in control.parts if p.kind == "evidence")


def test_an_open_incident_past_its_deadline_fails_a84_and_a_reported_one_does_not() -> None:
    incident = _incident()  # a death known since 1 November: due by 11 November
    assert incident.details["deadline"] == "2026-11-11"
    overdue = _a84([incident])
    assert overdue.status == "failing"
    assert overdue.evidence == (incident.id,)
    assert "deadline 2026-11-11 has passed" in overdue.reasons[0]
    within = _a84([incident], now=datetime(2026, 11, 5, tzinfo=UTC))
    assert within.status == "missing"  # open within its deadline: neither failing nor done
    assert "due by 2026-11-11" in within.reasons[0]
    report = report_record(incident, on=dt.date(2026, 11, 9))
    reported = _a84([incident, report])
    assert reported.status == "satisfied"
    assert "reported on 2026-11-09 (deadline 2026-11-11)" in reported.reasons[0]
    assert _a84([_incident(reported_on=dt.date(2026, 11, 20))]).status == "satisfied"
    rows = incident_rows([incident, report], now=NOW)
    assert [(r["id"], r["state"], r["reported_on"]) for r in rows] == [
        (incident.id, "closed", "2026-11-09")
    ]
    with pytest.raises(IncidentError):
        I.find_incident([incident, report], incident.id[:8])
    with pytest.raises(IncidentError) as info:  # a blank id never picks the only incident
        I.find_incident(iter([incident]), "  ")
    assert str(info.value) == I.ERROR_NO_INCIDENT.format(id="  ")
    with pytest.raises(IncidentError) as info:  # a one-pass iterable still sees the report
        I.find_incident(iter([incident, report]), incident.id[:8])
    assert str(info.value).startswith(f"incident {incident.id} was already reported")


# ------------------------------------------------------------------------ judgement fixture
@dataclass(frozen=True)
class FakeJudgement:
    assessment: Any
    config: Any
    catalog: Any
    records: tuple[Any, ...]
    current_models: dict[str, Any]


def _records() -> list[Any]:
    subject = Subject(run_id=RUN, model_name=SYSTEM, model_version="3")

    def rec(kind: str, outcome: str = "pass", **kw: Any) -> Any:
        return new_record(
            kind=kind,
            system=SYSTEM,
            outcome=outcome,  # type: ignore[arg-type]
            collector="test",
            subject=subject,
            controls=load_catalog().controls_for_kind(kind),
            collected_at="2026-11-30T10:00:00Z",
            **kw,
        )

    return [
        rec("performance", metrics={"accuracy": 0.85, "roc_auc": 0.9}),
        rec("fairness", metrics={"demographic_parity_difference": 0.05}),
        rec("data_quality", metrics={"success_percent": 100.0}),
        rec(
            "lineage.datasets",
            "info",
            details={
                "datasets": [
                    {
                        "name": "adult-train",
                        "context": "training",
                        "num_rows": 10,
                        "sha256": "a" * 64,
                        "digest": "abc",
                    },
                    {
                        "name": "adult-test",
                        "context": "evaluation",
                        "num_rows": 5,
                        "sha256": "b" * 64,
                        "digest": "def",
                    },
                ]
            },
        ),
        rec(
            "lineage.environment",
            "info",
            details={
                "packages": {"scikit-learn": "1.9.1", "pandas": "3.1.1"},
                "python_version": "3.11.7",
            },
        ),
        _incident(),
    ]


def _judgement() -> FakeJudgement:
    config = parse_config(example_config_text())
    catalog = load_catalog()
    records = tuple(_records())
    current = {SYSTEM: CurrentModel(name=SYSTEM, version="3", run_id=RUN)}
    assessment = assess(catalog, config, records, current_models=current, now=NOW, systems=[SYSTEM])
    return FakeJudgement(assessment, config, catalog, records, current)


def test_obligation_rows_take_the_worst_status_of_the_entries_they_map_to() -> None:
    j = _judgement()
    sa = j.assessment.systems[SYSTEM]
    rows = obligation_rows(
        j.catalog.crosswalk("eu-ai-act"), sa, classification(j.config.system(SYSTEM))
    )
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {f"Art. {n}" for n in (9, 10, 11, 12, 13, 14, 15, 17, 72, 73)}
    for row in rows:
        statuses = [m["status"] for m in row["maps_to"]]
        assert row["met"] == all(s in ("satisfied", "not_applicable") for s in statuses)
        assert row["status"] == (
            "satisfied"
            if row["met"]
            else max(
                (s for s in statuses if s not in ("satisfied", "not_applicable")),
                key=["missing", "stale", "failing"].index,
            )
        )
        assert row["applies_from"] == "2026-08-02"
        assert row["proposed_applies_from"] == "2027-12-02"
    assert by_id["Art. 73"]["status"] == "failing"  # the overdue incident
    met = sum(r["met"] for r in rows)
    assert summary_line(classification(j.config.system(SYSTEM)), rows) == (
        f"EU AI Act: high risk (Annex III 5(b)), provider; {met} of 10 obligations met"
    )
    assert summary_line(None, []).startswith("EU AI Act: not classified")


# ------------------------------------------------------------------------ Annex IV
def test_annex_iv_has_nine_sections_with_status_missing_and_cited_evidence() -> None:
    j = _judgement()
    dossier = A.annex_iv(j, SYSTEM)
    assert dossier["system"] == SYSTEM and dossier["model"]["version"] == "3"
    sections = dossier["sections"]
    assert [s["number"] for s in sections] == list(range(1, 10))
    assert len({s["id"] for s in sections}) == 9
    cited = {e for c in j.assessment.systems[SYSTEM].controls for e in c.evidence}
    for section in sections:
        assert section["status"] in ("complete", "partial", "missing")
        assert {"id", "title", "status", "evidence", "missing"} <= set(section)
        if section["status"] != "complete":
            assert section["missing"], section["id"]
        records = [e for e in section["evidence"] if not e.startswith("config:")]
        assert set(records) <= cited, section["id"]
    by_id = {s["id"]: s for s in sections}
    assert by_id["declaration-of-conformity"]["status"] == "missing"
    tests = by_id["development-process"]["tables"]["test logs and reports"]["rows"]
    assert {t["kind"] for t in tests} == {"performance", "fairness", "data_quality"}
    for row in tests:
        record = next(r for r in j.records if r.id == row["id"])
        assert row["content_hash"] == record.content_hash and row["date"] == record.collected_at
        assert row["signer"].startswith("unsigned")
    incidents = by_id["post-market-monitoring"]["tables"]["serious incidents"]["rows"]
    assert [i["state"] for i in incidents] == ["overdue"]
    assert by_id["post-market-monitoring"]["status"] != "complete"


def test_annex_iv_html_is_self_contained_and_escaped() -> None:
    j = _judgement()
    html = A.render(A.annex_iv(j, SYSTEM), "html")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert html.count("<section ") == 9 and "@media print" in html
    md = A.render(A.annex_iv(j, SYSTEM), "md")
    assert md.count("\n## ") == 9
    data = json.loads(A.render(A.annex_iv(j, SYSTEM), "json"))
    assert len(data["sections"]) == 9


# ------------------------------------------------------------------------ CycloneDX
def test_the_bom_validates_and_names_the_model_and_its_hashed_datasets() -> None:
    pytest.importorskip("cyclonedx")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from aims_mlops.reports._bom import bom_json

    text = bom_json(_judgement())
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    by_type: dict[str, list[dict[str, Any]]] = {}
    for component in bom["components"]:
        by_type.setdefault(component["type"], []).append(component)
    (model,) = by_type["machine-learning-model"]
    assert (model["name"], model["version"]) == (SYSTEM, "3")
    metrics = {m["type"] for m in model["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]}
    assert {"accuracy", "demographic_parity_difference"} <= metrics
    assert model["modelCard"]["considerations"]["useCases"]
    hashes = {d["name"]: d["hashes"][0] for d in by_type["data"]}
    assert hashes == {
        "adult-train": {"alg": "SHA-256", "content": "a" * 64},
        "adult-test": {"alg": "SHA-256", "content": "b" * 64},
    }
    assert {c["purl"] for c in by_type["library"]} == {
        "pkg:pypi/scikit-learn@1.9.1",
        "pkg:pypi/pandas@3.1.1",
    }
    (edges,) = [d for d in bom["dependencies"] if d["ref"] == model["bom-ref"]]
    assert len(edges["dependsOn"]) == 4
