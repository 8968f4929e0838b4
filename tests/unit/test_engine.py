"""The conformity engine: statuses, staleness, config checks, risks, gaps, SoA and readiness.

Pure and fast: hand-built evidence records, configurations parsed from YAML text, and either the
shipped catalog or a small catalog written here. Expected values are worked out by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aims_mlops import ConfigError
from aims_mlops.catalog import Catalog, load_catalog, parse_catalog
from aims_mlops.config import AimsConfig, config_digest, parse_config
from aims_mlops.engine import (
    ERROR_OUT_OF_SCOPE,
    Assessment,
    CurrentModel,
    SystemAssessment,
    assess,
    assess_system,
    risk_rows,
    soa_rows,
    status_rows,
    summary_dict,
)
from aims_mlops.evidence import EvidenceRecord, Subject, new_record

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

SMALL_CATALOG = """
version: 1
groups:
  "4": Context of the organization
  "8": Operation
  A.5: Assessing impacts of AI systems
  A.6: AI system life cycle
  A.7: Data for AI systems
entries:
  - id: "4.1"
    title: Understanding the organization and its context
    scope: organization
    description: Context analysis.
    evidence: {attestation: context analysis}
  - id: "8.2"
    title: AI risk assessment
    scope: system
    description: Risk register.
    evidence: {config_check: risk_register}
  - id: A.5.4
    title: Assessing AI system impact on individuals or groups of individuals
    scope: system
    description: Fairness.
    evidence: {kinds: [fairness], fresh_days: 90}
  - id: A.6.2.6
    title: AI system operation and monitoring
    scope: system
    description: Monitoring.
    evidence: {kinds: [monitoring], fresh_days: 30, follows_monitoring_interval: true}
  - id: A.7.3
    title: Acquisition of data
    scope: system
    description: Data acquisition.
    evidence: {kinds: [lineage.datasets], attestation: rights to use the data}
  - id: A.7.4
    title: Quality of data for AI systems
    scope: system
    description: Data quality.
    evidence: {kinds: [data_quality], fresh_days: 90}
"""

BASE_CONFIG = """
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
    performance: {accuracy: {min: 0.8}}
    monitoring: {interval_days: 7}
  - id: churn
    name: Churn
    owner: Bob
    intended_use: Predict customer churn
  - id: vendor
    name: Vendor model
    owner: Carol
    in_scope: false
    scope_reason: hosted by the vendor
