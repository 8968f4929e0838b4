"""The MLflow storage contract: names, paths, and the one parse of a stored record (no MLflow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aims_mlops.evidence import EvidenceRecord, canonical_json, new_record, new_signing_key
from aims_mlops.store import _contract as contract
from aims_mlops.store._verify import _Downloaded, verify_tag

RUN = "run-1"


def make(**kwargs: Any) -> EvidenceRecord:
    base: dict[str, Any] = {"kind": "fairness", "system": "s", "outcome": "pass"}
    base.update(kwargs)
    return new_record(collector="tests.contract", **base)


def no_fetch(path: str) -> bytes | None:
    raise AssertionError(f"an inline tag must not fetch {path}")


def parse(
    value: str,
    record_id: str,
    fetch: contract.ArtifactFetcher = no_fetch,
) -> contract.StoredRecord:
    return contract.parse_stored(run_id=RUN, record_id=record_id, value=value, fetch=fetch)


def test_contract_imports_no_mlflow() -> None:
    code = "import sys, aims_mlops.store._contract; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_names_and_paths() -> None:
    record = make()
    assert contract.evidence_tag(record.id) == f"aims.evidence.{record.id}"
    assert contract.record_id_of_tag(f"aims.evidence.{record.id}") == record.id
    assert contract.record_id_of_tag("aims.system") is None
    assert contract.artifact_path(record) == f"aims/evidence/fairness/{record.id}.json"
    assert contract.dataset_sha256_tag("abc") == "aims.dataset_sha256.abc"
    assert contract.own_run_tags(make(system=None)) == {
        "aims.kind": "fairness",
        "aims.scope": "organization",
    }
    assert contract.run_level_tags([record, make(system=None)])["aims.scope"] == "organization"
    assert contract.evidence_tags({"aims.evidence.b": "2", "x": "y", "aims.evidence.a": "1"}) == {
        "a": "1",
        "b": "2",
    }
    assert contract.dataset_digests(["d1", None, "d1"], {"aims.dataset_sha256.d1": "full"}) == (
        "d1",
        "full",
    )


def test_inline_record_parses() -> None:
    record = make()
    stored = parse(contract.tag_value(record), record.id)
    assert stored.record == record and stored.problems == () and not stored.pointer


def test_altered_broken_and_misnamed_tags_are_problems() -> None:
    record = make()
    forged = json.loads(record.to_json())
    forged["outcome"] = "fail"
    altered = parse(canonical_json(forged), record.id)
    assert altered.record is None and altered.decoded is not None
    assert altered.problems == (
        contract.PROBLEM_ALTERED.format(id=record.id, run_id=RUN, where="tag"),
    )
    broken = parse('{"id": "not closed', record.id)
    assert broken.record is None and "not valid JSON" in broken.problems[0]
    malformed = parse('{"id": "x"}', record.id)
    assert "holds no valid record" in malformed.problems[0]
    other = parse(contract.tag_value(record), "another-id")
    assert other.problems == (
        contract.PROBLEM_ID_MISMATCH.format(id="another-id", run_id=RUN, other=record.id),
    )


def test_the_parse_leaves_signatures_to_the_trust_check() -> None:
    signed = make().signed(new_signing_key())
    assert parse(contract.tag_value(signed), signed.id).record == signed


def test_pointer_reads_the_artifact_it_names() -> None:
    big = make(details={"x": "z" * 8_000})
    value = contract.tag_value(big)
    assert contract.is_pointer(json.loads(value))
    asked: list[str] = []

    def fetch(path: str) -> bytes | None:
        asked.append(path)
        return big.to_json().encode()

    stored = parse(value, big.id, fetch)
    assert stored.record == big and stored.pointer and asked == [contract.artifact_path(big)]
    missing = parse(value, big.id, lambda path: None)
    assert missing.problems == (
        contract.PROBLEM_ARTIFACT_MISSING.format(
            id=big.id, run_id=RUN, path=contract.artifact_path(big)
        ),
    )
    other = make(details={"x": "y" * 8_000})
    swapped = parse(value, big.id, lambda path: other.to_json().encode())
    assert any("differs from the tag" in p for p in swapped.problems)
    assert any("holds record" in p for p in swapped.problems)
    unsafe = json.dumps({"id": big.id, "content_hash": big.content_hash, "artifact": "../x"})
    assert "is missing" in parse(unsafe, big.id, no_fetch).problems[0]


def test_verify_checks_the_artifact_of_an_inline_tag(tmp_path: Path) -> None:
    record = make()
    folder = _Downloaded(tmp_path)
    value = contract.tag_value(record)
    assert verify_tag(RUN, record.id, value, folder, None) == [
        contract.PROBLEM_ARTIFACT_MISSING.format(
            id=record.id, run_id=RUN, path=contract.artifact_path(record)
        )
    ]
    file = tmp_path / "fairness" / f"{record.id}.json"
    file.parent.mkdir()
    file.write_text(record.to_json(), encoding="utf-8")
    assert verify_tag(RUN, record.id, value, folder, None) == []
    file.write_text(record.to_json().replace('"pass"', '"fail"'), encoding="utf-8")
    assert verify_tag(RUN, record.id, value, folder, None) == [
        contract.PROBLEM_ARTIFACT_DIFFERS.format(
            id=record.id, run_id=RUN, path=contract.artifact_path(record)
        )
    ]
    broken = verify_tag(RUN, record.id, "not json", folder, None)
    assert len(broken) == 1 and "not valid JSON" in broken[0]  # the artifact is found by id
