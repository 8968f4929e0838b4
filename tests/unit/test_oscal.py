"""OSCAL Assessment Results export: valid for compliance-trestle's model, complete, reproducible."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal import assessment_results as trestle_ar

from aims_mlops.judgement import Judgement
from aims_mlops.reports._oscal import assessment_results
from tests.unit.test_pack import SYSTEM, make_judgement, make_records


@pytest.fixture
def judgement(tmp_path: Path) -> Judgement:
    return make_judgement(tmp_path)


@pytest.fixture
def document(judgement: Judgement) -> dict[str, Any]:
    return assessment_results(judgement)["assessment-results"]


def all_uuids(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uuid":
                found.append(value)
            else:
                found.extend(all_uuids(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(all_uuids(value))
    return found


def props(node: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in node.get("props", ())}


def test_trestle_parses_the_export(document: dict[str, Any]) -> None:
    model = trestle_ar.AssessmentResults.model_validate(document)
    assert model.metadata.oscal_version.root.root == "1.1.2"
    assert len(model.results) == 1
    # and back to JSON through trestle, unchanged in substance
    again = json.loads(model.oscal_serialize_json(pretty=False, wrapped=False))
    assert again["uuid"] == document["uuid"]
    assert len(again["results"][0]["findings"]) == len(document["results"][0]["findings"])


def test_metadata_and_plan(document: dict[str, Any], judgement: Judgement) -> None:
    metadata = document["metadata"]
    assert metadata["oscal-version"] == "1.1.2"
    assert metadata["last-modified"] == "2026-03-01T12:00:00Z"
    assert metadata["title"].endswith("Example Lending Ltd")
    assert props(metadata)["config-digest"] == judgement.assessment.config_digest
    assert document["import-ap"]["href"]


def test_one_finding_per_judged_entry_with_its_status(
    document: dict[str, Any], judgement: Judgement
) -> None:
    result = document["results"][0]
    statuses = {c.id: c.status for c in judgement.assessment.systems[SYSTEM].controls}
    judged = {k: v for k, v in statuses.items() if v != "not_applicable"}
    findings = {props(f)["control-id"]: f for f in result["findings"]}
    assert set(findings) == set(judged)
    for control, status in judged.items():
        target = findings[control]["target"]
        assert target["type"] == "objective-id"
        expected = "satisfied" if status == "satisfied" else "not-satisfied"
        assert target["status"]["state"] == expected, control
    assert findings["A.6.2.4"]["target"]["status"]["state"] == "not-satisfied"
    assert "demographic_parity_difference = 0.19" in findings["A.6.2.4"]["description"]
    assert findings["A.2.2"]["target"]["status"]["state"] == "satisfied"
    assert findings["4.1"]["target"]["target-id"] == "iso42001-4.1_obj"  # a token
    excluded = result["reviewed-controls"]["control-selections"][0]["exclude-controls"]
    # A.10.3 applies (the census data is a third party's); A.8.3 is applicable: the EU AI Act
    # binds the high-risk system to report incidents
    assert {c["control-id"] for c in excluded} == {"iso42001-A.10.4"}


def test_one_observation_per_record_with_its_hash(
    document: dict[str, Any], judgement: Judgement
) -> None:
    result = document["results"][0]
    by_record = {
        props(o)["record-id"]: o for o in result["observations"] if "record-id" in props(o)
    }
    assert set(by_record) == {r.id for r in judgement.records}
    hashes = {
        r["rlinks"][0]["href"]: r["rlinks"][0]["hashes"][0]["value"]
        for r in document["back-matter"]["resources"]
    }
    for record in judgement.records:
        observation = by_record[record.id]
        expected_method = "EXAMINE" if record.kind == "attestation" else "TEST"
        assert observation["methods"] == [expected_method]
        evidence = observation["relevant-evidence"][0]
        assert evidence["href"] == f"records/{record.id}.json"
        assert props(evidence) == {"record-id": record.id, "content-sha256": record.content_hash}
        member_sha = hashlib.sha256(record.to_json().encode()).hexdigest()
        assert hashes[f"records/{record.id}.json"] == member_sha
        assert observation["collected"] == record.collected_at


def test_findings_link_the_observations_behind_them(
    document: dict[str, Any], judgement: Judgement
) -> None:
    result = document["results"][0]
    observations = {o["uuid"]: o for o in result["observations"]}
    findings = {props(f)["control-id"]: f for f in result["findings"]}
    fairness = next(r for r in judgement.records if r.kind == "fairness")
    linked = [
        observations[link["observation-uuid"]] for link in findings["A.5.4"]["related-observations"]
    ]
    assert [props(o)["record-id"] for o in linked] == [fairness.id]
    config_linked = [
        observations[link["observation-uuid"]] for link in findings["A.9.4"]["related-observations"]
    ]
    assert [o["relevant-evidence"][0]["href"] for o in config_linked] == ["config/aims.yaml"]
    assert "related-observations" not in findings["4.1"]  # missing: nothing to link


def test_export_is_reproducible_and_uuids_are_unique(tmp_path: Path) -> None:
    records = make_records()
    first = assessment_results(make_judgement(tmp_path, records))
    second = assessment_results(make_judgement(tmp_path, records))
    assert first == second
    uuids = all_uuids(first)
    assert len(uuids) > 60
    assert not [u for u, n in Counter(uuids).items() if n > 1]