"""


@pytest.fixture(scope="module")
def small() -> Catalog:
    return parse_catalog(SMALL_CATALOG, source="test-catalog.yaml")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def config(extra: str = "") -> AimsConfig:
    return parse_config(BASE_CONFIG + extra)


def ts(days: float) -> str:
    """An ISO timestamp ``days`` before NOW."""
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


#: Details that give a hand-built record of each kind the content its kind requires (the
#: kinds' ``requires``): a record without them does not count as evidence.
CONTENT: dict[str, dict[str, Any]] = {
    "lineage.datasets": {"datasets": [{"name": "train", "sha256": "ab" * 32}]},
    "lineage.code": {"git": {"commit": "c0ffee" * 6, "dirty": False}},
    "lineage.params": {"params": {"C": "1.0"}},
    "lineage.environment": {"packages": {"scikit-learn": "1.9.1"}, "python_version": "3.11.7"},
    "lineage.compute": {"cpu_count": 2},
    "lineage.model": {"registered_versions": [{"version": "3"}]},
    "notebook.provenance": {"cells_sha256": "ef" * 32},
    "data_quality": {"checks": [{"passed": True, "reason": "age is never null"}]},
    "fairness": {"checks": [{"passed": True, "reason": "gap within bound"}]},
    "performance": {"checks": [{"passed": True, "reason": "accuracy >= 0.8"}]},
    "monitoring": {"checks": [{"passed": True, "reason": "PSI within bound"}]},
}


def rec(
    kind: str,
    *,
    system: str | None = "credit",
    outcome: str = "pass",
    days: float = 1,
    run: str | None = None,
    model: str | None = None,
    version: str | None = None,
    digests: tuple[str, ...] = (),
    metrics: dict[str, float] | None = None,
    details: dict[str, Any] | None = None,
    controls: tuple[str, ...] = (),
    valid_until: str | None = None,
) -> EvidenceRecord:
    return new_record(
        kind=kind,
        system=system,
        outcome=outcome,  # type: ignore[arg-type]
        collector="test",
        collector_version="0",
        subject=Subject(
            run_id=run, model_name=model, model_version=version, dataset_digests=digests
        ),
        metrics=metrics,
        details=CONTENT.get(kind) if details is None else details,
        controls=controls,
        valid_until=valid_until,
        collected_at=ts(days),
    )


def attest(control: str, *, system: str | None, days: float = 1, **kw: Any) -> EvidenceRecord:
    details = {"by": "Dana", "document": "https://docs.acme-lending.com/x", "statement": "in place"}
    return rec("attestation", system=system, days=days, controls=(control,), details=details, **kw)


def fairness_check(value: float, limit: float = 0.1) -> dict[str, Any]:
    passed = value <= limit
    relation = f"<= {limit:g}" if passed else f"is above the maximum {limit:g}"
    return {
        "checks": [
            {
                "metric": "demographic_parity_difference",
                "value": value,
                "max": limit,
                "passed": passed,
                "reason": f"demographic_parity_difference = {value:.4g} {relation}",
            }
        ]
    }


def run(
    catalog: Catalog,
    records: list[EvidenceRecord],
    *,
    cfg: AimsConfig | None = None,
    models: dict[str, CurrentModel | None] | None = None,
) -> Assessment:
    return assess(catalog, cfg or config(), records, current_models=models or {}, now=NOW)


def one(
    catalog: Catalog,
    records: list[EvidenceRecord],
    system: str = "credit",
    **kw: Any,
) -> SystemAssessment:
    return run(catalog, records, **kw).systems[system]


CURRENT = CurrentModel(name="credit-model", version="3", run_id="run-three", alias="champion")


# ------------------------------------------------------------------------------------- statuses
def test_passing_record_for_the_current_version_satisfies(small: Catalog) -> None:
    record = rec(
        "fairness",
        model="credit-model",
        version="3",
        details=fairness_check(0.04),
        metrics={"demographic_parity_difference": 0.04},
    )
    status = one(small, [record], models={"credit": CURRENT}).control("A.5.4")
    assert status.status == "satisfied"
    assert status.evidence == (record.id,)
    assert any("demographic_parity_difference = 0.04 <= 0.1" in r for r in status.reasons)
    assert status.owner == "Alice"


def test_failing_record_gives_failing_with_the_check_reason(small: Catalog) -> None:
    record = rec("fairness", outcome="fail", run="r1", details=fairness_check(0.19))
    status = one(small, [record]).control("A.5.4")
    assert status.status == "failing"
    day = ts(1)[:10]
    assert status.reasons == (
        f"fairness record {record.id[:8]} ({day}): "
        "demographic_parity_difference = 0.19 is above the maximum 0.1",
    )
    assert status.evidence == (record.id,)


def test_no_evidence_is_missing(small: Catalog) -> None:
    status = one(small, []).control("A.5.4")
    assert status.status == "missing"
    assert status.reasons == ("no fairness evidence recorded for credit",)
    assert status.evidence == ()


def test_error_record_is_missing_with_the_collector_error(small: Catalog) -> None:
    older_pass = rec("fairness", run="r1", days=3)
    error = rec(
        "error",
        outcome="error",
        run="r1",
        details={"collector_kind": "fairness", "error": "ValueError: y_pred is empty"},
        controls=("A.5.4",),
    )
    status = one(small, [older_pass, error]).control("A.5.4")
    assert status.status == "missing"
    assert status.evidence == (error.id,)
    assert "the fairness collector failed: ValueError: y_pred is empty" in status.reasons[0]


def test_newer_pass_after_an_error_satisfies(small: Catalog) -> None:
    error = rec("error", outcome="error", run="r1", days=3, details={"collector_kind": "fairness"})
    newer_pass = rec("fairness", run="r1", days=1)
    assert one(small, [error, newer_pass]).control("A.5.4").status == "satisfied"


def test_latest_current_record_wins(small: Catalog) -> None:
    old_fail = rec("fairness", outcome="fail", run="r1", days=5, details=fairness_check(0.3))
    new_pass = rec("fairness", run="r1", days=1, details=fairness_check(0.05))
    assert one(small, [old_fail, new_pass]).control("A.5.4").status == "satisfied"
    newer_fail = rec("fairness", outcome="fail", run="r1", days=0.5)
    assert one(small, [new_pass, newer_fail]).control("A.5.4").status == "failing"


# ----------------------------------------------------------------------------------- staleness
def test_record_about_another_model_version_is_stale(small: Catalog) -> None:
    record = rec("fairness", model="credit-model", version="2", run="run-two")
    status = one(small, [record], models={"credit": CURRENT}).control("A.5.4")
    assert status.status == "stale"
    assert "credit-model version 2" in status.reasons[0]
    assert "credit-model version 3" in status.reasons[0]
    assert status.evidence == (record.id,)


def test_record_of_the_current_run_counts_without_a_version(small: Catalog) -> None:
    record = rec("fairness", run="run-three")
    assert one(small, [record], models={"credit": CURRENT}).control("A.5.4").status == ("satisfied")


def test_same_version_of_another_registered_model_is_stale(small: Catalog) -> None:
    record = rec("fairness", model="other-model", version="3", run="x")
    status = one(small, [record], models={"credit": CURRENT}).control("A.5.4")
    assert status.status == "stale"


def test_record_of_another_run_is_stale_for_a_run_only_current_model(small: Catalog) -> None:
    current = CurrentModel(name="credit-model", version=None, run_id="new-run-0001")
    record = rec("fairness", run="old-run-0001")
    status = one(small, [record], models={"credit": current}).control("A.5.4")
    assert status.status == "stale"
    assert "old-run-" in status.reasons[0] and "new-run-" in status.reasons[0]


def test_without_current_model_the_latest_run_is_current(small: Catalog) -> None:
    fairness_old_run = rec("fairness", run="aaaa1111", days=5)
    lineage_new_run = rec("lineage.datasets", run="bbbb2222", days=1)
    sa = one(small, [fairness_old_run, lineage_new_run])
    fairness = sa.control("A.5.4")
    assert fairness.status == "stale"
    assert "aaaa1111" in fairness.reasons[0] and "bbbb2222" in fairness.reasons[0]
    # the lineage part of A.7.3 holds (latest run); its attestation part does not, so: missing
    acquisition = sa.control("A.7.3")
    assert [p.status for p in acquisition.parts] == ["satisfied", "missing"]
    assert acquisition.status == "missing"


def test_data_quality_is_current_by_dataset_digest(small: Catalog) -> None:
    current = CurrentModel(
        name="credit-model", version="3", run_id="run-three", dataset_digests=("d-new",)
    )
    same_data_other_run = rec("data_quality", run="run-one", digests=("d-new", "d-extra"))
    assert one(small, [same_data_other_run], models={"credit": current}).control(
        "A.7.4"
    ).status == ("satisfied")
    other_data = rec("data_quality", digests=("d-old",))
    status = one(small, [other_data], models={"credit": current}).control("A.7.4")
    assert status.status == "stale"
    assert "d-old" in status.reasons[0] and "d-new" in status.reasons[0]


def test_digest_match_only_counts_for_data_quality(small: Catalog) -> None:
    current = CurrentModel(
        name="credit-model", version="3", run_id="run-three", dataset_digests=("d-new",)
    )
    record = rec("fairness", run="run-one", digests=("d-new",))
    status = one(small, [record], models={"credit": current}).control("A.5.4")
    assert status.status == "stale"


def test_record_older_than_fresh_days_is_stale(small: Catalog) -> None:
    status = one(small, [rec("fairness", run="r1", days=100)]).control("A.5.4")
    assert status.status == "stale"
    assert "100 days old" in status.reasons[0] and "90-day" in status.reasons[0]
    assert one(small, [rec("fairness", run="r1", days=89)]).control("A.5.4").status == ("satisfied")


def test_monitoring_freshness_follows_the_declared_interval(small: Catalog) -> None:
    # credit declares monitoring every 7 days; churn declares none (the catalog's 30 days apply)
    records = [
        rec("monitoring", system="credit", run="m1", days=10),
        rec("monitoring", system="churn", run="m2", days=10),
    ]
    a = run(small, records)
    credit = a.systems["credit"].control("A.6.2.6")
    assert credit.status == "stale"
    assert "7-day" in credit.reasons[0]
    assert a.systems["churn"].control("A.6.2.6").status == "satisfied"


def test_stale_and_missing_kinds_combine_to_stale(catalog: Catalog) -> None:
    # A.6.2.4 needs performance, data_quality and fairness; one stale, two missing -> stale
    status = one(catalog, [rec("performance", run="r1", days=200)]).control("A.6.2.4")
    assert status.status == "stale"
    assert len(status.reasons) == 3


def test_records_of_other_systems_do_not_count(small: Catalog) -> None:
    status = one(small, [rec("fairness", system="churn", run="r1")]).control("A.5.4")
    assert status.status == "missing"


# -------------------------------------------------------------------------------- attestations
def test_attestation_satisfies_and_expires(small: Catalog) -> None:
    """A.7.3 has two parts: the datasets' lineage and an attestation of the right to use them.
    An auditor accepts it with both; the attestation alone leaves the lineage missing, and an
    expired attestation is stale."""
    lineage = rec("lineage.datasets", run="r1")
    valid = attest("A.7.3", system="credit", valid_until=ts(-30))
    status = one(small, [lineage, valid]).control("A.7.3")
    assert status.status == "satisfied"
    assert valid.id in status.evidence and lineage.id in status.evidence
    assert any("attested by Dana" in r for r in status.reasons)
    alone = one(small, [valid]).control("A.7.3")
    assert alone.status == "missing"
    assert any("no lineage.datasets evidence" in r for r in alone.reasons)

    expired = attest("A.7.3", system="credit", valid_until=ts(2))
    status = one(small, [lineage, expired]).control("A.7.3")
    assert status.status == "stale"
    assert any(f"expired on {ts(2)[:10]}" in r for r in status.reasons)


def test_attestation_older_than_fresh_days_is_stale(small: Catalog) -> None:
    # A.7.3 uses the default freshness of 365 days
    lineage = rec("lineage.datasets", run="r1")
    old, recent = attest("A.7.3", system="credit", days=400), attest("A.7.3", system="credit")
    assert one(small, [lineage, old]).control("A.7.3").status == "stale"
    recent = attest("A.7.3", system="credit", days=300)
    assert one(small, [lineage, recent]).control("A.7.3").status == "satisfied"


def test_attestation_for_another_control_or_system_does_not_count(small: Catalog) -> None:
    records = [attest("A.7.4", system="credit"), attest("A.7.3", system="churn")]
    assert one(small, records).control("A.7.3").status == "missing"
    # a system-scope entry needs an attestation of that system, not an organization-level one
    assert one(small, [attest("A.7.3", system=None)]).control("A.7.3").status == "missing"


def test_failing_automated_evidence_beats_an_attestation(small: Catalog) -> None:
    failing = rec("lineage.datasets", outcome="fail", run="r1", details={"summary": "no source"})
    records = [failing, attest("A.7.3", system="credit")]
    status = one(small, records).control("A.7.3")
    # every part must hold: the attestation holds, the lineage says no, so the entry fails
    assert status.status == "failing"
    assert [p.status for p in status.parts] == ["failing", "satisfied"]
    assert status.reasons[0].endswith("failed: no source")


def test_organization_attestation_satisfies_every_system(small: Catalog) -> None:
    org = attest("4.1", system=None)
    a = run(small, [org])
    for system in ("credit", "churn"):
        status = a.systems[system].control("4.1")
        assert status.status == "satisfied"
        assert status.evidence == (org.id,)
        assert status.owner == "CRO"
        assert status.scope == "organization"


def test_system_attestation_does_not_satisfy_an_organization_entry(small: Catalog) -> None:
    assert one(small, [attest("4.1", system="credit")]).control("4.1").status == "missing"


# ------------------------------------------------------------------------------------- derived
def test_derived_a_4_2(catalog: Catalog) -> None:
    lineage = [
        rec("lineage.datasets", run="r1"),
        rec("lineage.environment", run="r1"),
        rec("lineage.compute", run="r1"),
    ]
    sa = one(catalog, lineage)
    assert sa.control("A.4.6").status == "missing"  # attestation only
    derived = sa.control("A.4.2")
    assert derived.status == "missing"
    assert "A.4.6 missing" in derived.reasons[0]

    sa = one(catalog, [*lineage, attest("A.4.6", system="credit")])
    assert sa.control("A.4.2").status == "satisfied"
    assert set(sa.control("A.4.2").evidence) == {r.id for r in lineage} | {
        sa.control("A.4.6").evidence[0]
    }

    failing_env = rec("lineage.environment", outcome="fail", run="r1", days=0.5)
    sa = one(catalog, [*lineage, failing_env, attest("A.4.6", system="credit")])
    assert sa.control("A.4.2").status == "failing"


def test_derived_counts_not_applicable_as_fine(catalog: Catalog) -> None:
    cfg = config(
        """
