"""Evidence that cannot be faked: Ed25519 keys, the trust check, findings in the engine and the
gate, and a fuzz of malformed records through parse and judgement (no MLflow)."""

from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aims_mlops._errors import ConfigError
from aims_mlops.catalog import load_catalog
from aims_mlops.cli import cli
from aims_mlops.config import parse_config
from aims_mlops.engine import FAILING, MISSING, SATISFIED, CurrentModel, assess, summary_dict
from aims_mlops.evidence import (
    NO_TRUST,
    EvidenceRecord,
    IntegrityFinding,
    SigningKeyError,
    Subject,
    TrustPolicy,
    canonical_json,
    check_record,
    generate_keys,
    load_kinds,
    load_public_key,
    load_signing_key,
    new_record,
    new_signing_key,
    signing_key_from_env,
)
from aims_mlops.evidence import _signing as signing
from aims_mlops.evidence import _trust as trust
from aims_mlops.judgement import evaluate_gate
from aims_mlops.judgement._integrity import integrity_lines, integrity_summary, screen
from aims_mlops.presentation import listing_text
from aims_mlops.store import _contract as contract

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CLOCK = NOW + timedelta(hours=1)
CURRENT = CurrentModel(name="credit-model", version="2", run_id="run-2")
CATALOG = load_catalog()
FAIRNESS_CONTROLS = CATALOG.controls_for_kind("fairness")

CONFIG = """\
version: 1
organization: {name: Trust Test Ltd, aims_scope: Credit models, policy_owner: CRO}
systems:
  - id: credit
    name: Credit model
    owner: Dana Smith
    intended_use: Score loan applicants for a human underwriter.
    lifecycle_stage: validation
    mlflow: {registered_model: credit-model, alias: champion}
    sensitive_features: [sex]
    fairness: {demographic_parity_difference: {max: 0.1}}
"""


def fairness(outcome: str = "pass", **overrides: Any) -> EvidenceRecord:
    arguments: dict[str, Any] = {
        "kind": "fairness",
        "system": "credit",
        "outcome": outcome,
        "collector": "test",
        "subject": Subject(run_id="run-2", model_name="credit-model", model_version="2"),
        "metrics": {"demographic_parity_difference": 0.02},
        "details": {
            "checks": [
                {
                    "metric": "demographic_parity_difference",
                    "passed": outcome == "pass",
                    "reason": "demographic_parity_difference = 0.02",
                }
            ]
        },
        "controls": FAIRNESS_CONTROLS,
        "collected_at": "2026-10-30T12:00:00Z",
    }
    arguments.update(overrides)
    return new_record(**arguments)


def judged(
    records: list[EvidenceRecord],
    policy: TrustPolicy = NO_TRUST,
    *,
    run_ids: dict[str, str] | None = None,
    findings: tuple[IntegrityFinding, ...] = (),
) -> Any:
    kept, found = screen(
        records,
        policy=policy,
        clock=CLOCK,
        run_ids=run_ids or {r.id: "run-2" for r in records},
        findings=findings,
    )
    config = parse_config(CONFIG)
    result = assess(
        CATALOG, config, kept, current_models={"credit": CURRENT}, now=NOW, findings=found
    )
    return result, found


@pytest.fixture(scope="module")
def key() -> signing.SigningKey:
    return new_signing_key()


@pytest.fixture(scope="module")
def policy(key: signing.SigningKey) -> TrustPolicy:
    return TrustPolicy(keys={key.key_id: key.public_key}, require_signatures=True)


# ---------------------------------------------------------------------------- keys
def test_generate_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    key = generate_keys(tmp_path / "k")
    private, public = tmp_path / "k" / "aims-signing.key", tmp_path / "k" / "aims-signing.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert load_signing_key(private).key_id == load_public_key(public).key_id == key.key_id
    raw = load_public_key(public).raw
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]
    with pytest.raises(SigningKeyError) as info:
        generate_keys(tmp_path / "k")
    assert str(info.value) == signing.ERROR_KEY_EXISTS.format(path=private)
    assert generate_keys(tmp_path / "k", force=True).key_id != key.key_id


