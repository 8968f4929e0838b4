"""The control catalog: agreement with the reference list, evidence rules, validation errors."""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aims_mlops import CatalogError
from aims_mlops.catalog import (
    CONFIG_CHECKS,
    Catalog,
    CatalogEntry,
    EvidenceRule,
    load_catalog,
    parse_catalog,
)
from aims_mlops.catalog import _catalog as C
from aims_mlops.catalog import _rule as R
from aims_mlops.evidence import load_kinds

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "iso42001" / "reference.yaml"
#: A byte-for-byte copy of the shared reference list, so a clone without ``../shared`` (CI)
#: still checks the catalog against it; the next test keeps the copy honest.
VENDORED_REFERENCE = REPO_ROOT / "tests" / "data" / "iso42001_reference.yaml"
REFERENCE = SHARED_REFERENCE if SHARED_REFERENCE.is_file() else VENDORED_REFERENCE
NIST_PATTERN = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d\.\d+$")
CLAUSE_GROUP_TITLES = {
    "4": "Context of the organization",
    "5": "Leadership",
    "6": "Planning",
    "7": "Support",
    "8": "Operation",
    "9": "Performance evaluation",
    "10": "Improvement",
}


def _raw() -> dict[str, Any]:
    """The shipped catalog YAML as plain data, for making broken variants."""
    text = importlib.resources.files("aims_mlops.catalog").joinpath("iso42001.yaml").read_text()
    return yaml.safe_load(text)


def _entry(data: dict[str, Any], entry_id: str) -> dict[str, Any]:
    return next(e for e in data["entries"] if e["id"] == entry_id)


def _parse(data: dict[str, Any]) -> Catalog:
    return parse_catalog(yaml.safe_dump(data, sort_keys=False), source="test.yaml")


# ----------------------------------------------------------------------------- contents


@pytest.mark.skipif(
    not SHARED_REFERENCE.is_file(),
    reason=f"shared reference list not found at {SHARED_REFERENCE}: the vendored copy is used",
)
def test_vendored_reference_list_is_a_copy_of_the_shared_one() -> None:
    assert VENDORED_REFERENCE.read_bytes() == SHARED_REFERENCE.read_bytes()


def test_agrees_with_reference_list_in_every_id_title_and_objective() -> None:
    ref = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    expected: list[tuple[str, str, str, str, str]] = [
        (
            c["id"],
            c["title"],
            "clause",
            c["id"].split(".")[0],
            CLAUSE_GROUP_TITLES[c["id"].split(".")[0]],
        )
        for c in ref["clauses"]
    ]
    for objective, body in ref["annex_a"].items():
        expected += [
            (c["id"], c["title"], "control", objective, body["title"]) for c in body["controls"]
        ]
    actual = [(e.id, e.title, e.kind, e.group, e.group_title) for e in load_catalog()]
    assert actual == expected
    assert load_catalog().get("9.1").title == "Monitoring, measurement, analysis and evaluation"


def test_counts_and_groups() -> None:
    catalog = load_catalog()
    assert (len(catalog.clauses), len(catalog.controls), len(catalog)) == (29, 38, 67)
    groups = catalog.groups()
    assert list(groups) == [*CLAUSE_GROUP_TITLES, *(f"A.{n}" for n in range(2, 11))]
    assert {k: groups[k] for k in CLAUSE_GROUP_TITLES} == CLAUSE_GROUP_TITLES
    assert groups["A.6"] == "AI system life cycle"


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_automatable_controls_need_no_attestation() -> None:
    catalog = load_catalog()
    automatable = {e.id for e in catalog.automatable()}
    assert len(automatable) >= 15
    # every part must hold, so a control is automatable when no part needs an attestation (of an
    # any_of part, one option suffices); A.4.2 derives from A.4.6, which only an attestation
    # satisfies, so it is not automatable
    expected = {
        e.id
        for e in catalog.controls
        if all(
            p.kind != "attestation"
            and (p.kind != "any_of" or any(o.kind != "attestation" for o in p.options))
            and (p.kind != "derived" or e.id != "A.4.2")
            for p in e.rule.parts
        )
    }
    assert automatable == expected
    assert "A.4.2" not in automatable and "A.7.4" in automatable
    assert "A.8.2" in automatable  # a system card logged with the version is one way
    # a named owner in aims.yaml is one part of A.3.2; the RACI attestation is the other
    assert "A.3.2" not in automatable
    assert all(e.kind == "control" for e in catalog.automatable())


