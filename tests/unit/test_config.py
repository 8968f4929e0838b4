"""aims.yaml: the shape, the cross-field rules and line-accurate error messages."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from aims_mlops import ConfigError
from aims_mlops.config import (
    AimsConfig,
    Organization,
    Risk,
    RiskIndicator,
    SoaDecision,
    SystemConfig,
    config_digest,
    default_config_path,
    example_config_text,
    load_config,
    parse_config,
)
from aims_mlops.config._loader import EXAMPLE_ASSESSED_ON
from aims_mlops.config._models import (
    ERROR_PLACEHOLDER_REASON,
    ERROR_TREATING_CLAUSE,
    MIN_REASON_CHARS,
)
from aims_mlops.datasets import ADULT_COLUMNS

# Line numbers in the expectations below refer to this document (line 1 is "version: 1").
BASE = """\
version: 1
organization:
  name: Acme
  aims_scope: Credit models
  policy_owner: CRO
systems:
  - id: scorer
    name: Scorer
    owner: Jane Doe
    intended_use: Score applicants
    lifecycle_stage: development
    mlflow: {experiment: scorer, registered_model: scorer}
    sensitive_features: [sex]
    fairness:
      demographic_parity_difference: {max: 0.1}
    performance:
      accuracy: {min: 0.8}
risks:
  - id: R1
    system: scorer
    category: bias
    description: Unequal outcomes
    likelihood: 3
    impact: 4
    treatment: mitigate
    controls: [A.5.4]
    residual: {likelihood: 2, impact: 4}
impact_assessments:
  - system: scorer
    severity: 3
    assessed_by: Board
    assessed_on: 2025-01-15
soa:
  - {control: A.10.4, applicable: false, justification: No customers}
