"""Attested documents: checked when attested, re-hashed later, carried in the audit pack."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aims_mlops.evidence import EvidenceRecord, new_record
from aims_mlops.evidence._documents import (
    CHECK_NOT_VERIFIABLE,
    CHECK_SHA256,
    ERROR_DOCUMENT_MISSING,
    ERROR_DOCUMENT_NOT_FILE,
    ERROR_DOCUMENT_OUTSIDE,
    ERROR_DOCUMENT_PRIVATE_KEY,
    ERROR_DOCUMENT_UNREADABLE,
    WHY_DOCUMENT_OUTSIDE,
    WHY_DOCUMENT_PRIVATE_KEY,
    DocumentError,
    DocumentScope,
    document_details,
    document_findings,
    is_url,
)
from aims_mlops.reports import build_pack, verify_pack
from aims_mlops.reports._pack import PROBLEM_DOCUMENT_NAME
from tests.unit.test_pack import make_judgement, make_records, members_of, rewrite

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def attestation(
    document: str, *, days_ago: int = 1, valid_days: int | None = None
) -> EvidenceRecord:
    collected = NOW - timedelta(days=days_ago)
    return new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=["A.2.2"],
        details={
            "by": "Dana Smith",
            **document_details(document, min_bytes=1),
            "statement": "policy",
        },
        collected_at=collected.isoformat().replace("+00:00", "Z"),
        valid_until=(
            (collected + timedelta(days=valid_days)).isoformat().replace("+00:00", "Z")
            if valid_days is not None
            else None
        ),
    )


def test_a_local_document_is_hashed_and_a_url_is_marked_not_verifiable(tmp_path: Path) -> None:
    policy = tmp_path / "policy.md"
    policy.write_bytes(b"our AI policy")
    details = document_details(str(policy), min_bytes=10)
    assert details == {
        "document": str(policy.resolve()),
        "document_sha256": hashlib.sha256(b"our AI policy").hexdigest(),
        "document_bytes": 13,
        "document_check": CHECK_SHA256,
    }
    assert (
        document_details(f"file://{policy}", min_bytes=10)["document_sha256"]
        == details["document_sha256"]
    )
    url = document_details("https://intranet.example-lending.com/policy")
    assert url == {
        "document": "https://intranet.example-lending.com/policy",
        "document_sha256": None,
        "document_check": CHECK_NOT_VERIFIABLE,
    }
    assert is_url("s3://bucket/policy.pdf") and not is_url("C:\\policy.pdf")


def test_a_typo_a_directory_or_an_unreadable_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "polcy.md"
    with pytest.raises(DocumentError) as raised:
        document_details(str(missing))
    assert str(raised.value) == ERROR_DOCUMENT_MISSING.format(path=missing)
    with pytest.raises(DocumentError) as raised:
        document_details(str(tmp_path))
    assert str(raised.value) == ERROR_DOCUMENT_NOT_FILE.format(path=tmp_path)
    policy = tmp_path / "policy.md"
    policy.write_text("x")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DocumentError) as raised:
        document_details(str(policy))
    assert str(raised.value) == ERROR_DOCUMENT_UNREADABLE.format(
        path=policy, error="Permission denied"
    )


def test_findings_name_a_changed_or_vanished_document_and_note_a_url(tmp_path: Path) -> None:
    policy, plan = tmp_path / "policy.md", tmp_path / "plan.md"
    policy.write_text("v1")
    plan.write_text("plan")
    records = [
        attestation(str(policy)),
        attestation(str(plan)),
        attestation("https://intranet.example-lending.com/p"),
    ]
    assert [
        f.fault for f in document_findings(records, scope=DocumentScope.of(tmp_path), now=NOW)
    ] == ["not_verifiable"]
    policy.write_text("v1 edited")
    plan.unlink()
    found = {
        f.fault: f for f in document_findings(records, scope=DocumentScope.of(tmp_path), now=NOW)
    }
    assert set(found) == {"changed", "vanished", "not_verifiable"}
    assert found["changed"].record_id == records[0].id and found["changed"].is_problem
    assert str(policy.resolve()) in found["changed"].message
    assert "changed since it was attested" in found["changed"].message
    assert "is gone" in found["vanished"].message and found["vanished"].is_problem
    assert "not verifiable by hash" in found["not_verifiable"].message
    assert not found["not_verifiable"].is_problem


def test_a_document_attested_again_after_an_edit_is_not_a_finding(tmp_path: Path) -> None:
    policy = tmp_path / "policy.md"
    policy.write_text("v1")
    old = attestation(str(policy), days_ago=30)
    policy.write_text("v2")
    new = attestation(str(policy), days_ago=1)
    assert document_findings([old, new], scope=DocumentScope.of(tmp_path), now=NOW) == []
    # an expired attestation no longer counts, so its document is not re-checked
    expired = attestation(str(tmp_path / "policy.md"), days_ago=30, valid_days=10)
    policy.write_text("v3")
    assert document_findings([expired], scope=DocumentScope.of(tmp_path), now=NOW) == []


def test_a_legacy_attestation_of_a_path_without_hash_is_a_finding() -> None:
    legacy = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=["A.2.3"],
        details={"by": "X", "document": "polcy.md", "document_sha256": None},
    )
    [finding] = document_findings([legacy], scope=DocumentScope.of(Path.cwd()))
    assert finding.is_problem and "was never hashed" in finding.message


def test_the_audit_pack_carries_the_attested_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    policy = tmp_path / "AI policy.md"
    policy.write_bytes(b"our AI policy, v1")
    digest = hashlib.sha256(b"our AI policy, v1").hexdigest()
    url = attestation("https://intranet.example-lending.com/p")
    records = [*make_records()[1:], attestation(str(policy)), url]
    output = tmp_path / "pack.zip"
    build_pack(make_judgement(tmp_path, records), output)
    members = members_of(output)
    member = f"documents/{digest}-AI_policy.md"
    assert members[member] == b"our AI policy, v1"
    manifest = json.loads(members["manifest.json"])
    assert manifest["members"][member]["sha256"] == digest
    index = {e["attestation"]: e for e in json.loads(members["documents.json"])}
    assert index[records[-2].id]["status"] == "included"
    assert index[records[-2].id]["member"] == member
    assert index[url.id]["status"] == "not_verifiable"
    assert verify_pack(output) == []

    def swap(m: dict[str, bytes]) -> None:  # a document under another's name, manifest fixed up
        m[member] = b"forged policy"
        body = json.loads(m["manifest.json"])
        body["members"][member]["sha256"] = hashlib.sha256(b"forged policy").hexdigest()
        body["members"][member]["size"] = len(b"forged policy")
        m["manifest.json"] = json.dumps(body).encode()

    rewrite(output, swap)
    problems = verify_pack(output)
    forged = hashlib.sha256(b"forged policy").hexdigest()
    assert PROBLEM_DOCUMENT_NAME.format(member=member, actual=forged, expected=digest) in problems


def test_a_changed_document_is_listed_but_not_packed(tmp_path: Path) -> None:
    policy = tmp_path / "policy.md"
    policy.write_text("v1")
    record = attestation(str(policy))
    policy.write_text("v2")
    output = tmp_path / "pack.zip"
    build_pack(make_judgement(tmp_path, [record]), output)
    with zipfile.ZipFile(output) as archive:
        names = archive.namelist()
        index = json.loads(archive.read("documents.json"))
    assert not [n for n in names if n.startswith("documents/")]
    assert index[0]["status"] == "changed"


# ------------------------------------------------------------------ issue 21, finding 3
def _forged_attestation(document: Path) -> EvidenceRecord:
    """What an attacker with write access records: any path, with that file's true hash."""
    return new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="aims_mlops.attest",
        controls=["A.2.2"],
        details={
            "by": "Mallory",
            "document": str(document),
            "document_sha256": hashlib.sha256(document.read_bytes()).hexdigest(),
            "document_check": CHECK_SHA256,
            "statement": "policy",
        },
        collected_at=(NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
    )