def test_env_key_names_a_file_and_bad_files_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    assert signing_key_from_env() is None
    missing = tmp_path / "nope.key"
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(missing))
    with pytest.raises(SigningKeyError) as info:
        signing_key_from_env()
    assert str(info.value) == signing.ERROR_KEY_MISSING.format(
        what="$AIMS_SIGNING_KEY", path=missing
    )
    garbage = tmp_path / "garbage.key"
    garbage.write_text("my-old-hmac-secret")
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(garbage))
    with pytest.raises(SigningKeyError) as info:
        signing_key_from_env()
    assert str(info.value) == signing.ERROR_NOT_A_PRIVATE_KEY.format(
        what="$AIMS_SIGNING_KEY", path=garbage
    )
    generate_keys(tmp_path)
    public = tmp_path / "aims-signing.pub"
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(public))  # the public key cannot sign
    with pytest.raises(SigningKeyError):
        signing_key_from_env()
    with pytest.raises(SigningKeyError) as info:
        load_public_key(tmp_path / "aims-signing.key")
    assert str(info.value) == signing.ERROR_NOT_A_PUBLIC_KEY.format(
        path=tmp_path / "aims-signing.key"
    )


def test_keys_generate_command(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["keys", "generate", "--dir", str(tmp_path / "keys")])
    assert result.exit_code == 0, result.output
    assert "key id" in result.output and "AIMS_SIGNING_KEY=" in result.output
    again = runner.invoke(cli, ["keys", "generate", "--dir", str(tmp_path / "keys")])
    assert again.exit_code == 2
    assert again.output.strip().count("\n") == 0 and "already exists" in again.output


def test_a_signature_names_its_key_and_covers_the_content_hash(
    key: signing.SigningKey, policy: TrustPolicy
) -> None:
    record = fairness(signing_key=key)
    assert record.key_id == key.key_id
    assert policy.signature_problem(record) is None
    forged = replace(record, outcome="fail")
    forged = replace(forged, content_hash=forged.compute_hash())
    assert policy.signature_problem(forged) == trust.WHY_BAD_SIGNATURE.format(key_id=key.key_id)


# ---------------------------------------------------------------------------- the trust check
def test_check_record_names_every_reason(key: signing.SigningKey, policy: TrustPolicy) -> None:
    kinds = load_kinds()

    def why(record: EvidenceRecord, p: TrustPolicy = policy, run: str | None = "run-2") -> Any:
        return check_record(record, policy=p, kinds=kinds, clock=CLOCK, run_id=run)

    assert why(fairness(signing_key=key)) is None
    assert why(fairness()) == trust.WHY_UNSIGNED
    assert why(fairness(), NO_TRUST) is None
    optional = replace(policy, require_signatures=False)
    assert why(fairness(), optional) is None
    stranger = new_signing_key()
    assert why(fairness(signing_key=stranger)) == trust.WHY_UNKNOWN_KEY.format(
        key_id=stranger.key_id
    )
    assert why(fairness(signing_key=stranger), optional) is not None  # a signature must verify
    assert why(replace(fairness(signing_key=key), signature="hmac:abc")) == (
        trust.WHY_NOT_A_SIGNATURE
    )
    future = fairness(collected_at="2099-01-01T00:00:00Z", signing_key=key)
    assert why(future).startswith("collected_at 2099-01-01T00:00:00Z lies in the future")
    skewed = (CLOCK + timedelta(minutes=4)).isoformat()
    assert why(fairness(collected_at=skewed, signing_key=key)) is None
    assert why(fairness(signing_key=key), run="run-9") == trust.WHY_OTHER_RUN.format(
        stored="run-9", named="run-2"
    )
    odd = replace(fairness(), outcome="PASS")  # type: ignore[arg-type]
    odd = replace(odd, content_hash=odd.compute_hash())
    assert why(odd, NO_TRUST) == trust.WHY_UNKNOWN_OUTCOME.format(value="PASS")
    unknown = fairness(kind="made_up")
    assert why(unknown, NO_TRUST) == trust.WHY_UNKNOWN_KIND.format(value="made_up")
    altered = replace(fairness(), outcome="fail")
    assert why(altered, NO_TRUST) == trust.WHY_HASH