soa:
  - {control: A.4.6, applicable: false, justification: "no staff assigned: automated"}
"""
    )
    lineage = [
        rec("lineage.datasets", run="r1"),
        rec("lineage.environment", run="r1"),
        rec("lineage.compute", run="r1"),
    ]
    sa = one(catalog, lineage, cfg=cfg)
    assert sa.control("A.4.6").status == "not_applicable"
    assert sa.control("A.4.2").status == "satisfied"


# ------------------------------------------------------------------------------- config checks
CONFIG_WITH_RISKS = """
risks:
  - {id: R1, system: credit, category: bias, description: unfair, likelihood: 4, impact: 4,
     treatment: mitigate, controls: [A.5.4], owner: Eve}
  - {id: R2, system: churn, category: other, description: wrong, likelihood: 3, impact: 3,
     treatment: accept}
impact_assessments:
  - {system: credit, severity: 3, assessed_by: Board, assessed_on: 2025-06-01}
  - {system: churn, severity: 2, assessed_by: Board, assessed_on: 2026-11-01}
risk_reviews:
  - {system: credit, reviewed_by: Risk committee, reviewed_on: 2026-11-15}
"""


def test_config_checks(catalog: Catalog) -> None:
    cfg = config(CONFIG_WITH_RISKS)
    prefix = f"config:{config_digest(cfg)[:12]}#"
    a = run(catalog, [], cfg=cfg)
    credit, churn = a.systems["credit"], a.systems["churn"]

    # 8.2: the register and a current review of it; churn's risks were never reviewed
    assert credit.control("8.2").status == "satisfied"
    assert credit.control("8.2").evidence == (prefix + "risks[0]", prefix + "risk_reviews[0]")
    assert churn.control("8.2").status == "missing"
    assert [p.status for p in churn.control("8.2").parts] == ["satisfied", "missing"]
    # 8.3 reads the risk evaluation: R1 (16 > 6) names A.5.4, which no evidence satisfies, so
    # its residual stays 16; R2 scores 9 > 6 and is accepted with no approver named
    assert credit.control("8.3").status == "failing"
    assert credit.control("8.3").reasons[0].startswith("R1: residual 16 is above the appetite 6")
    assert churn.control("8.3").status == "failing"
    assert "R2" in churn.control("8.3").reasons[0]
    assert "no approver" in churn.control("8.3").reasons[0]

    # impact assessment: credit's is 548 days old (> 365), churn's 30 days
    assert credit.control("8.4").status == "stale"
    assert "548 days old" in credit.control("8.4").reasons[0]
    assert churn.control("8.4").status == "satisfied"
    assert churn.control("8.4").evidence == (prefix + "impact_assessments[1]",)

    # owner named: per system (A.3.2) and for the organization (5.3: every in-scope system);
    # both also need an attestation (the RACI, the roles assigned by top management)
    roles = credit.control("A.3.2")
    assert [(p.kind, p.status) for p in roles.parts] == [
        ("declared", "satisfied"),
        ("attestation", "missing"),
    ]
    assert roles.status == "missing"
    assert prefix + "systems[0].owner" in roles.evidence
    org_owner = credit.control("5.3")
    assert org_owner.parts[0].status == "satisfied" and org_owner.status == "missing"
    assert set(org_owner.evidence) == {prefix + "systems[0].owner", prefix + "systems[1].owner"}

    # requirements: credit declares thresholds, churn only its intended use
    assert credit.control("A.6.2.2").status == "satisfied"
    assert churn.control("A.6.2.2").status == "missing"
    # thresholds declared, but the objectives for responsible development are not attested
    assert credit.control("A.6.1.2").parts[0].status == "satisfied"
    assert credit.control("A.6.1.2").status == "missing"
    assert churn.control("A.6.1.2").status == "missing"
    # the purpose is declared, but no operational evidence shows the system used for it
    assert credit.control("A.9.4").parts[0].status == "satisfied"
    assert credit.control("A.9.4").status == "missing"
    assert credit.control("4.3").status == "satisfied"
    assert credit.control("4.3").evidence[0] == prefix + "organization.aims_scope"
    # 6.1 rests on the risk assessment, treatment and impact assessment (8.2-8.4) and the SoA:
    # 8.3 fails (R1 untreated), so 6.1 fails; no SoA decisions are declared, so that part is
    # missing
    planning = credit.control("6.1")
    assert planning.status == "failing"
    assert [p.status for p in planning.parts] == ["missing", "failing"]
    # 6.2 (organization): thresholds for every in-scope system; churn has none
    assert credit.control("6.2").status == "missing"
    assert "1 of 2 in-scope systems" in credit.control("6.2").reasons[0]


def test_config_checks_without_declarations(catalog: Catalog) -> None:
    cfg = parse_config(
        """
