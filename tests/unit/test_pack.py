"""The audit pack: contents, manifest, atomic writing, verification naming each tampered member.

Pure: the judgement is built from the example aims.yaml, hand-made records and the real engine
(no MLflow). Hashes are recomputed here with hashlib, not with the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aims_mlops.catalog import load_catalog
from aims_mlops.config import config_digest, example_config_text, parse_config
from aims_mlops.engine import assess, risk_rows, soa_rows, summary_dict
from aims_mlops.evidence import (
    EvidenceRecord,
    SigningKey,
    Subject,
    generate_keys,
    load_signing_key,
    new_record,
    new_signing_key,
)
from aims_mlops.judgement import Judgement
from aims_mlops.reports._pack import (
    ERROR_CONFIG_CHANGED,
    ERROR_NOT_ASSESSED,
    PROBLEM_BAD_SIGNATURE,
    PROBLEM_NO_SIGNATURE,
    PROBLEM_PACK_KEYS_UNSIGNED,
    PROBLEM_UNKNOWN_KEY,
    PackError,
    build_pack,
    verify_pack,
)

SYSTEM = "income-classifier"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = new_signing_key()


def make_records(*, signing_key: SigningKey | None = None) -> list[EvidenceRecord]:
    """An org attestation, a failing fairness record, a passing data-quality record."""
    return [
        new_record(
            kind="attestation",
            system=None,
            outcome="pass",
            collector="attestation",
            controls=["A.2.2"],
            details={
                "by": "Chief Executive",
                "document": "policy.md",
                "document_sha256": "ab" * 32,
                "statement": "approved AI policy",
            },
            collected_at="2026-01-10T09:00:00Z",
            valid_until="2027-01-10T09:00:00Z",
            signing_key=signing_key,
        ),
        new_record(
            kind="fairness",
            system=SYSTEM,
            outcome="fail",
            collector="fairness",
            controls=["A.5.4", "A.6.2.4"],
            metrics={"demographic_parity_difference": 0.19},
            subject=Subject(run_id="run-1"),
            collected_at="2026-02-01T10:00:00Z",
            signing_key=signing_key,
        ),
        new_record(
            kind="data_quality",
            system=SYSTEM,
            outcome="pass",
            collector="data_quality",
            controls=["A.7.4", "A.6.2.4"],
            metrics={"success_percent": 100.0},
            subject=Subject(run_id="run-1"),
            collected_at="2026-02-01T10:00:00Z",
            signing_key=signing_key,
        ),
    ]


def make_judgement(
    folder: Path,
    records: Iterable[EvidenceRecord] | None = None,
    *,
    now: datetime = NOW,
    config_text: str | None = None,
) -> Judgement:
    """A judgement of the example configuration, written to ``folder/aims.yaml``."""
    text = config_text or example_config_text()
    path = folder / "aims.yaml"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    config = parse_config(text)
    catalog = load_catalog()
    chosen = tuple(make_records() if records is None else records)
    assessment = assess(catalog, config, chosen, current_models={SYSTEM: None}, now=now)
    return Judgement(
        assessment=assessment,
        config=config,
        config_path=path,
        catalog=catalog,
        records=chosen,
        current_models={SYSTEM: None},
        store=None,  # type: ignore[arg-type]  # the pack never touches the store
    )


@pytest.fixture
def judgement(tmp_path: Path) -> Judgement:
    return make_judgement(tmp_path)


@pytest.fixture
def pack(judgement: Judgement, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    output = tmp_path / "out" / "pack.zip"
    build_pack(judgement, output)
    return output


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """Rebuild the zip at ``path`` after ``change`` edited its members (as a tamperer would)."""
    members = members_of(path)
    change(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def flip_one_byte(data: bytes, position: int | None = None) -> bytes:
    """Replace one byte (default: the middle one) by another printable ASCII byte."""
    index = len(data) // 2 if position is None else position
    replacement = b"x" if data[index : index + 1] != b"x" else b"y"
    return data[:index] + replacement + data[index + 1 :]


# ------------------------------------------------------------------------------------ contents
def expected_members(judgement: Judgement) -> list[str]:
    records = sorted(f"records/{r.id}.json" for r in judgement.records)
    return [
        "config/aims.yaml",
        *records,
        "documents.json",
        f"reports/{SYSTEM}.html",
        f"reports/{SYSTEM}.md",
        "risks.json",
        "soa.csv",
        "soa.json",
        f"summary/{SYSTEM}.json",
        "manifest.json",
    ]


def test_pack_holds_every_member_in_a_fixed_order(judgement: Judgement, pack: Path) -> None:
    with zipfile.ZipFile(pack) as archive:
        assert archive.namelist() == expected_members(judgement)
    members = members_of(pack)
    assert members["config/aims.yaml"] == (judgement.config_path).read_bytes()
    for record in judgement.records:
        data = members[f"records/{record.id}.json"]
        assert data == record.to_json().encode("utf-8")
        assert EvidenceRecord.from_json(data.decode()).is_intact()
    assert json.loads(members["soa.json"]) == soa_rows(judgement.assessment)
    assert json.loads(members["risks.json"]) == risk_rows(judgement.assessment)
    summary = json.loads(members[f"summary/{SYSTEM}.json"])
    assert summary == json.loads(json.dumps(summary_dict(judgement.assessment.systems[SYSTEM])))
    rows = list(csv.DictReader(io.StringIO(members["soa.csv"].decode())))
    assert [r["control"] for r in rows] == [e.control for e in judgement.assessment.soa]
    excluded = {r["control"]: r for r in rows}["A.10.4"]
    assert excluded["applicable"] == "no" and "internally" in excluded["justification"]
    assert members[f"reports/{SYSTEM}.html"].lstrip().lower().startswith(b"<!doctype html")
    assert SYSTEM.encode() in members[f"reports/{SYSTEM}.md"]


def test_manifest_lists_hashes_sizes_and_its_own_hash(judgement: Judgement, pack: Path) -> None:
    members = members_of(pack)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "aims-audit-pack/1"
    assert manifest["systems"] == [SYSTEM]
    assert manifest["config_digest"] == judgement.assessment.config_digest
    datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00"))
    assert manifest["members"] == {
        name: {"sha256": sha(data), "size": len(data)}
        for name, data in members.items()
        if name != "manifest.json"
    }
    body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
    assert manifest["manifest_sha256"] == sha(canonical(body))
    assert manifest["signature"] is None
    assert verify_pack(pack) == []


def env_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SigningKey:
    """A key pair in ``tmp_path/keys``, its private key named by $AIMS_SIGNING_KEY."""
    generate_keys(tmp_path / "keys")
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "keys" / "aims-signing.key"))
    return load_signing_key(tmp_path / "keys" / "aims-signing.key")


def test_signed_pack_verifies_with_its_public_key_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = env_key(tmp_path, monkeypatch)
    judgement = make_judgement(tmp_path, make_records(signing_key=key))
    output = tmp_path / "signed.zip"
    result = build_pack(judgement, output)
    manifest = json.loads(members_of(output)["manifest.json"])
    assert manifest["signature"] == result.signature
    assert manifest["signature"].startswith(f"ed25519:{key.key_id}:")
    assert key.public_key.verify(manifest["manifest_sha256"], manifest["signature"])
    assert verify_pack(output, key=key.public_key) == []
    assert verify_pack(output) == []  # no key: hashes only
    other = new_signing_key()
    problems = verify_pack(output, key=other.public_key)
    assert problems[0] == PROBLEM_UNKNOWN_KEY.format(key_id=key.key_id)
    why = f"it is signed by key {key.key_id}, which is not one of the trusted public keys"
    assert sorted(problems[1:]) == sorted(
        f"bad signature: records/{r.id}.json (record {r.id}: {why})" for r in judgement.records
    )


def test_unsigned_pack_fails_when_a_key_is_expected(pack: Path) -> None:
    problems = verify_pack(pack, key=KEY.public_key)
    assert problems[0] == PROBLEM_NO_SIGNATURE
    assert all("it is not signed" in p for p in problems[1:])


def test_same_judgement_gives_the_same_member_bytes(judgement: Judgement, tmp_path: Path) -> None:
    first = build_pack(judgement, tmp_path / "a.zip")
    second = build_pack(judgement, tmp_path / "b.zip")
    assert first.members == second.members
    one, two = members_of(tmp_path / "a.zip"), members_of(tmp_path / "b.zip")
    assert {k: v for k, v in one.items() if k != "manifest.json"} == {
        k: v for k, v in two.items() if k != "manifest.json"
    }


def test_progress_bar_goes_to_stderr(
    judgement: Judgement, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_pack(judgement, tmp_path / "p.zip", progress=True)
    captured = capsys.readouterr()
    assert "audit pack" in captured.err and captured.out == ""
    build_pack(judgement, tmp_path / "q.zip")
    assert "audit pack" not in capsys.readouterr().err


# ------------------------------------------------------------------------------ building fails
def test_unassessed_system_is_refused(judgement: Judgement, tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        build_pack(judgement, tmp_path / "x.zip", systems=["fraud-model"])
    assert str(caught.value) == ERROR_NOT_ASSESSED.format(system="fraud-model", assessed=SYSTEM)
    assert not (tmp_path / "x.zip").exists()


def test_changed_config_is_refused_and_the_old_pack_survives(
    judgement: Judgement, pack: Path
) -> None:
    before = pack.read_bytes()
    changed = example_config_text().replace("appetite: 6", "appetite: 9")
    judgement.config_path.write_text(changed)
    with pytest.raises(PackError) as caught:
        build_pack(judgement, pack)
    assert str(caught.value) == ERROR_CONFIG_CHANGED.format(
        path=judgement.config_path,
        actual=config_digest(parse_config(changed)),
        judged=judgement.assessment.config_digest,
    )
    assert pack.read_bytes() == before  # atomic: the old pack is untouched
    assert [p.name for p in pack.parent.iterdir()] == [pack.name]  # no temporary file left


# --------------------------------------------------------------------------------- tampering
TAMPERED_MEMBERS = [
    "config/aims.yaml",
    "records/<fairness>",
    "records/<attestation>",
    f"reports/{SYSTEM}.html",
    f"reports/{SYSTEM}.md",
    "risks.json",
    "soa.csv",
    "soa.json",
    f"summary/{SYSTEM}.json",
]


def resolve(member: str, judgement: Judgement) -> str:
    if member.startswith("records/<"):
        kind = member[len("records/<") : -1]
        record = next(r for r in judgement.records if r.kind == kind)
        return f"records/{record.id}.json"
    return member


@pytest.mark.parametrize("member", TAMPERED_MEMBERS)
def test_one_altered_byte_is_named(member: str, judgement: Judgement, pack: Path) -> None:
    name = resolve(member, judgement)
    original = members_of(pack)[name]
    altered = flip_one_byte(original)
    rewrite(pack, lambda m: m.__setitem__(name, altered))
    assert verify_pack(pack) == [
        f"altered: {name} (sha256 {sha(altered)} expected {sha(original)})"
    ]


def test_one_altered_byte_in_the_manifest_is_named(pack: Path) -> None:
    data = members_of(pack)["manifest.json"]
    position = data.index(b'"created_at": "') + len(b'"created_at": "') + 3  # a year digit
    altered = flip_one_byte(data, position)
    rewrite(pack, lambda m: m.__setitem__("manifest.json", altered))
    problems = verify_pack(pack)
    assert len(problems) == 1
    assert problems[0].startswith("altered: manifest.json (content sha256 ")


def test_manifest_that_is_no_longer_json_is_one_problem(pack: Path) -> None:
    rewrite(pack, lambda m: m.__setitem__("manifest.json", m["manifest.json"][:-20]))
    problems = verify_pack(pack)
    assert len(problems) == 1
    assert problems[0].startswith(f"not an audit pack: manifest.json in {pack} is unreadable")


@pytest.mark.parametrize("member", [*TAMPERED_MEMBERS])
def test_a_removed_member_is_named(member: str, judgement: Judgement, pack: Path) -> None:
    name = resolve(member, judgement)
    rewrite(pack, lambda m: m.pop(name))
    assert verify_pack(pack) == [f"missing: {name}"]


@pytest.mark.parametrize("name", ["notes.txt", "records/0123abcd.json", "reports/other.html"])
def test_an_added_member_is_named(name: str, pack: Path) -> None:
    rewrite(pack, lambda m: m.__setitem__(name, b"{}"))
    assert verify_pack(pack) == [f"extra: {name}"]


def test_a_duplicate_entry_is_named(pack: Path) -> None:
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(pack, "a") as archive,
    ):
        archive.writestr("soa.json", b"[]")
    problems = verify_pack(pack)
    assert "duplicate: soa.json appears 2 times in the zip" in problems
    assert any(p.startswith("altered: soa.json") for p in problems)  # the last entry wins


def test_record_forged_with_a_recomputed_manifest_is_caught(
    judgement: Judgement, pack: Path
) -> None:
    """A tamperer without the key can fix the manifest, but not the record's own hash."""
    record = next(r for r in judgement.records if r.kind == "fairness")
    name = f"records/{record.id}.json"

    def forge(members: dict[str, bytes]) -> None:
        data = json.loads(members[name])
        data["outcome"] = "pass"
        data["metrics"]["demographic_parity_difference"] = 0.01
        members[name] = canonical(data)
        manifest = json.loads(members["manifest.json"])
        manifest["members"][name] = {"sha256": sha(members[name]), "size": len(members[name])}
        body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
        manifest["manifest_sha256"] = sha(canonical(body))
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite(pack, forge)
    assert verify_pack(pack) == [
        f"altered: {name} (record {record.id} content hash does not match its content)"
    ]