"""

SOA_LINE = "  - {control: A.10.4, applicable: false, justification: No customers}\n"
RESIDUAL_LINE = "    residual: {likelihood: 2, impact: 4}\n"
MLFLOW_LINE = "    mlflow: {experiment: scorer, registered_model: scorer}\n"
SYSTEM_KEYS = (
    "id, name, owner, intended_use, lifecycle_stage, in_scope, scope_reason, mlflow, "
    "sensitive_features, fairness_groups, data_quality, fairness, performance, monitoring, "
    "genai, eu_ai_act, reassess_on, gate"
)
TOP_KEYS = (
    "version, organization, risk_criteria, store, capture, trust, documents, people, systems, "
    "risks, impact_assessments, risk_reviews, soa, audit_programme, management_review, approvers, "
    "scope, lifecycle"
)


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur exactly once in BASE"
    return BASE.replace(old, new)


def problems_of(text: str, *, source: str = "aims.yaml") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source=source)
    return caught.value.problems


# --------------------------------------------------------------------------- valid documents
def test_base_document_is_valid() -> None:
    config = parse_config(BASE)
    assert config.organization.name == "Acme"
    assert config.system("scorer").owner == "Jane Doe"
    assert config.risks[0].residual is not None
    assert config.risks[0].residual.impact == 4
    assert config.impact_assessments[0].assessed_on == dt.date(2025, 1, 15)
    # defaults
    assert config.risk_criteria.appetite == 6
    assert config.risk_criteria.likelihood[5] == "Almost certain"
    assert config.risk_criteria.impact[1] == "Negligible"
    assert config.store.evidence_experiment == "aims-evidence"
    assert config.store.spool_dir == ".aims/spool"
    assert config.store.tracking_uri is None
    assert config.capture.strict is False
    assert config.capture.include_values is False
    system = config.system("scorer")
    assert system.in_scope is True
    assert system.mlflow.alias == "champion"
    assert system.monitoring is None
    assert system.performance["accuracy"].min == 0.8
    assert system.performance["accuracy"].max is None


def test_example_is_written_with_todays_impact_assessment() -> None:
    shipped = (
        importlib.resources.files("aims_mlops.config").joinpath("example.yaml").read_text("utf-8")
    )
    assert EXAMPLE_ASSESSED_ON in shipped  # else the date below is never replaced
    today = dt.datetime.now(dt.UTC).date()
    assert parse_config(example_config_text()).impact_assessments[0].assessed_on == today
    pinned = parse_config(example_config_text(assessed_on=dt.date(2024, 3, 1)))
    assert pinned.impact_assessments[0].assessed_on == dt.date(2024, 3, 1)


def test_example_validates_and_describes_the_adult_income_classifier() -> None:
    config = parse_config(example_config_text())
    assert config.organization.name == "Example Lending Ltd"
    assert [s.id for s in config.in_scope_systems] == ["income-classifier"]
    out = [s for s in config.systems if not s.in_scope]
    assert len(out) == 1 and out[0].scope_reason
    system = config.system("income-classifier")
    assert system.lifecycle_stage == "development"
    assert system.owner and system.intended_use
    assert system.mlflow.experiment == "income-classifier"
    assert system.mlflow.registered_model == "income-classifier"
    assert system.mlflow.alias == "champion"
    assert system.sensitive_features == ("sex", "race")
    assert system.fairness["demographic_parity_difference"].max == 0.1
    assert system.fairness["equalized_odds_difference"].max == 0.1
    assert system.performance["accuracy"].min == 0.8
    assert system.performance["roc_auc"].min == 0.85
    assert system.monitoring is not None
    assert system.data_quality is not None
    expectations = system.data_quality.expectations
    columns = {e.kwargs["column"] for e in expectations if "column" in e.kwargs}
    assert columns <= set(ADULT_COLUMNS)
    by_type = {(e.type, e.kwargs.get("column")): e.kwargs for e in expectations}
    assert by_type[("expect_column_values_to_be_between", "age")]["min_value"] == 17
    assert by_type[("expect_column_values_to_be_between", "age")]["max_value"] == 90
    assert by_type[("expect_column_values_to_be_in_set", "sex")]["value_set"] == ["Male", "Female"]
    assert by_type[("expect_table_row_count_to_be_between", None)] == {
        "min_value": 1000,
        "max_value": 10_000_000,
    }
    not_null = {c for (t, c) in by_type if t == "expect_column_values_to_not_be_null"}
    assert not_null == {"age", "education", "sex", "race"}

    assert 4 <= len(config.risks) <= 5
    bias = next(r for r in config.risks if r.category == "bias")
    assert bias.indicator is not None
    assert (bias.indicator.kind, bias.indicator.metric) == (
        "fairness",
        "demographic_parity_difference",
    )
    accepted = [r for r in config.risks if r.treatment == "accept"]
    assert accepted and all(r.likelihood * r.impact <= 6 for r in accepted)
    assert config.impact_assessment_for("income-classifier") is not None
    exclusions = [d for d in config.soa if not d.applicable]
    # customers (A.10.4) only: suppliers (A.10.3) apply, the census data is a third party's
    assert [d.control for d in exclusions] == ["A.10.4"]
    assert all(d.justification and d.justification.strip() for d in exclusions)
    assert config.soa_decision("A.10.4", "income-classifier") in exclusions


def test_round_trip_through_json_and_yaml() -> None:
    config = parse_config(example_config_text())
    dumped = config.model_dump(mode="json")
    again = parse_config(yaml.safe_dump(dumped, sort_keys=False))
    assert again == config
    assert AimsConfig.model_validate(json.loads(json.dumps(dumped))) == config


def test_models_are_frozen() -> None:
    config = parse_config(BASE)
    with pytest.raises(ValidationError):
        config.organization.name = "Other"  # type: ignore[misc]


def test_digest_is_sha256_of_canonical_json_and_tracks_edits() -> None:
    config = parse_config(BASE)
    expected = hashlib.sha256(
        json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode(
            "utf-8"
        )
    ).hexdigest()
    assert config_digest(config) == expected
    assert config_digest(parse_config(BASE)) == expected
    # comments and formatting do not change the configuration
    assert config_digest(parse_config("# a comment\n" + BASE)) == expected
    changed = parse_config(BASE.replace("owner: Jane Doe", "owner: John Roe"))
    assert config_digest(changed) != expected


def test_unquoted_clause_ids_and_null_lists_are_accepted() -> None:
    text = edited("impact_assessments:\n", "impact_assessments:\n").replace(
        "impact_assessments:\n  - system: scorer\n    severity: 3\n    assessed_by: Board\n"
        "    assessed_on: 2025-01-15\n",
        "impact_assessments:\n",
    )
    config = parse_config(text + "  - {control: 6.1, applicable: true}\n")
    assert config.soa[-1].control == "6.1"  # YAML's float 6.1 is read as the id "6.1"
    assert config.impact_assessments == ()
    # a clause does not treat a risk (Annex A controls do; clauses are judged from them)
    with pytest.raises(ConfigError) as err:
        parse_config(edited("    controls: [A.5.4]\n", "    controls: [A.5.4, 6.1]\n"))
    assert err.value.problems == [
        "aims.yaml:26: risks[0].controls[1]: " + ERROR_TREATING_CLAUSE.format(control="6.1")
    ]


# --------------------------------------------------------------------------- convenience API
def test_convenience_lookups() -> None:
    text = (
        BASE.replace(
            "risks:\n",
            "  - id: legacy\n    in_scope: false\n    scope_reason: Retired in 2025\n"
            "    mlflow: {registered_model: old-model}\nrisks:\n",
        )
        .replace(
            "impact_assessments:\n",
            "  - {id: R0, category: other, description: d, likelihood: 1, impact: 1,"
            " treatment: accept}\nimpact_assessments:\n",
        )
        .replace(
            "    assessed_on: 2025-01-15\n",
            "    assessed_on: 2025-01-15\n  - {system: scorer, severity: 2, assessed_by: Board,"
            " assessed_on: 2025-06-30}\n",
        )
        .replace(
            SOA_LINE,
            SOA_LINE
            + "  - {control: A.5.4, applicable: true}\n"
            + "  - {control: A.5.4, applicable: false, justification: decides nothing,"
            " systems: [legacy]}\n" + "  - {control: A.7.4, applicable: true, systems: [scorer]}\n",
        )
    )
    config = parse_config(text)
    assert [s.id for s in config.in_scope_systems] == ["scorer"]
    assert config.system_ids == ("scorer", "legacy")
    assert config.system_for_experiment("scorer") == "scorer"
    assert config.system_for_experiment("nobody") is None
    assert config.system_for_model("old-model") == "legacy"
    assert config.system_for_model("scorer") == "scorer"
    assert config.system_for_model("other") is None
    assert [r.id for r in config.risks_for("scorer")] == ["R1"]
    assert [r.id for r in config.risks_for(None)] == ["R0"]
    assert config.risks_for("legacy") == ()
    latest = config.impact_assessment_for("scorer")
    assert latest is not None and latest.assessed_on == dt.date(2025, 6, 30)
    assert config.impact_assessment_for("legacy") is None
    # a decision naming the system wins over one for every system
    general = config.soa_decision("A.5.4", "scorer")
    assert general is not None and general.applicable is True
    specific = config.soa_decision("A.5.4", "legacy")
    assert specific is not None and specific.applicable is False
    assert config.soa_decision("A.5.4") is general
    assert config.soa_decision("A.7.4", "scorer") is not None
    assert config.soa_decision("A.7.4", "legacy") is None
    assert config.soa_decision("A.7.4") is None
    assert config.soa_decision("A.9.2", "scorer") is None
    assert config.risks[0].score == 12
    assert config.risks[0].residual_score == 8
    assert config.risk_criteria.accepts(6) and not config.risk_criteria.accepts(7)


def test_unknown_system_lists_known_ids() -> None:
    config = parse_config(BASE)
    with pytest.raises(ConfigError) as caught:
        config.system("scorr")
    assert caught.value.problems == ["unknown system 'scorr'; known systems: scorer"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(-1.0, 1), (0.02, 1), (0.0200001, 2), (0.05, 2), (0.07, 3), (0.1, 3), (0.2, 4), (0.21, 5)],
)
def test_indicator_bands_map_values_to_likelihood(value: float, expected: int) -> None:
    indicator = RiskIndicator(kind="fairness", metric="dpd", bands=(0.02, 0.05, 0.1, 0.2))
    assert indicator.likelihood_for(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.95, 1), (0.9, 1), (0.8999, 2), (0.85, 2), (0.82, 3), (0.8, 3), (0.75, 4), (0.7, 5)],
)
def test_lower_is_worse_indicator_bands_map_values_to_likelihood(
    value: float, expected: int
) -> None:
    indicator = RiskIndicator(
        kind="performance",
        metric="accuracy",
        direction="lower_is_worse",
        bands=(0.9, 0.85, 0.8, 0.75),
    )
    assert indicator.likelihood_for(value) == expected


def test_direct_construction_checks_cross_field_rules() -> None:
    risk = Risk(
        id="R1",
        system="nowhere",
        category="other",
        description="d",
        likelihood=1,
        impact=1,
        treatment="accept",
    )
    with pytest.raises(ValidationError) as caught:
        AimsConfig(
            version=1,
            organization=Organization(name="Acme"),
            systems=(SystemConfig(id="scorer"),),
            risks=(risk,),
        )
    assert "risks[0].system: risk names unknown system 'nowhere'; declared systems: scorer" in str(
        caught.value
    )
    with pytest.raises(ValidationError, match="requires a non-blank justification"):
        SoaDecision(control="A.10.4", applicable=False, justification=" ")


# --------------------------------------------------------------------------- malformed documents
SHAPE_CASES = [
    pytest.param(
        "    owner: Jane Doe\n",
        "    ownr: Jane Doe\n",
        [f"aims.yaml:9: systems[0].ownr: unknown key 'ownr'; allowed keys: {SYSTEM_KEYS}"],
        id="unknown-key-system",
    ),
    pytest.param(
        "version: 1\n",
        "version: 1\nsystem: []\n",
        [f"aims.yaml:2: system: unknown key 'system'; allowed keys: {TOP_KEYS}"],
        id="unknown-key-top-level",
    ),
    pytest.param(
        MLFLOW_LINE,
        "    mlflow: {experiment: scorer, model: scorer}\n",
        [
            "aims.yaml:12: systems[0].mlflow.model: unknown key 'model'; "
            "allowed keys: experiment, registered_model, alias"
        ],
        id="unknown-key-mlflow",
    ),
    pytest.param(
        "      accuracy: {min: 0.8}\n",
        "      accuracy: {min: 0.8, maximum: 1}\n",
        [
            "aims.yaml:17: systems[0].performance.accuracy.maximum: unknown key 'maximum'; "
            "allowed keys: min, max"
        ],
        id="unknown-key-threshold",
    ),
    pytest.param(
        RESIDUAL_LINE,
        "    residual: {likelihood: 2, impact: 4, score: 8}\n",
        [
            "aims.yaml:27: risks[0].residual.score: unknown key 'score'; "
            "allowed keys: likelihood, impact"
        ],
        id="unknown-key-residual",
    ),
    pytest.param(
        "  name: Acme\n",
        "  nam: Acme\n",
        [
            "aims.yaml:3: organization.name: required field is missing",
            "aims.yaml:3: organization.nam: unknown key 'nam'; "
            "allowed keys: name, aims_scope, policy_owner",
        ],
        id="misspelled-required-key",
    ),
    pytest.param(
        "    lifecycle_stage: development\n",
        "    lifecycle_stage: deploy\n",
        [
            "aims.yaml:11: systems[0].lifecycle_stage: 'deploy' is not allowed; use one of: "
            "design, development, validation, deployment, operation, retired"
        ],
        id="bad-lifecycle-stage",
    ),
    pytest.param(
        "    lifecycle_stage: development\n",
        "    lifecycle_stage: development\n    fairness_groups: per_attribute\n",
        [
            "aims.yaml:12: systems[0].fairness_groups: 'per_attribute' is not allowed; use one "
            "of: intersection, each"
        ],
        id="bad-fairness-groups",
    ),
    pytest.param(
        "    category: bias\n",
        "    category: fairness\n",
        [
            "aims.yaml:21: risks[0].category: 'fairness' is not allowed; use one of: bias, "
            "privacy, safety, security, misuse, transparency, robustness, accountability, other"
        ],
        id="bad-risk-category",
    ),
    pytest.param(
        "    treatment: mitigate\n",
        "    treatment: reduce\n",
        [
            "aims.yaml:25: risks[0].treatment: 'reduce' is not allowed; "
            "use one of: mitigate, accept, transfer, avoid"
        ],
        id="bad-treatment",
    ),
    pytest.param(
        "    likelihood: 3\n",
        "    likelihood: 7\n",
        ["aims.yaml:23: risks[0].likelihood: must be an integer from 1 to 5; got 7"],
        id="likelihood-out-of-range",
    ),
    pytest.param(
        "    impact: 4\n",
        "    impact: high\n",
        ["aims.yaml:24: risks[0].impact: must be an integer; got 'high'"],
        id="impact-not-an-integer",
    ),
    pytest.param(
        "    severity: 3\n",
        "    severity: 0\n",
        ["aims.yaml:30: impact_assessments[0].severity: must be an integer from 1 to 5; got 0"],
        id="severity-out-of-range",
    ),
    pytest.param(
        "soa:\n",
        "risk_criteria: {appetite: 30}\nsoa:\n",
        ["aims.yaml:33: risk_criteria.appetite: must be an integer from 1 to 25; got 30"],
        id="appetite-out-of-range",
    ),
    pytest.param(
        "soa:\n",
        "risk_criteria: {likelihood: {1: a, 2: b, 3: c}}\nsoa:\n",
        [
            "aims.yaml:33: risk_criteria.likelihood: must give a label for each level "
            "1, 2, 3, 4, 5; got levels [1, 2, 3]"
        ],
        id="incomplete-likelihood-labels",
    ),
    pytest.param(
        "    category: bias\n",
        "",
        ["aims.yaml:19: risks[0].category: required field is missing"],
        id="missing-risk-category",
    ),
    pytest.param(
        "organization:\n  name: Acme\n  aims_scope: Credit models\n  policy_owner: CRO\n",
        "",
        ["aims.yaml:1: organization: required field is missing"],
        id="missing-organization",
    ),
    pytest.param(
        "version: 1\n",
        "",
        ["aims.yaml:1: version: required field is missing"],
        id="missing-version",
    ),
    pytest.param(
        "version: 1\n",
        "version: 2\n",
        ["aims.yaml:1: version: unsupported version 2; this release of aims_mlops reads version 1"],
        id="unsupported-version",
    ),
    pytest.param(
        "version: 1\n",
        "version: true\n",
        ["aims.yaml:1: version: must be an integer; got true"],
        id="version-not-an-integer",
    ),
    pytest.param(
        "organization:\n",
        "organization: Acme\nx:\n",
        [
            "aims.yaml:2: organization: must be a mapping; got 'Acme'",
            f"aims.yaml:3: x: unknown key 'x'; allowed keys: {TOP_KEYS}",
        ],
        id="organization-not-a-mapping",
    ),
    pytest.param(
        "    sensitive_features: [sex]\n",
        "    sensitive_features: sex\n",
        ["aims.yaml:13: systems[0].sensitive_features: must be a list; got 'sex'"],
        id="features-not-a-list",
    ),
    pytest.param(
        "    name: Scorer\n",
        "    name: 42\n",
        ["aims.yaml:8: systems[0].name: must be a string; got 42"],
        id="name-not-a-string",
    ),
    pytest.param(
        "soa:\n",
        "capture: {strict: maybe}\nsoa:\n",
        ["aims.yaml:33: capture.strict: must be true or false; got 'maybe'"],
        id="strict-not-a-boolean",
    ),
    pytest.param(
        "      accuracy: {min: 0.8}\n",
        "      accuracy: {min: yes}\n",
        ["aims.yaml:17: systems[0].performance.accuracy.min: must be a number; got true"],
        id="threshold-not-a-number",
    ),
    pytest.param(
        "    assessed_on: 2025-01-15\n",
        "    assessed_on: 2025-13-01\n",
        [
            "aims.yaml:32: impact_assessments[0].assessed_on: must be a date (YYYY-MM-DD); "
            "got '2025-13-01'"
        ],
        id="impossible-date",
    ),
    pytest.param(
        "    assessed_on: 2025-01-15\n",
        "    assessed_on: 20250115\n",
        [
            "aims.yaml:32: impact_assessments[0].assessed_on: must be a date (YYYY-MM-DD); "
            "got 20250115"
        ],
        id="date-as-a-number",
    ),
    pytest.param(
        "  - id: scorer\n",
        "  - id: Scorer\n",
        [
            "aims.yaml:7: systems[0].id: 'Scorer' is not a valid id; use lowercase letters, "
            "digits, '-' and '_', starting with a letter or digit",
            "aims.yaml:20: risks[0].system: risk names unknown system 'scorer'; "
            "declared systems: Scorer",
            "aims.yaml:29: impact_assessments[0].system: impact assessment for unknown system "
            "'scorer'; declared systems: Scorer",
        ],
        id="system-id-not-a-slug",
    ),
    pytest.param(
        MLFLOW_LINE,
        MLFLOW_LINE + "    data_quality:\n      expectations:\n"
        "        - {type: column_not_null, kwargs: {column: age}}\n",
        [
            "aims.yaml:15: systems[0].data_quality.expectations[0].type: 'column_not_null' is "
            "not a Great Expectations expectation type; use a name that starts with 'expect_', "
            "e.g. expect_column_values_to_not_be_null"
        ],
        id="bad-expectation-type",
    ),
    pytest.param(
        MLFLOW_LINE,
        MLFLOW_LINE + "    monitoring: {psi_max: 0, ks_pvalue_min: 1.5, interval_days: 0}\n",
        [
            "aims.yaml:13: systems[0].monitoring.interval_days: must be an integer from 1 to "
            "3650; got 0",
            "aims.yaml:13: systems[0].monitoring.psi_max: must be a number greater than 0; got 0",
            "aims.yaml:13: systems[0].monitoring.ks_pvalue_min: must be a number between 0 and 1 "
            "(exclusive); got 1.5",
        ],
        id="bad-monitoring-limits",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE
        + "    indicator: {kind: fairness, metric: dpd, bands: [0.1, 0.05, 0.2, 0.3]}\n",
        [
            "aims.yaml:28: risks[0].indicator.bands: must be 4 ascending numbers, "
            "e.g. [0.02, 0.05, 0.1, 0.2]; got [0.1, 0.05, 0.2, 0.3]"
        ],
        id="bands-not-ascending",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE + "    indicator: {kind: fairness, metric: dpd, bands: [0.1, 0.2]}\n",
        [
            "aims.yaml:28: risks[0].indicator.bands: must be 4 ascending numbers, "
            "e.g. [0.02, 0.05, 0.1, 0.2]; got [0.1, 0.2]"
        ],
        id="bands-too-few",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE + "    indicator: {kind: performance, metric: accuracy,"
        " direction: lower_is_worse, bands: [0.75, 0.8, 0.85, 0.9]}\n",
        [
            "aims.yaml:28: risks[0].indicator.bands: must be 4 descending numbers when direction"
            " is lower_is_worse, e.g. [0.9, 0.85, 0.8, 0.75]; got [0.75, 0.8, 0.85, 0.9]"
        ],
        id="bands-not-descending-for-lower-is-worse",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE + "    indicator: {kind: performance, metric: accuracy,"
        " direction: lower, bands: [0.9, 0.85, 0.8, 0.75]}\n",
        [
            "aims.yaml:28: risks[0].indicator.direction: 'lower' is not allowed; "
            "use one of: higher_is_worse, lower_is_worse"
        ],
        id="unknown-indicator-direction",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE + "    indicator: {kind: vibes, metric: dpd, bands: [0.1, 0.2, 0.3, 0.4]}\n",
        [
            "aims.yaml:28: risks[0].indicator.kind: 'vibes' is not allowed; "
            "use one of: fairness, performance, monitoring, data_quality"
        ],
        id="bad-indicator-kind",
    ),
]

RULE_CASES = [
    pytest.param(
        SOA_LINE,
        "  - {control: A.10.4, applicable: false}\n",
        [
            "aims.yaml:34: soa[0].justification: excluding a control (applicable: false) "
            "requires a non-blank justification"
        ],
        id="exclusion-without-justification",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: A.10.4, applicable: false, justification: '   '}\n",
        [
            "aims.yaml:34: soa[0].justification: excluding a control (applicable: false) "
            "requires a non-blank justification"
        ],
        id="exclusion-with-blank-justification",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: A.10.9, applicable: false, justification: no such activity here}\n",
        [
            "aims.yaml:34: soa[0].control: 'A.10.9' is not a clause or control id of the "
            "catalog; did you mean A.10.4, A.10.3, A.10.2?"
        ],
        id="unknown-soa-control",
    ),
    pytest.param(
        "    controls: [A.5.4]\n",
        "    controls: [A.5.4, A.99]\n",
        [
            "aims.yaml:26: risks[0].controls[1]: 'A.99' is not a clause or control id of the "
            "catalog; did you mean A.9.4, A.9.3, A.9.2?"
        ],
        id="unknown-risk-control",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: 6.1, applicable: false, justification: no such activity here}\n",
        [
            "aims.yaml:34: soa[0].control: '6.1' is a management-system clause; clauses are "
            "mandatory and cannot be excluded"
        ],
        id="clause-excluded",
    ),
    pytest.param(
        "    system: scorer\n    category",
        "    system: scorr\n    category",
        [
            "aims.yaml:20: risks[0].system: risk names unknown system 'scorr'; "
            "declared systems: scorer"
        ],
        id="risk-for-unknown-system",
    ),
    pytest.param(
        "  - system: scorer\n    severity",
        "  - system: other\n    severity",
        [
            "aims.yaml:29: impact_assessments[0].system: impact assessment for unknown system "
            "'other'; declared systems: scorer"
        ],
        id="assessment-for-unknown-system",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: A.10.4, applicable: true, systems: [ghost]}\n",
        [
            "aims.yaml:34: soa[0].systems[0]: SoA decision names unknown system 'ghost'; "
            "declared systems: scorer"
        ],
        id="soa-for-unknown-system",
    ),
    pytest.param(
        SOA_LINE,
        SOA_LINE + "audit_programme: {scope: [scorer, A.6, '9', 9.1, scorr]}\n",
        [
            "aims.yaml:35: audit_programme.scope[4]: audit programme scope names 'scorr', "
            "neither a declared system nor a catalog entry or group (did you mean scorer?); "
            "declared systems: scorer"
        ],
        id="audit-scope-unknown-system",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: A.10.4, applicable: true, systems: []}\n",
        [
            "aims.yaml:34: soa[0].systems: must name at least one system; omit 'systems' for a "
            "decision that covers every system"
        ],
        id="soa-empty-systems",
    ),
    pytest.param(
        SOA_LINE,
        SOA_LINE + "  - {control: A.10.4, applicable: true}\n",
        [
            "aims.yaml:35: soa[1].control: control 'A.10.4' is decided twice for every system "
            "(first at soa[0])"
        ],
        id="control-decided-twice",
    ),
    pytest.param(
        SOA_LINE,
        "  - {control: A.5.4, applicable: true, systems: [scorer]}\n"
        "  - {control: A.5.4, applicable: false, justification: no such activity here,"
        " systems: [scorer]}\n",
        [
            # the risk that A.5.4 treats now names an excluded control: both sides are named
            "aims.yaml:26: risks[0].controls[0]: A.5.4 treats risk R1 but soa[1] excludes it "
            "for scorer: a control excluded in the Statement of Applicability cannot treat a risk",
            "aims.yaml:35: soa[1].control: control 'A.5.4' is decided twice for system "
            "'scorer' (first at soa[0])",
        ],
        id="control-decided-twice-for-a-system",
    ),
    pytest.param(
        "risks:\n",
        "  - id: scorer\n    name: Again\nrisks:\n",
        [
            "aims.yaml:18: systems[1].id: duplicate system id 'scorer' "
            "(first declared at systems[0])"
        ],
        id="duplicate-system-id",
    ),
    pytest.param(
        RESIDUAL_LINE,
        RESIDUAL_LINE + "  - {id: R1, category: other, description: d, likelihood: 1, impact: 1,"
        " treatment: accept}\n",
        ["aims.yaml:28: risks[1].id: duplicate risk id 'R1' (first declared at risks[0])"],
        id="duplicate-risk-id",
    ),
    pytest.param(
        "risks:\n",
        "  - {id: copy, mlflow: {experiment: scorer}}\nrisks:\n",
        [
            "aims.yaml:18: systems[1].mlflow.experiment: MLflow experiment 'scorer' is already "
            "bound to system 'scorer'; each experiment and registered model maps to one system"
        ],
        id="experiment-bound-twice",
    ),
    pytest.param(
        "    controls: [A.5.4]\n",
        "    controls: []\n",
        [
            "aims.yaml:26: risks[0].controls: treatment 'mitigate' needs at least one treating "
            "control (catalog id, e.g. A.7.4)"
        ],
        id="mitigate-without-controls",
    ),
    pytest.param(
        RESIDUAL_LINE,
        "    residual: {likelihood: 4, impact: 4}\n",
        [
            "aims.yaml:27: risks[0].residual.likelihood: residual likelihood (4) is greater than "
            "the inherent likelihood (3); treatment cannot make a risk worse"
        ],
        id="residual-above-inherent",
    ),
    pytest.param(
        "      accuracy: {min: 0.8}\n",
        "      accuracy: {min: 0.9, max: 0.8}\n",
        ["aims.yaml:17: systems[0].performance.accuracy.min: min (0.9) is greater than max (0.8)"],
        id="threshold-min-above-max",
    ),
    pytest.param(
        "      accuracy: {min: 0.8}\n",
        "      accuracy: {}\n",
        ["aims.yaml:17: systems[0].performance.accuracy: a threshold needs 'min', 'max' or both"],
        id="threshold-without-bounds",
    ),
    pytest.param(
        "    lifecycle_stage: development\n",
        "    lifecycle_stage: development\n    in_scope: false\n",
        [
            "aims.yaml:7: systems[0].scope_reason: required when in_scope is false: say why the "
            "system is out of the AIMS scope"
        ],
        id="out-of-scope-without-reason",
    ),
    pytest.param(
        "    sensitive_features: [sex]\n",
        "",
        [
            "aims.yaml:7: systems[0].sensitive_features: fairness thresholds are declared but "
            "sensitive_features is empty; name the sensitive features (e.g. [sex, race])"
        ],
        id="fairness-without-sensitive-features",
    ),
]

YAML_CASES = [
    pytest.param(
        "    owner: Jane Doe\n",
        "    owner: Jane Doe\n    owner: John Roe\n",
        [
            "aims.yaml:10: systems[0].owner: duplicate key 'owner' (first at line 9); each key "
            "may appear once in a mapping"
        ],
        id="duplicate-yaml-key",
    ),
    pytest.param(
        "  - id: R1\n",
        "  - id: R1\n    likelihood: 3\n",
        [
            "aims.yaml:24: risks[0].likelihood: duplicate key 'likelihood' (first at line 20); "
            "each key may appear once in a mapping"
        ],
        id="duplicate-yaml-key-in-list-item",
    ),
    pytest.param(
        "    owner: Jane Doe\n",
        "    owner: Jane: Doe\n",
        ["aims.yaml:9: YAML syntax error: mapping values are not allowed here"],
        id="yaml-syntax-error",
    ),
    pytest.param(
        "  name: Acme\n",
        "  name: [Acme\n",
        ["aims.yaml:4: YAML syntax error: expected ',' or ']', but got ':'"],
        id="yaml-unclosed-bracket",
    ),
    pytest.param(
        "    category: bias\n",
        "    category: bias\n\tfoo: 1\n",
        ["aims.yaml:22: YAML syntax error: found character '\\t' that cannot start any token"],
        id="yaml-tab",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), [*SHAPE_CASES, *RULE_CASES, *YAML_CASES])
def test_malformed_config_reports_exact_lines(old: str, new: str, expected: list[str]) -> None:
    assert problems_of(edited(old, new)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "",
            "aims.yaml:1: the file is empty; it needs at least 'version: 1' and 'organization' "
            "(run `aims init` for a commented example)",
            id="empty",
        ),
        pytest.param(
            "# nothing but a comment\n",
            "aims.yaml:1: the file is empty; it needs at least 'version: 1' and 'organization' "
            "(run `aims init` for a commented example)",
            id="only-comments",
        ),
        pytest.param(
            "- version: 1\n",
            "aims.yaml:1: the top level must be a mapping with keys such as version, "
            "organization, systems; got a list",
            id="top-level-list",
        ),
        pytest.param(
            "\n\nhello\n",
            "aims.yaml:3: the top level must be a mapping with keys such as version, "
            "organization, systems; got 'hello'",
            id="top-level-scalar",
        ),
        pytest.param(
            "version: 1\n---\nversion: 1\n",
            "aims.yaml:2: YAML syntax error: expected a single document in the stream "
            "but found another document",
            id="two-documents",
        ),
    ],
)
def test_unusable_documents(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_several_problems_are_reported_together_in_line_order() -> None:
    text = (
        BASE.replace("    owner: Jane Doe\n", "    ownr: Jane Doe\n")
        .replace("    likelihood: 3\n", "    likelihood: 9\n")
        .replace("    system: scorer\n    category", "    system: ghost\n    category")
        .replace(SOA_LINE, "  - {control: A.10.4, applicable: false}\n")
    )
    assert problems_of(text, source="conf/aims.yaml") == [
        f"conf/aims.yaml:9: systems[0].ownr: unknown key 'ownr'; allowed keys: {SYSTEM_KEYS}",
        "conf/aims.yaml:20: risks[0].system: risk names unknown system 'ghost'; "
        "declared systems: scorer",
        "conf/aims.yaml:23: risks[0].likelihood: must be an integer from 1 to 5; got 9",
        "conf/aims.yaml:34: soa[0].justification: excluding a control (applicable: false) "
        "requires a non-blank justification",
    ]


def test_config_error_message_is_the_problem_lines() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(edited("    likelihood: 3\n", "    likelihood: 0\n"))
    assert str(caught.value) == (
        "aims.yaml:23: risks[0].likelihood: must be an integer from 1 to 5; got 0"
    )


# --------------------------------------------------------------------------- loading files
def test_load_config_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "aims.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_config(path) == parse_config(BASE)
    path.write_text(edited("    likelihood: 3\n", "    likelihood: 6\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert caught.value.problems == [
        f"{path}:23: risks[0].likelihood: must be an integer from 1 to 5; got 6"
    ]


def test_load_config_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "aims.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert caught.value.problems == [
        f"{missing}: file not found (run `aims init` to create one, "
        "or set $AIMS_CONFIG to the path of your aims.yaml)"
    ]


def test_default_path_is_aims_yaml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_config_path() == Path("aims.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.problems == [
        "aims.yaml: file not found (run `aims init` to create one, "
        "or set $AIMS_CONFIG to the path of your aims.yaml)"
    ]
    (tmp_path / "aims.yaml").write_text(BASE, encoding="utf-8")
    assert load_config().organization.name == "Acme"


def test_aims_config_environment_variable_is_respected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aims.yaml").write_text(BASE, encoding="utf-8")
    other = tmp_path / "elsewhere.yaml"
    other.write_text(BASE.replace("name: Acme", "name: Elsewhere Inc"), encoding="utf-8")
    monkeypatch.setenv("AIMS_CONFIG", str(other))
    assert default_config_path() == other
    assert load_config().organization.name == "Elsewhere Inc"
    # an explicit path wins over the environment
    assert load_config(tmp_path / "aims.yaml").organization.name == "Acme"


def test_importing_config_loads_no_heavy_library() -> None:
    code = (
        "import sys, aims_mlops.config as c; c.parse_config(c.example_config_text()); "
        "heavy = [m for m in ('mlflow', 'great_expectations', 'fairlearn', 'sklearn', "
        "'ipywidgets', 'pandas') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_merge_keys_are_not_duplicates_but_repeated_keys_are() -> None:
    text = edited(
        MLFLOW_LINE,
        MLFLOW_LINE + "    monitoring: &watch {psi_max: 0.3, interval_days: 3}\n",
    ).replace(
        "risks:\n",
        "  - id: twin\n    monitoring:\n      <<: *watch\n      psi_max: 0.1\nrisks:\n",
    )
    config = parse_config(text)
    twin = config.system("twin").monitoring
    assert twin is not None
    assert (twin.interval_days, twin.psi_max) == (3, 0.1)
    repeated = text.replace("      psi_max: 0.1\n", "      psi_max: 0.1\n      psi_max: 0.2\n")
    assert problems_of(repeated) == [
        "aims.yaml:23: systems[1].monitoring.psi_max: duplicate key 'psi_max' (first at line 22); "
        "each key may appear once in a mapping"
    ]


@pytest.mark.parametrize("reason", ["n/a", "  TBD ", "-", "none", "too short"])
def test_a_placeholder_is_no_reason(reason: str) -> None:
    """Excluding a control or leaving a system out of scope needs a reason an auditor can check:
    a placeholder or a few characters is refused with the line and field."""
    with pytest.raises(ConfigError) as err:
        parse_config(
            edited(
                SOA_LINE, f"  - {{control: A.10.4, applicable: false, justification: '{reason}'}}\n"
            )
        )
    [problem] = err.value.problems
    assert problem.startswith("aims.yaml:34: soa[0].justification: ")
    assert problem.endswith(
        ERROR_PLACEHOLDER_REASON.format(got=" ".join(reason.split()), minimum=MIN_REASON_CHARS)
    )


# --------------------------------------------------------------------------- people named
PEOPLE = """\
people:
  - {name: Jane Doe, roles: [top_management]}
  - {name: CRO}
  - {name: Ann Audit, roles: [internal_auditor]}