version: 1
organization: {name: Bare}
systems:
  - {id: solo}
"""
    )
    sa = one(catalog, [], "solo", cfg=cfg)
    for entry in ("4.3", "5.3", "8.2", "8.3", "8.4", "A.3.2", "A.6.2.2", "A.9.4"):
        assert sa.control(entry).status == "missing", entry
    assert sa.owner == "(no owner declared)"
    assert sa.control("4.1").owner == "(no owner declared)"


# ----------------------------------------------------------------------------- not applicable
def test_soa_exclusion_is_not_applicable_with_its_justification(small: Catalog) -> None:
    cfg = config(
        """
soa:
  - {control: A.7.3, applicable: false, justification: "only internal data", systems: [churn]}
"""
    )
    a = run(small, [], cfg=cfg)
    churn = a.systems["churn"].control("A.7.3")
    assert churn.status == "not_applicable"
    assert churn.reasons == ("not applicable (Statement of Applicability): only internal data",)
    assert a.systems["credit"].control("A.7.3").status == "missing"
    # the not-applicable entry leaves the denominator: 5 applicable, none satisfied but 8.2? no
    # risks are declared, so 8.2 is missing too -> 0 / 5
    assert a.systems["churn"].score == 0.0
    assert a.systems["churn"].counts()["not_applicable"] == 1


# ------------------------------------------------------------ scenario: score, gaps, SoA, readiness
SCENARIO_CONFIG = """
risks:
  - {id: R1, system: credit, category: bias, description: unfair, likelihood: 4, impact: 4,
     treatment: mitigate, controls: [A.5.4, A.7.4], owner: Eve,
     residual: {likelihood: 1, impact: 4}}
  - {id: R2, system: churn, category: other, description: wrong, likelihood: 1, impact: 2,
     treatment: accept}