def test_recomputed_manifest_breaks_the_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = env_key(tmp_path, monkeypatch)
    judgement = make_judgement(tmp_path, make_records(signing_key=key))
    pack = tmp_path / "signed.zip"
    build_pack(judgement, pack)

    def add_and_rehash(members: dict[str, bytes]) -> None:
        members["notes.txt"] = b"all fine"
        manifest = json.loads(members["manifest.json"])
        manifest["members"]["notes.txt"] = {"sha256": sha(b"all fine"), "size": 8}
        body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
        manifest["manifest_sha256"] = sha(canonical(body))
        members["manifest.json"] = json.dumps(manifest).encode()

    rewrite(pack, add_and_rehash)
    assert verify_pack(pack) == []  # without the key a consistent forgery is undetectable
    assert verify_pack(pack, key=key.public_key) == [PROBLEM_BAD_SIGNATURE]


def test_a_flipped_byte_in_the_raw_zip_is_named_not_raised(
    judgement: Judgement, pack: Path
) -> None:
    name = "soa.json"
    with zipfile.ZipFile(pack) as archive:
        info = archive.getinfo(name)
    raw = bytearray(pack.read_bytes())
    header = info.header_offset
    name_len = int.from_bytes(raw[header + 26 : header + 28], "little")
    extra_len = int.from_bytes(raw[header + 28 : header + 30], "little")
    data_start = header + 30 + name_len + extra_len
    raw[data_start + info.compress_size // 2] ^= 0xFF
    pack.write_bytes(bytes(raw))
    problems = verify_pack(pack)
    assert len(problems) == 1
    assert problems[0].startswith(f"altered: {name} ")


# ---------------------------------------------------------------------------- not a pack at all
def test_not_a_pack(tmp_path: Path) -> None:
    missing = tmp_path / "nope.zip"
    assert verify_pack(missing) == [f"not an audit pack: {missing} does not exist"]
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    problems = verify_pack(text)
    assert len(problems) == 1 and problems[0].startswith(f"not an audit pack: {text} is not a zip")
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("soa.json", "[]")
    assert verify_pack(bare) == [f"not an audit pack: {bare} has no manifest.json"]
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "x/1", "members": {}}))
    assert verify_pack(other) == [
        "not an audit pack: manifest.json format is 'x/1', expected 'aims-audit-pack/1'"
    ]