def test_policy_from_files_and_its_notes(tmp_path: Path) -> None:
    key = generate_keys(tmp_path / "keys")
    loaded = TrustPolicy.from_files(["keys/aims-signing.pub"], base_dir=tmp_path)
    assert set(loaded.keys) == {key.key_id} and loaded.require_signatures
    assert not TrustPolicy.from_files(
        ["keys/aims-signing.pub"], base_dir=tmp_path, require_signatures=False
    ).require_signatures
    assert NO_TRUST.note() == trust.NOTE_UNSIGNED
    assert loaded.note() == trust.NOTE_SIGNED.format(keys=key.key_id)
    assert integrity_summary(NO_TRUST, [])["signed"] is False
    assert integrity_lines(NO_TRUST, [])[0] == f"integrity: {trust.NOTE_UNSIGNED}"


def test_trust_block_in_aims_yaml_is_validated_with_lines(tmp_path: Path) -> None:
    generate_keys(tmp_path / "keys")
    good = CONFIG + "trust:\n  public_keys: [keys/aims-signing.pub]\n"
    source = str(tmp_path / "aims.yaml")
    config = parse_config(good, source=source)
    assert config.trust.public_keys == ("keys/aims-signing.pub",)
    assert config.trust.requires_signatures
    bad = CONFIG + "trust:\n  public_keys:\n    - keys/aims-signing.pub\n    - keys/typo.pub\n"
    with pytest.raises(ConfigError) as info:
        parse_config(bad, source=source)
    missing = tmp_path / "keys" / "typo.pub"
    assert info.value.problems == [
        f"{source}:15: trust.public_keys[1]: public key {missing}: no such file"
    ]
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG + "trust: {require_signatures: maybe}\n", source=source)
    assert "trust.require_signatures" in str(info.value)


# ---------------------------------------------------------------------------- engine and gate
def test_a_forged_unsigned_record_fails_the_control_under_trust(
    key: signing.SigningKey, policy: TrustPolicy
) -> None:
    real = fairness("fail", signing_key=key, collected_at="2026-10-30T12:00:00Z")
    forged = fairness("pass", collected_at="2026-10-31T12:00:00Z")  # newer, unsigned
    result, found = judged([real, forged], policy)
    sa = result.systems["credit"]
    assert [f.record_id for f in found] == [forged.id]
    for control in FAIRNESS_CONTROLS:
        status = sa.control(control)
        assert status.status == FAILING
        assert status.reasons[0] == (
            f"record {forged.id} failed verification: {trust.WHY_UNSIGNED}"
        )
        assert forged.id not in status.evidence
    gate = evaluate_gate(sa)
    assert not gate.passed
    assert f"integrity: record {forged.id} failed verification: {trust.WHY_UNSIGNED}" in (
        gate.failures
    )
    assert summary_dict(sa)["integrity_findings"][0]["record_id"] == forged.id
    assert result.integrity_findings == tuple(found)


def test_a_finding_is_failing_even_when_other_evidence_passes(
    key: signing.SigningKey, policy: TrustPolicy
) -> None:
    good = fairness("pass", signing_key=key)
    tampered = fairness("fail", signing_key=key, collected_at="2026-10-31T12:00:00Z")
    tampered = replace(tampered, outcome="pass")
    tampered = replace(tampered, content_hash=tampered.compute_hash())  # hash recomputed
    result, _ = judged([good, tampered], policy)
    status = result.systems["credit"].control(FAIRNESS_CONTROLS[0])
    assert status.status == FAILING  # never satisfied, never missing
    why = trust.WHY_BAD_SIGNATURE.format(key_id=key.key_id)
    assert f"record {tampered.id} failed verification: {why}" in status.reasons
    alone, _ = judged([good], policy)
    assert alone.systems["credit"].control(FAIRNESS_CONTROLS[0]).status == SATISFIED