soa:
  - {control: A.7.3, applicable: false, justification: "no external data", systems: [churn]}
"""


@pytest.fixture(scope="module")
def scenario(small: Catalog) -> Assessment:
    records = [
        attest("4.1", system=None),
        rec("fairness", system="credit", outcome="fail", run="c1", details=fairness_check(0.3)),
        rec("monitoring", system="credit", run="c1", days=2),
        rec("lineage.datasets", system="credit", run="c1"),
        attest("A.7.3", system="credit"),
        rec("monitoring", system="churn", run="h1", days=40),
        rec("data_quality", system="churn", run="h1", days=1),
    ]
    return run(small, records, cfg=config(SCENARIO_CONFIG))


def test_scenario_statuses(scenario: Assessment) -> None:
    credit = {c.id: c.status for c in scenario.systems["credit"].controls}
    churn = {c.id: c.status for c in scenario.systems["churn"].controls}
    assert credit == {
        "4.1": "satisfied",
        "8.2": "satisfied",
        "A.5.4": "failing",
        "A.6.2.6": "satisfied",
        "A.7.3": "satisfied",
        "A.7.4": "missing",
    }
    assert churn == {
        "4.1": "satisfied",
        "8.2": "satisfied",
        "A.5.4": "missing",
        "A.6.2.6": "stale",
        "A.7.3": "not_applicable",
        "A.7.4": "satisfied",
    }
    assert list(scenario.systems) == ["credit", "churn"]  # vendor is out of scope


def test_scenario_scores(scenario: Assessment) -> None:
    # credit: 4 satisfied of 6 applicable; churn: 3 satisfied of 5 applicable
    assert scenario.systems["credit"].score == round(4 / 6, 4) == 0.6667
    assert scenario.systems["churn"].score == 0.6
    assert scenario.systems["credit"].counts() == {
        "satisfied": 4,
        "failing": 1,
        "stale": 0,
        "missing": 1,
        "not_applicable": 0,
    }


def test_scenario_readiness(scenario: Assessment) -> None:
    readiness = scenario.readiness
    # pairs: 4.1 once (satisfied); credit 5 system entries (3 satisfied); churn 4 applicable
    # system entries (2 satisfied) -> 6 / 10
    assert readiness.overall == 0.6
    assert dict(readiness.per_system) == {"credit": 0.6667, "churn": 0.6}
    assert dict(readiness.per_group) == {
        "4": 1.0,
        "8": 1.0,
        "A.5": 0.0,
        "A.6": 0.5,
        "A.7": 0.6667,
    }


def test_scenario_gaps_prioritised_with_owners(scenario: Assessment) -> None:
    gaps = [(g.system, g.control, g.status, g.owner) for g in scenario.readiness.gaps]
    assert gaps == [
        ("credit", "A.5.4", "failing", "Alice"),
        ("credit", "A.7.4", "missing", "Alice"),  # treats R1, above appetite
        ("churn", "A.6.2.6", "stale", "Bob"),
        ("churn", "A.5.4", "missing", "Bob"),
    ]
    first = scenario.readiness.gaps[0]
    # a failing result: what to change, then the capture on the new version
    assert first.how_to_close.startswith("change what the failing result measures: the model")
    assert first.how_to_close.endswith(
        "`aims_mlops.assess_fairness(y_true, y_pred, "
        'sensitive_features=X[["sex", "race"]])`'
    )
    assert first.reasons == scenario.systems["credit"].control("A.5.4").reasons
    assert [g.control for g in scenario.systems["churn"].gaps] == ["A.6.2.6", "A.5.4"]


def test_scenario_risks(scenario: Assessment) -> None:
    r1 = scenario.systems["credit"].risks[0]
    assert (r1.inherent, r1.residual, r1.above_appetite) == (16, 16, True)
    assert any("A.5.4 (failing)" in r and "A.7.4 (missing)" in r for r in r1.reasons)
    assert r1.owner == "Eve"
    r2 = scenario.systems["churn"].risks[0]
    assert (r2.inherent, r2.residual, r2.above_appetite) == (2, 2, False)
    assert r2.owner == "Bob"  # no risk owner: the system's owner


def test_scenario_soa(scenario: Assessment) -> None:
    soa = {e.control: e for e in scenario.soa}
    assert list(soa) == ["A.5.4", "A.6.2.6", "A.7.3", "A.7.4"]
    assert soa["A.5.4"].implementation == "not implemented"
    assert soa["A.5.4"].justification == "Applicable: treats risks R1"
    assert soa["A.5.4"].linked_risks == ("R1",)
    assert soa["A.6.2.6"].implementation == "partially implemented"
    assert soa["A.6.2.6"].justification == "Applicable: part of the organization's baseline"
    assert soa["A.7.3"].implementation == "implemented"
    assert soa["A.7.3"].applicable is True
    assert dict(soa["A.7.3"].systems) == {"credit": "satisfied", "churn": "not_applicable"}
    assert soa["A.7.3"].justification == (
        "Applicable: part of the organization's baseline; "
        "not applicable for churn: no external data"
    )
    assert soa["A.7.4"].implementation == "partially implemented"
    assert len(soa_rows(scenario)) == 4


def test_soa_exclusion_everywhere(catalog: Catalog) -> None:
    cfg = config(
        """