def test_every_control_has_a_nist_ai_rmf_mapping_from_the_crosswalk_file() -> None:
    catalog = load_catalog()
    nist = catalog.crosswalk("nist-ai-rmf")
    vocabulary = {item.id for item in nist.framework.items}
    assert len(vocabulary) == 72  # NIST AI RMF 1.0 has 72 subcategories
    assert all(NIST_PATTERN.match(i) for i in vocabulary)
    for entry in catalog.controls:
        refs = nist.items_for(entry.id)
        assert refs, entry.id
        assert set(refs) <= vocabulary
    assert nist.items_for("A.5.4") == ("MAP 5.1", "MEASURE 2.11")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_descriptions_are_own_words_not_titles() -> None:
    catalog = load_catalog()
    titles = [_words(e.title) for e in catalog]
    runs = {tuple(t[i : i + 5]) for t in titles for i in range(len(t) - 4)}
    descriptions = [e.description for e in catalog]
    assert len(set(descriptions)) == len(descriptions)
    for entry in catalog:
        words = _words(entry.description)
        assert " ".join(_words(entry.title)) not in " ".join(words) or len(entry.title.split()) < 3
        shared = [tuple(words[i : i + 5]) for i in range(len(words) - 4)]
        assert not runs.intersection(shared), (entry.id, runs.intersection(shared))
        sentences = re.findall(r"[.!?](?:\s|$)", entry.description)
        assert 1 <= len(sentences) <= 2, entry.id
        assert "auditor" in entry.description.lower(), entry.id


def test_evidence_rules_from_the_brief() -> None:
    c = load_catalog()
    assert c.get("A.4.2").rule.derived_from == ("A.4.3", "A.4.4", "A.4.5", "A.4.6")
    # (performance and data_quality and fairness) or genai_evaluation, as equivalent groups
    assert [p.kinds for p in c.get("A.6.2.4").rule.parts] == [
        ("performance", "genai_evaluation"),
        ("data_quality", "genai_evaluation"),
        ("fairness", "genai_evaluation"),
    ]
    assert c.get("A.6.2.4").rule.fresh_days == 90
    assert (c.get("A.6.2.6").rule.parts[0].kinds, c.get("A.6.2.6").rule.fresh_days) == (
        ("monitoring", "monitoring.traces"),
        30,
    )
    assert (c.get("9.1").rule.kinds, c.get("9.1").scope) == (
        ("monitoring", "monitoring.traces"),
        "system",
    )
    a32 = c.get("A.3.2")
    assert (a32.rule.config_check, a32.rule.attestation, a32.scope) == (
        "owner_named",
        "RACI for the system",
        "system",
    )
    assert c.get("A.7.3").rule.attestation == "rights to use the data"
    assert c.get("9.3.3").rule.kinds == ("management_review",)
    assert c.get("9.3.3").rule.parts[0].holding == ("decisions",)
    assert c.get("9.2.2").rule.config_checks == ("audit_programme",)
    assert c.get("10.2").rule.kinds == ("nonconformity",)
    assert c.get("8.4").rule.config_check == "impact_assessment"
    assert c.get("A.2.2").scope == "organization"
    # defaults
    assert c.get("A.6.2.7").rule.fresh_days == 365
    assert c.get("A.2.3").rule.fresh_days == 365