def test_a_wrong_key_turns_every_record_into_a_finding(key: signing.SigningKey) -> None:
    other = new_signing_key()
    wrong = TrustPolicy(keys={other.key_id: other.public_key}, require_signatures=True)
    result, found = judged([fairness("pass", signing_key=key)], wrong)
    assert len(found) == 1 and found[0].why == trust.WHY_UNKNOWN_KEY.format(key_id=key.key_id)
    assert result.systems["credit"].control(FAIRNESS_CONTROLS[0]).status == FAILING


def test_without_trust_a_future_dated_forgery_is_a_finding_not_the_latest() -> None:
    real = fairness("fail")
    forged = fairness("pass", collected_at="2099-01-01T00:00:00Z")
    result, found = judged([real, forged])
    assert [f.record_id for f in found] == [forged.id]
    status = result.systems["credit"].control(FAIRNESS_CONTROLS[0])
    assert status.status == FAILING and "in the future" in status.reasons[0]
    assert not evaluate_gate(result.systems["credit"]).passed


def test_a_record_on_another_run_and_an_unknown_outcome_are_findings() -> None:
    moved = fairness("pass")
    result, found = judged([moved], run_ids={moved.id: "run-attacker"})
    assert found[0].why == trust.WHY_OTHER_RUN.format(stored="run-attacker", named="run-2")
    assert result.systems["credit"].control(FAIRNESS_CONTROLS[0]).status == FAILING
    odd = replace(fairness("pass"), outcome="ok")  # type: ignore[arg-type]
    odd = replace(odd, content_hash=odd.compute_hash())
    result, found = judged([odd])
    assert found[0].why == trust.WHY_UNKNOWN_OUTCOME.format(value="ok")
    status = result.systems["credit"].control(FAIRNESS_CONTROLS[0])
    assert status.status == FAILING and status.status != MISSING


# ---------------------------------------------------------------------------- fuzz
def _base() -> dict[str, Any]:
    return json.loads(fairness("pass").to_json())


def _rehashed(data: Any) -> str:
    """The tag value of ``data`` with a content hash consistent with its (malformed) content."""
    if isinstance(data, dict) and "content_hash" in data:
        content = {k: v for k, v in data.items() if k not in ("content_hash", "signature")}
        data = {
            **data,
            "content_hash": hashlib.sha256(
                json.dumps(
                    content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ).encode()
            ).hexdigest(),
        }
    return json.dumps(data)


def _with(path: str, value: Any) -> dict[str, Any]:
    data = _base()
    target = data
    *steps, last = path.split(".")
    for step in steps:
        target = target[step]
    target[last] = value
    return data