soa:
  - {control: A.10.4, applicable: false, justification: "no customers"}
  - {control: A.5.4, applicable: true, justification: "decisions affect people"}
"""
    )
    soa = {e.control: e for e in run(catalog, [], cfg=cfg).soa}
    assert soa["A.10.4"].applicable is False
    assert soa["A.10.4"].implementation == "not applicable"
    assert soa["A.10.4"].justification == "no customers"
    assert soa["A.5.4"].justification == "decisions affect people"
    assert len(soa) == len(catalog.controls)


def test_organization_gap_is_owned_by_the_policy_owner(small: Catalog) -> None:
    a = run(small, [])
    org_gaps = [g for g in a.readiness.gaps if g.control == "4.1"]
    assert len(org_gaps) == 1  # counted once
    assert (org_gaps[0].system, org_gaps[0].owner) == (None, "CRO")
    assert any(g.control == "4.1" and g.system is None for g in a.systems["credit"].gaps)


# ------------------------------------------------------------------------------------------ risks
INDICATOR_RISK = """
risks:
  - id: R1
    system: credit
    category: bias
    description: unfair outcomes
    likelihood: 2
    impact: 4
    treatment: mitigate
    controls: [A.5.4]
    residual: {likelihood: 1, impact: 4}
    indicator: {kind: fairness, metric: demographic_parity_difference,
                bands: [0.02, 0.05, 0.1, 0.2]}