"""


def test_names_are_checked_against_people_even_without_keys() -> None:
    """Declared people without public keys: an owner, an acceptance, an approver, a policy
    owner or an auditor nobody listed is an error with its line and field."""
    from aims_mlops.config._models import ERROR_NOT_A_PERSON

    known = "Jane Doe, CRO, Ann Audit"
    listed = BASE + PEOPLE
    assert parse_config(listed).people[0].name == "Jane Doe"  # every name listed: valid
    text = (
        listed.replace("policy_owner: CRO", "policy_owner: Chief Risk Officer")
        .replace("owner: Jane Doe", "owner: Eve Typed")
        .replace(
            RESIDUAL_LINE,
            "    residual: {likelihood: 3, impact: 4}\n"
            "    acceptance: {by: Mallory, on: 2025-01-10}\n",
        )
        + "approvers:\n  A.2: [top_management, Nobody]\n"
        + "audit_programme:\n  auditors: [internal_auditor, Ann Audit, Zed]\n"
    )
    not_listed = [p for p in problems_of(text) if "is not one of the people" in p]
    assert not_listed == [
        f"aims.yaml:5: organization.policy_owner: "
        f"{ERROR_NOT_A_PERSON.format(name='Chief Risk Officer', known=known)}",
        f"aims.yaml:9: systems[0].owner: "
        f"{ERROR_NOT_A_PERSON.format(name='Eve Typed', known=known)}",
        f"aims.yaml:28: risks[0].acceptance.by: "
        f"{ERROR_NOT_A_PERSON.format(name='Mallory', known=known)}",
        f"aims.yaml:41: approvers.A.2[1]: {ERROR_NOT_A_PERSON.format(name='Nobody', known=known)}",
        f"aims.yaml:43: audit_programme.auditors[2]: "
        f"{ERROR_NOT_A_PERSON.format(name='Zed', known=known)}",
    ]


def test_without_people_names_stay_free_text() -> None:
    text = BASE.replace("owner: Jane Doe", "owner: Eve Typed")
    assert parse_config(text).systems[0].owner == "Eve Typed"