MALFORMED: list[Any] = [
    _with("collected_at", "not-a-date"),
    _with("collected_at", 12345),
    _with("collected_at", ""),
    _with("collected_at", None),
    _with("collected_at", "2099-01-01T00:00:00Z"),
    _with("collected_at", "0001-01-01T00:00:00-01:00"),
    _with("collected_at", "9999-12-31T23:59:59-23:59"),
    _with("collected_at", ["2026-10-30"]),
    _with("valid_until", "soon"),
    _with("valid_until", 7),
    _with("metrics", {"demographic_parity_difference": "high"}),
    _with("metrics", {"demographic_parity_difference": True}),
    _with("metrics", {"demographic_parity_difference": None}),
    _with("metrics", {"demographic_parity_difference": [0.1]}),
    _with("metrics", {"demographic_parity_difference": {"v": 0.1}}),
    _with("metrics", ["demographic_parity_difference"]),
    _with("metrics", "0.02"),
    _with("outcome", "PASS"),
    _with("outcome", None),
    _with("outcome", 1),
    _with("outcome", ["pass"]),
    _with("kind", "made_up"),
    _with("kind", None),
    _with("kind", {"x": 1}),
    _with("system", 42),
    _with("system", ["credit"]),
    _with("system", ""),
    _with("subject", "run-2"),
    _with("subject", [1, 2]),
    _with("subject.run_id", 5),
    _with("subject.dataset_digests", "abc"),
    _with("subject.dataset_digests", [1, 2]),
    _with("subject.model_version", {"x": 1}),
    _with("subject.model_name", ["m"]),
    _with("controls", "A-control-as-a-string"),
    _with("controls", [1, 2]),
    _with("controls", None),
    _with("details", "text"),
    _with("details", ["a", "b"]),
    _with("details", {"checks": "nope"}),
    _with("details", {"checks": [{"passed": "yes", "reason": {"x": 1}}, 3, None]}),
    _with("details", {"deadline": 5}),
    _with("details", {"deadline": "not-a-date", "closes": 3}),
    _with("details", {"deadline": "2020-01-01"}),
    _with("details", {"closes": ["x"], "closed_on": 4}),
    {**_with("kind", "error"), "details": {"collector_kind": ["fairness"], "error": 3}},
    {**_with("kind", "attestation"), "details": {"by": ["x"], "document": 5}},
    _with("collector", "test"),
    _with("collector", {"name": None, "version": 1}),
    _with("collector", None),
    _with("schema_version", "one"),
    _with("schema_version", 2),
    _with("schema_version", None),
    _with("id", 7),
    {**_base(), "evil": 1},
    {k: v for k, v in _base().items() if k != "content_hash"},
    {k: v for k, v in _base().items() if k != "kind"},
    [],
    "a string",
    None,
    12,
]


def test_fuzz_malformed_records_become_findings_never_exceptions(
    key: signing.SigningKey, policy: TrustPolicy
) -> None:
    assert len(MALFORMED) >= 30
    valid = fairness("pass", signing_key=key)
    for chosen in (NO_TRUST, policy):
        records: list[EvidenceRecord] = [valid]
        runs = {valid.id: "run-2"}
        parse_findings: list[IntegrityFinding] = []
        for number, data in enumerate(MALFORMED):
            record_id = data.get("id") if isinstance(data, dict) else None
            record_id = record_id if isinstance(record_id, str) else f"fuzz-{number}"
            stored = contract.parse_stored(
                run_id="run-2", record_id=record_id, value=_rehashed(data), fetch=lambda _: None
            )
            if stored.record is not None:
                records.append(stored.record)
                runs[stored.record.id] = "run-2"
            parse_findings.extend(
                IntegrityFinding(record_id=record_id, why=p, run_id="run-2", system="credit")
                for p in stored.problems
            )
        for raw in ("{", '{"id": "x"', "\x00", '{"id": "p", "content_hash": "x", "artifact": 1}'):
            stored = contract.parse_stored(
                run_id="run-2", record_id="raw", value=raw, fetch=lambda _: None
            )
            assert stored.record is None and stored.problems
        result, found = judged(records, chosen, run_ids=runs, findings=tuple(parse_findings))
        sa = result.systems["credit"]
        bad_ids = {f.record_id for f in found}
        accepted = [r for r in records if r.id not in bad_ids]
        assert valid in accepted
        # well-formed after all: a year-1 timestamp (stale), checks the engine ignores, an
        # overdue duty, an attestation naming a list as its author
        assert len(accepted) <= 6, accepted
        assert len(bad_ids) >= len(MALFORMED) - 5
        summary_dict(sa)
        listing_text(sa)
        integrity_lines(chosen, found)
        json.dumps(integrity_summary(chosen, found))
        for control in FAIRNESS_CONTROLS:
            assert sa.control(control).status == FAILING


def test_canonical_json_of_a_finding_is_stable() -> None:
    finding = IntegrityFinding(record_id="r1", why="because", run_id="run-1", kind="fairness")
    assert json.loads(canonical_json(finding.to_dict()))["reason"] == (
        "record r1 failed verification: because"
    )