"""


def indicator_risk(small: Catalog, *records: EvidenceRecord) -> Any:
    return one(small, list(records), cfg=config(INDICATOR_RISK)).risks[0]


def dpd(value: float, outcome: str = "pass", **kw: Any) -> EvidenceRecord:
    return rec(
        "fairness",
        outcome=outcome,
        run=kw.pop("run", "r1"),
        metrics={"demographic_parity_difference": value},
        **kw,
    )


def test_risk_without_indicator_evidence_uses_declared_likelihood(small: Catalog) -> None:
    risk = indicator_risk(small)
    # 2 x 4 = 8 > 6; A.5.4 missing -> residual = inherent
    assert (risk.inherent_likelihood, risk.inherent, risk.residual) == (2, 8, 8)
    assert risk.indicator_value is None
    assert risk.above_appetite and risk.inherent_above_appetite
    assert any("A.5.4 (missing)" in r for r in risk.reasons)


def test_indicator_overrides_likelihood_and_controls_reduce_residual(small: Catalog) -> None:
    risk = indicator_risk(small, dpd(0.08))  # 0.05 < 0.08 <= 0.1 -> likelihood 3
    assert risk.indicator_value == 0.08
    assert (risk.inherent_likelihood, risk.inherent) == (3, 12)
    # A.5.4 satisfied, but the residual likelihood is never below the measured one: max(1, 3)
    assert (risk.residual_likelihood, risk.residual_impact, risk.residual) == (3, 4, 12)
    assert risk.inherent_above_appetite and risk.above_appetite
    low = indicator_risk(small, dpd(0.01))  # <= 0.02 -> likelihood 1: the declared 1 holds
    assert (low.residual_likelihood, low.residual) == (1, 4) and not low.above_appetite
    assert risk.evidence == (risk.evidence[0],) and len(risk.evidence[0]) == 32


def test_indicator_with_failing_control_sets_residual(small: Catalog) -> None:
    risk = indicator_risk(small, dpd(0.15, outcome="fail"))  # 0.1 < 0.15 <= 0.2 -> 4
    assert (risk.inherent, risk.residual_likelihood, risk.residual) == (16, 4, 16)
    assert risk.above_appetite
    assert any("A.5.4 (failing)" in r for r in risk.reasons)


@pytest.mark.parametrize(
    ("value", "likelihood"),
    [(0.0, 1), (0.02, 1), (0.0201, 2), (0.05, 2), (0.1, 3), (0.2, 4), (0.21, 5)],
)
def test_indicator_bands(small: Catalog, value: float, likelihood: int) -> None:
    assert indicator_risk(small, dpd(value)).inherent_likelihood == likelihood


ACCURACY_RISK = INDICATOR_RISK.replace(
    "indicator: {kind: fairness, metric: demographic_parity_difference,\n"
    "                bands: [0.02, 0.05, 0.1, 0.2]}",
    "indicator: {kind: performance, metric: accuracy, direction: lower_is_worse,\n"
    "                bands: [0.9, 0.85, 0.8, 0.75]}",
)


@pytest.mark.parametrize(("accuracy", "likelihood"), [(0.93, 1), (0.86, 2), (0.78, 4), (0.6, 5)])
def test_lower_is_worse_indicator(small: Catalog, accuracy: float, likelihood: int) -> None:
    assert ACCURACY_RISK != INDICATOR_RISK
    record = rec("performance", run="r1", metrics={"accuracy": accuracy})
    risk = one(small, [record], cfg=config(ACCURACY_RISK)).risks[0]
    assert (risk.indicator_value, risk.inherent_likelihood) == (accuracy, likelihood)
    assert any("(bands 0.9, 0.85, 0.8, 0.75; lower is worse)" in r for r in risk.reasons)


def test_indicator_ignores_stale_records(small: Catalog) -> None:
    """The latest fairness record is about another run than the latest run, so it is not
    current and does not set the measured value. But missing evidence must never look better
    than failing evidence: its likelihood 5 is worse than the declared 2, so it stands until a
    current measurement replaces it (an auditor would not let a new, unmeasured model inherit a
    lower risk)."""
    old = dpd(0.5, run="old-run", days=3)
    latest_run = rec("lineage.datasets", run="new-run", days=1)
    risk = indicator_risk(small, old, latest_run)
    assert risk.indicator_value is None
    assert risk.inherent_likelihood == 5
    assert any(
        "from the last measurement" in r and "worse than the declared 2" in r for r in risk.reasons
    )
    # a last measurement better than the declared likelihood does not lower it
    mild = dpd(0.01, run="old-run", days=3)
    assert indicator_risk(small, mild, latest_run).inherent_likelihood == 2
    # and with the current model being that old run's version, it counts
    current = CurrentModel(name="m", version=None, run_id="old-run")
    cfg = config(INDICATOR_RISK)
    risk = one(small, [old, latest_run], cfg=cfg, models={"credit": current}).risks[0]
    assert risk.inherent_likelihood == 5


def test_organization_risk_needs_controls_satisfied_in_every_system(small: Catalog) -> None:
    cfg = config(
        """
