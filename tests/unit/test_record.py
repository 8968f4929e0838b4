"""Evidence records: canonical, content-hashed, tamper-evident, lossless round trip."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from aims_mlops import EvidenceError
from aims_mlops.evidence import (
    EvidenceRecord,
    Subject,
    canonical_json,
    new_record,
    new_signing_key,
)
from aims_mlops.evidence._record import (
    ERROR_BAD_METRIC,
    ERROR_BAD_SIGNATURE,
    ERROR_HASH_MISMATCH,
    ERROR_UNKNOWN_OUTCOME,
    MAX_DETAILS_CHARS,
)


def make(**overrides: object) -> EvidenceRecord:
    arguments: dict[str, object] = {
        "kind": "fairness",
        "system": "credit",
        "outcome": "fail",
        "collector": "test",
        "subject": Subject(run_id="r1", model_name="m", model_version="3", dataset_digests=("d1",)),
        "metrics": {"demographic_parity_difference": 0.19},
        "details": {"checks": [{"metric": "x", "passed": False}], "note": "é ünïcode"},
        "controls": ["A.6.2.4", "A.5.4"],
    }
    arguments.update(overrides)
    return new_record(**arguments)  # type: ignore[arg-type]


def test_hash_is_sha256_of_canonical_content() -> None:
    record = make()
    content = record.to_dict()
    del content["content_hash"], content["signature"]
    expected = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert record.content_hash == expected
    assert record.controls == ("A.5.4", "A.6.2.4")


def test_round_trip_is_lossless() -> None:
    record = make()
    again = EvidenceRecord.from_json(record.to_json())
    assert again == record
    assert again.to_json() == record.to_json()
    again.verify()


def test_any_change_is_detected() -> None:
    record = make()
    data = json.loads(record.to_json())
    data["metrics"]["demographic_parity_difference"] = 0.01
    tampered = EvidenceRecord.from_dict(data)
    with pytest.raises(EvidenceError) as info:
        tampered.verify()
    assert str(info.value) == ERROR_HASH_MISMATCH.format(id=record.id)


def test_record_is_immutable() -> None:
    record = make()
    with pytest.raises(AttributeError):
        record.outcome = "pass"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.metrics["demographic_parity_difference"] = 0.0  # type: ignore[index]


def test_signature_verifies_only_with_the_right_key() -> None:
    key, other = new_signing_key(), new_signing_key()
    record = make(signing_key=key)
    assert record.key_id == key.key_id and record.signature.startswith(f"ed25519:{key.key_id}:")
    record.verify(key=key.public_key)
    with pytest.raises(EvidenceError) as info:
        record.verify(key=other.public_key)
    assert str(info.value) == ERROR_BAD_SIGNATURE.format(id=record.id, key_id=other.key_id)
    with pytest.raises(EvidenceError):
        replace(record, signature=None).verify(key=key.public_key)
    forged = replace(record, outcome="pass")
    forged = replace(forged, content_hash=forged.compute_hash())  # recomputed: hash holds
    forged.verify()
    with pytest.raises(EvidenceError):
        forged.verify(key=key.public_key)  # the signature does not


def test_bad_outcome_and_metric_are_rejected() -> None:
    with pytest.raises(EvidenceError) as info:
        make(outcome="ok")
    assert str(info.value) == ERROR_UNKNOWN_OUTCOME.format(value="ok")
    with pytest.raises(EvidenceError) as info:
        make(metrics={"x": float("nan")})
    assert str(info.value) == ERROR_BAD_METRIC.format(name="x", value=float("nan"))
    with pytest.raises(EvidenceError):
        make(metrics={"x": "high"})


def test_details_are_bounded() -> None:
    with pytest.raises(EvidenceError, match="put large tables in a run artifact"):
        make(details={"rows": ["x" * 100] * (MAX_DETAILS_CHARS // 100)})


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1})
    assert canonical_json({"a": 1}) == '{"a":1}'


def test_malformed_json_is_a_clear_error() -> None:
    with pytest.raises(EvidenceError, match="not valid JSON"):
        EvidenceRecord.from_json("{nope")
    with pytest.raises(EvidenceError, match="malformed evidence record"):
        EvidenceRecord.from_dict({"id": "x"})