# ------------------------------------------------------- fuzz: deep and oversized (issue 21)
def _deep_tag(depth: int, where: str = "details") -> str:
    """A valid record's tag with ``depth`` nested lists planted in ``where`` (json.dumps cannot
    write it: the text is built by hand)."""
    data = _base()
    data[where] = {"x": "__DEEP__"} if where == "details" else "__DEEP__"
    text = _rehashed(data)
    return text.replace('"__DEEP__"', "[" * depth + "1" + "]" * depth)


def _pointer(record_id: str) -> str:
    path = f"aims/evidence/fairness/{record_id}.json"
    return json.dumps({"id": record_id, "content_hash": "0" * 64, "artifact": path})


def _too_large(path: str) -> bytes:
    raise contract.ArtifactTooLarge(path=path, size=100 * 2**20)


DEEP_OR_HUGE: list[tuple[str, str, Any]] = [
    ("deep-64", _deep_tag(64), lambda _: None),
    ("deep-5000", _deep_tag(5000), lambda _: None),
    ("deep-200000", _deep_tag(200_000), lambda _: None),
    ("deep-controls", _deep_tag(4000, "controls"), lambda _: None),
    ("deep-metrics", _deep_tag(4000, "metrics"), lambda _: None),
    ("deep-bare", "[" * 100_000, lambda _: None),
    ("huge-tag", json.dumps({"id": "huge-tag", "pad": "x" * (contract.MAX_TAG_CHARS + 1)}), None),
    ("deep-artifact", _pointer("deep-artifact"), lambda _: _deep_tag(5000).encode()),
    ("huge-artifact", _pointer("huge-artifact"), _too_large),
    ("../../escape", _rehashed(_with("id", "../../escape")), lambda _: None),
]


def test_fuzz_deep_and_oversized_records_become_named_findings() -> None:
    for record_id, value, fetch in DEEP_OR_HUGE:
        stored = contract.parse_stored(
            run_id="run-2", record_id=record_id, value=value, fetch=fetch or (lambda _: None)
        )
        assert stored.record is None, record_id
        assert stored.problems and all(record_id in p for p in stored.problems), stored.problems
    # a deep record still names what it claims: its finding fails the entries it speaks to
    stored = contract.parse_stored(
        run_id="run-2", record_id=_base()["id"], value=_deep_tag(5000), fetch=lambda _: None
    )
    assert stored.decoded is not None and stored.decoded.kind == "fairness"
    assert "nested more than 64 levels deep" in stored.problems[0]
    finding = IntegrityFinding(
        record_id=stored.record_id,
        why=stored.problems[0],
        run_id="run-2",
        kind="fairness",
        system="credit",
    )
    result, found = judged([], NO_TRUST, findings=(finding,))
    assert {f.record_id for f in found} == {stored.record_id}
    sa = result.systems["credit"]
    summary_dict(sa)
    for control in FAIRNESS_CONTROLS:
        assert sa.control(control).status == FAILING


def test_from_json_refuses_deep_and_huge_records_with_an_evidence_error() -> None:
    from aims_mlops._errors import EvidenceError

    for text in (_deep_tag(5000), "[" * 100_000, json.dumps({"x": "y" * 2_000_000})):
        with pytest.raises(EvidenceError, match="refused"):
            EvidenceRecord.from_json(text)


# ------------------------------------------------------- issue 21: a key others may read
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666])
def test_a_private_key_readable_by_group_or_others_is_refused_with_the_chmod(
    tmp_path: Path, mode: int
) -> None:
    generate_keys(tmp_path)
    private = tmp_path / "aims-signing.key"
    private.chmod(mode)
    with pytest.raises(SigningKeyError) as caught:
        load_signing_key(private)
    assert f"run `chmod 600 {private}`" in str(caught.value)
    assert f"(mode {mode:o})" in str(caught.value)
    private.chmod(0o600)
    assert load_signing_key(private).key_id
    private.chmod(0o400)
    assert load_signing_key(private).key_id