risks:
  - {id: R9, category: robustness, description: data drift, likelihood: 3, impact: 3,
     treatment: mitigate, controls: [A.7.4], residual: {likelihood: 1, impact: 3}}
"""
    )
    credit_only = [rec("data_quality", system="credit", run="c1")]
    a = run(small, credit_only, cfg=cfg)
    risk = a.systems["credit"].risks[0]
    assert (risk.system, risk.residual, risk.above_appetite, risk.owner) == (None, 9, True, "CRO")
    both = [*credit_only, rec("data_quality", system="churn", run="h1")]
    a = run(small, both, cfg=cfg)
    assert a.systems["churn"].risks[0].residual == 3
    assert [r["id"] for r in risk_rows(a)] == ["R9"]  # listed once


def test_accepted_risk_keeps_its_declared_residual(small: Catalog) -> None:
    cfg = config(
        """
risks:
  - {id: R5, system: credit, category: security, description: tamper, likelihood: 1,
     impact: 5, treatment: accept}
"""
    )
    risk = one(small, [], cfg=cfg).risks[0]
    assert (risk.inherent, risk.residual, risk.above_appetite) == (5, 5, False)


# ------------------------------------------------------------------------------- interfaces
def test_summary_dict_shape(small: Catalog, scenario: Assessment) -> None:
    sa = scenario.systems["credit"]
    data = summary_dict(sa)
    assert set(data) == {
        "system",
        "name",
        "owner",
        "model",
        "score",
        "controls",
        "risks",
        "gaps",
        "counts",
        "integrity_findings",
    }
    assert data["system"] == "credit" and data["name"] == "Credit scoring"
    assert data["owner"] == "Alice" and data["model"] is None and data["score"] == 0.6667
    assert len(data["controls"]) == 6
    assert set(data["controls"][0]) == {
        "id",
        "title",
        "kind",
        "group",
        "status",
        "reasons",
        "evidence",
        "parts",
    }
    assert data["controls"][0]["parts"] == [
        {
            "requirement": "an attestation of context analysis",
            "kind": "attestation",
            "status": "satisfied",
            "evidence": [data["controls"][0]["evidence"][0]],
        }
    ]
    assert data["controls"][0]["kind"] == "clause"
    assert {"id", "inherent", "residual", "above_appetite"} <= set(data["risks"][0])
    assert data["gaps"][0]["control"] == "A.5.4"
    assert data["counts"]["satisfied"] == 4
    assert json.loads(json.dumps(data)) == data

    with_model = one(small, [], models={"credit": CURRENT})
    assert summary_dict(with_model)["model"] == {
        "name": "credit-model",
        "version": "3",
        "run_id": "run-three",
    }


def test_status_rows(scenario: Assessment) -> None:
    rows = status_rows(scenario)
    assert [r["system"] for r in rows] == ["credit", "churn"]
    assert rows[0]["risks_above_appetite"] == 1
    assert rows[0]["gaps"] == 2 and rows[1]["gaps"] == 2
    assert rows[1]["counts"]["not_applicable"] == 1
    assert json.dumps(rows)


def test_assessment_metadata(scenario: Assessment) -> None:
    assert scenario.evaluated_at == "2026-12-01T12:00:00Z"
    assert scenario.config_digest == config_digest(config(SCENARIO_CONFIG))


def test_out_of_scope_system_is_not_assessed(small: Catalog) -> None:
    with pytest.raises(ConfigError) as info:
        assess(small, config(), [], current_models={}, now=NOW, systems=["vendor"])
    assert info.value.problems == [
        ERROR_OUT_OF_SCOPE.format(system="vendor", reason="hosted by the vendor")
    ]
    with pytest.raises(ConfigError):
        assess(small, config(), [], current_models={}, now=NOW, systems=["nope"])
    sa = assess_system(small, config(), [], system="churn", current_models={}, now=NOW)
    assert sa.system == "churn"


def test_naive_now_is_utc(small: Catalog) -> None:
    record = rec("fairness", run="r1", days=89.9)
    naive = NOW.replace(tzinfo=None)
    a = assess(small, config(), [record], current_models={}, now=naive)
    assert a.systems["credit"].control("A.5.4").status == "satisfied"


def test_engine_imports_no_heavy_libraries() -> None:
    code = (
        "import sys, aims_mlops.engine; "
        "heavy = {'mlflow', 'great_expectations', 'fairlearn', 'sklearn', 'ipywidgets', 'pandas'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