def test_a_private_key_named_as_a_document_never_reaches_the_pack(tmp_path: Path) -> None:
    from aims_mlops.evidence import generate_keys

    project = tmp_path / "project"
    project.mkdir()
    generate_keys(project / "keys")
    key_file = project / "keys" / "aims-signing.key"  # inside aims.yaml's folder
    outside = tmp_path / "elsewhere" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("a file outside every document root")
    renamed = project / "notes.md"  # a key under an innocent name
    renamed.write_bytes(key_file.read_bytes())
    der = project / "key.der"
    from cryptography.hazmat.primitives import serialization

    from aims_mlops.evidence import load_signing_key

    der.write_bytes(
        load_signing_key(key_file).private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    forged = [_forged_attestation(p) for p in (key_file, renamed, der, outside)]
    output = tmp_path / "pack.zip"
    build_pack(make_judgement(project, [*make_records()[1:], *forged]), output)
    members = members_of(output)
    secrets = {key_file.read_bytes(), der.read_bytes(), outside.read_bytes()}
    assert not [name for name, data in members.items() if any(s in data for s in secrets)]
    assert not [
        name for name in members if name.startswith("documents/") and name != "documents.json"
    ]
    index = {e["attestation"]: e for e in json.loads(members["documents.json"])}
    for record in forged[:3]:
        assert index[record.id]["status"] == "private_key"
        assert WHY_DOCUMENT_PRIVATE_KEY in index[record.id]["note"]
    assert index[forged[3].id]["status"] == "outside"
    roots = DocumentScope.of(project).shown()
    assert WHY_DOCUMENT_OUTSIDE.format(roots=roots) in index[forged[3].id]["note"]
    # the same attestations are findings when judged and verified
    found = {f.record_id: f for f in document_findings(forged, scope=DocumentScope.of(project))}
    assert set(found) == {r.id for r in forged} and all(f.is_problem for f in found.values())


def test_attesting_a_key_or_a_file_outside_the_roots_is_refused(tmp_path: Path) -> None:
    from aims_mlops.evidence import generate_keys

    generate_keys(tmp_path / "keys")
    key_file = tmp_path / "keys" / "aims-signing.key"
    with pytest.raises(DocumentError) as caught:
        document_details(str(key_file))
    assert str(caught.value) == ERROR_DOCUMENT_PRIVATE_KEY.format(path=key_file)
    (tmp_path / "docs").mkdir()
    inside = tmp_path / "docs" / "policy.md"
    inside.write_text("policy")
    scope = DocumentScope.of(tmp_path / "project", ["../docs"])
    assert document_details(str(inside), scope=scope, min_bytes=1)["document_check"] == CHECK_SHA256
    elsewhere = tmp_path / "other.md"
    elsewhere.write_text("x")
    with pytest.raises(DocumentError) as caught:
        document_details(str(elsewhere), scope=scope)
    assert str(caught.value) == ERROR_DOCUMENT_OUTSIDE.format(path=elsewhere, roots=scope.shown())