def test_how_to_close_names_the_exact_action() -> None:
    c = load_catalog()
    assert c.get("A.2.2").rule.how_to_close.startswith(
        '`aims attest A.2.2 --org --by "<name>" --document <url-or-path>`'
    )
    assert "aims attest A.4.6 --system SYSTEM" in c.get("A.4.6").rule.how_to_close
    assert c.get("A.5.4").rule.how_to_close == (
        '`aims_mlops.assess_fairness(y_true, y_pred, sensitive_features=X[["sex", "race"]])`'
    )
    assert c.get("A.7.4").rule.how_to_close == '`aims_mlops.check_data(df, name="training")`'
    assert c.get("A.6.2.5").rule.how_to_close == "`aims gate SYSTEM --promote`"
    assert c.get("A.8.2").rule.how_to_close.startswith("`aims report SYSTEM` or `aims attest A.8.2")
    # every part's action, joined: A.3.2 needs the declaration and the attestation
    assert c.get("A.3.2").rule.how_to_close == (
        'declare systems[].owner in aims.yaml; and `aims attest A.3.2 --system SYSTEM --by "<name>"'
        ' --document <url-or-path>` (RACI for the system)'
    )
    assert c.get("A.9.4").rule.how_to_close.startswith(
        "declare systems[].intended_use in aims.yaml; and `aims_mlops.monitor(current_df, "
    )
    assert c.get("A.4.3").rule.how_to_close == (
        "`aims_mlops.autolog()` then train inside `mlflow.start_run()`"
    )
    for entry in c:
        assert entry.rule.how_to_close, entry.id


def test_entry_to_dict_round_trips_through_json() -> None:
    entry = load_catalog().get("A.3.2")
    data = json.loads(json.dumps(entry.to_dict()))
    assert data["id"] == "A.3.2" and data["kind"] == "control"
    assert data["title"] == "AI roles and responsibilities"
    assert data["group"] == "A.3" and data["scope"] == "system"
    assert data["rule"]["config_check"] == "owner_named"
    assert data["rule"]["kinds"] == [] and data["rule"]["fresh_days"] == 365
    described = load_catalog().describe("A.3.2")
    assert described["crosswalks"]["nist-ai-rmf"] == ["GOVERN 2.1", "GOVERN 2.3"]
    assert {k: v for k, v in described.items() if k != "crosswalks"} == data


def test_entries_are_frozen_and_keyword_only() -> None:
    entry = load_catalog().get("4.1")
    with pytest.raises(AttributeError):
        entry.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        EvidenceRule(("fairness",))  # type: ignore[misc]
    assert isinstance(entry, CatalogEntry)


def test_mapping_protocol() -> None:
    c = load_catalog()
    assert "A.5.4" in c and "A.5.44" not in c and 4.1 not in c
    assert [e.id for e in c][:2] == ["4.1", "4.2"]
    assert c["A.5.4"] is c.get("A.5.4")


# ------------------------------------------------------------------------------- errors


def test_get_unknown_id_names_close_matches() -> None:
    with pytest.raises(CatalogError) as err:
        load_catalog().get("A.5.44")
    assert str(err.value) == "unknown catalog id 'A.5.44'; did you mean A.5.4, A.9.4, A.8.4?"
    assert str(err.value) == C.ERROR_UNKNOWN_ID.format(id="A.5.44", matches="A.5.4, A.9.4, A.8.4")


def test_get_unknown_id_without_matches() -> None:
    with pytest.raises(CatalogError) as err:
        load_catalog().get("policy")
    assert str(err.value) == C.ERROR_UNKNOWN_ID_NO_MATCH.format(id="policy")
    assert "'4.1'" in str(err.value) and "'A.6.2.4'" in str(err.value)


def test_duplicate_id() -> None:
    data = _raw()
    data["entries"].append(copy.deepcopy(_entry(data, "A.2.2")))
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_DUPLICATE_ID.format(id="A.2.2")
    assert str(err.value) == "catalog id 'A.2.2' appears more than once"


def test_unknown_config_check() -> None:
    data = _raw()
    _entry(data, "8.4")["evidence"]["config_check"] = "purpose_declared"
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == R.ERROR_UNKNOWN_CONFIG_CHECK.format(
        id="8.4", name="purpose_declared", known=", ".join(CONFIG_CHECKS)
    )