# ------------------------------------------------------------------ issue 21, finding 6
def _signed_pack_trusting_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    key = env_key(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)  # the example's key path is relative to aims.yaml's folder
    text = example_config_text() + "\ntrust:\n  public_keys: [keys/aims-signing.pub]\n"
    judgement = make_judgement(tmp_path, make_records(signing_key=key), config_text=text)
    output = tmp_path / "signed.zip"
    build_pack(judgement, output)
    return key, judgement, output


def _forge_record_and_rehash(judgement: Judgement, *, strip: bool, signer: Any = None) -> Any:
    """A forged record re-hashed in, the manifest recomputed; its signature stripped, or made
    with another key."""
    record = next(r for r in judgement.records if r.kind == "fairness")
    name = f"records/{record.id}.json"

    def forge(members: dict[str, bytes]) -> None:
        data = json.loads(members[name])
        data["metrics"]["demographic_parity_difference"] = 0.001
        data["signature"] = None
        forged = EvidenceRecord.from_dict(data)
        forged = EvidenceRecord.from_dict({**data, "content_hash": forged.compute_hash()})
        members[name] = forged.to_json().encode()
        manifest = json.loads(members["manifest.json"])
        manifest["members"][name] = {"sha256": sha(members[name]), "size": len(members[name])}
        body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
        manifest["manifest_sha256"] = sha(canonical(body))
        manifest["signature"] = None if strip else signer.sign(manifest["manifest_sha256"])
        members["manifest.json"] = json.dumps(manifest).encode()

    return forge, record


def test_a_stripped_pack_whose_config_trusts_keys_fails_without_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, judgement, output = _signed_pack_trusting_its_key(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert verify_pack(output) == []  # genuine: the listed key is found, the signature holds
    forge, _record = _forge_record_and_rehash(judgement, strip=True)
    rewrite(output, forge)
    problems = verify_pack(output)  # no --public-key
    assert problems[0] == PROBLEM_PACK_KEYS_UNSIGNED.format(keys="keys/aims-signing.pub")


def test_a_pack_resigned_by_an_unlisted_key_fails_without_public_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, judgement, output = _signed_pack_trusting_its_key(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    mallory = new_signing_key()
    forge, record = _forge_record_and_rehash(judgement, strip=False, signer=mallory)
    rewrite(output, forge)
    problems = verify_pack(output)
    assert PROBLEM_UNKNOWN_KEY.format(key_id=mallory.key_id) in problems
    assert any(f"records/{record.id}.json" in p and "not signed" in p for p in problems)
    # away from the keys: refused, never passed unchecked
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / "signed.zip"
    output.rename(moved)
    monkeypatch.chdir(elsewhere)
    problems = verify_pack(moved)
    assert problems and problems[0].startswith("cannot check the signature")