def test_derived_from_unknown_id() -> None:
    data = _raw()
    _entry(data, "A.4.2")["evidence"]["derived_from"] = ["A.4.3", "A.4.7"]
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_UNKNOWN_DERIVED_FROM.format(id="A.4.2", ref="A.4.7")


def test_derived_from_cycle() -> None:
    data = _raw()
    _entry(data, "A.4.3")["evidence"] = {"derived_from": ["A.4.2"]}
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_DERIVED_CYCLE.format(
        id="A.4.2", path="A.4.2 -> A.4.3 -> A.4.2"
    )


@pytest.mark.parametrize("value", [0, -5, 1.5, True, "30"])
def test_fresh_days_must_be_positive_whole_days(value: object) -> None:
    data = _raw()
    _entry(data, "A.7.4")["evidence"]["fresh_days"] = value
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == R.ERROR_BAD_FRESH_DAYS.format(id="A.7.4", value=value)


def test_unknown_evidence_kind() -> None:
    data = _raw()
    _entry(data, "A.7.4")["evidence"]["kinds"] = ["data-quality"]
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == R.ERROR_UNKNOWN_KIND.format(
        id="A.7.4",
        kind="data-quality",
        known=", ".join(
            k.name for k in (*load_kinds().with_role("evidence"), *load_kinds().with_role("duty"))
        ),
    )


def test_rule_without_any_evidence_path() -> None:
    data = _raw()
    _entry(data, "A.2.3")["evidence"] = {"fresh_days": 30}
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == R.ERROR_NO_EVIDENCE_PATH.format(id="A.2.3")


def test_unquoted_id_scope_and_fields() -> None:
    text = importlib.resources.files("aims_mlops.catalog").joinpath("iso42001.yaml").read_text()
    with pytest.raises(CatalogError) as err:
        parse_catalog(text.replace('id: "4.2"', "id: 4.2"), source="x.yaml")
    assert str(err.value) == C.ERROR_BAD_ID.format(index=1, value=4.2)

    data = _raw()
    _entry(data, "4.1")["scope"] = "team"
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_BAD_SCOPE.format(id="4.1", value="team")

    data = _raw()
    _entry(data, "4.1")["evidence"]["fresh_day"] = 30
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == R.ERROR_UNKNOWN_FIELD.format(
        id="4.1", field="fresh_day", allowed=", ".join(R.RULE_FIELDS)
    )

    data = _raw()
    del _entry(data, "4.1")["description"]
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_MISSING_FIELD.format(id="4.1", field="description")

    data = _raw()
    del data["groups"]["A.10"]
    with pytest.raises(CatalogError) as err:
        _parse(data)
    assert str(err.value) == C.ERROR_UNKNOWN_GROUP.format(id="A.10.2", group="A.10")


def test_malformed_document() -> None:
    with pytest.raises(CatalogError) as err:
        parse_catalog("- just\n- a list\n", source="x.yaml")
    assert str(err.value) == C.ERROR_MALFORMED.format(source="x.yaml", problem="expected a mapping")
    with pytest.raises(CatalogError) as err:
        parse_catalog("groups: {}\nentries: {}\n", source="x.yaml")
    assert str(err.value) == C.ERROR_MALFORMED.format(
        source="x.yaml", problem="'entries' must be a list"
    )


def test_how_to_close_override_is_kept() -> None:
    data = _raw()
    _entry(data, "A.7.6")["evidence"]["how_to_close"] = "run `make prep` under autolog"
    assert _parse(data).get("A.7.6").rule.how_to_close == "run `make prep` under autolog"


# ------------------------------------------------------------------------- import cost


def test_import_loads_no_heavy_libraries() -> None:
    code = (
        "import json, sys\n"
        "import aims_mlops.catalog as c\n"
        "c.load_catalog()\n"
        "heavy = {'mlflow', 'sklearn', 'great_expectations', 'fairlearn', 'ipywidgets',"
        " 'pandas', 'numpy'}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
