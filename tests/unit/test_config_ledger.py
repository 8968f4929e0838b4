"""The configuration ledger (no MLflow): approvals form a chain in which the old approved
configuration signs for the new; a trust or people change approved with a key the previous
configuration does not trust is refused and changes nothing; people sign their own acts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aims_mlops._errors import ConfigError
from aims_mlops.catalog import load_catalog
from aims_mlops.config import parse_config
from aims_mlops.config._diff import config_changes
from aims_mlops.config._models import ERROR_NOT_A_PERSON, holds_role
from aims_mlops.evidence import Subject, generate_keys, load_signing_key, new_record
from aims_mlops.evidence import _trust as trust
from aims_mlops.evidence._acts import actor_field, actor_of, is_person_act
from aims_mlops.evidence._kinds import load_kinds
from aims_mlops.evidence._signing import generate_key_pair, load_public_key
from aims_mlops.ledger import _ledger as ledger
from aims_mlops.ledger import (
    approval_record,
    configuration_record,
    resolve_ledger,
    snapshot_of,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)

BASE = """\
version: 1
organization: {{name: Ledger Ltd, aims_scope: Credit models, policy_owner: Alice Chief}}
trust:
  public_keys: [keys/pipeline.pub]
people:
  - {{name: Alice Chief, roles: [top_management], public_keys: [keys/alice.pub]}}
  - {{name: Dana Smith, roles: [], public_keys: [keys/dana.pub]}}
{extra_people}systems:
  - id: credit
    name: Credit model
    owner: Dana Smith
    intended_use: Score loan applicants for a human underwriter.
    lifecycle_stage: validation
    mlflow: {{registered_model: credit-model, alias: champion}}
    sensitive_features: [sex]
    fairness: {{demographic_parity_difference: {{max: {dpd}}}}}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("pipeline", "alice", "dana", "mallory"):
        generate_key_pair(tmp_path / "keys" / f"{name}.key", tmp_path / "keys" / f"{name}.pub")
    return tmp_path


def write(folder: Path, *, dpd: float = 0.1, extra_people: str = "") -> Path:
    path = folder / "aims.yaml"
    path.write_text(BASE.format(dpd=dpd, extra_people=extra_people), encoding="utf-8")
    return path


def key(folder: Path, name: str):
    return load_signing_key(folder / "keys" / f"{name}.key")


def approve(folder, snapshot, by, signer, previous, when):
    config = configuration_record(snapshot, now=when)
    approval = approval_record(
        configuration=config, by=by, previous=previous, now=when + timedelta(seconds=1)
    ).signed(key(folder, signer))
    return config, approval


def test_root_approval_is_trust_on_first_use_by_top_management(folder: Path) -> None:
    snap = snapshot_of(write(folder))
    config, approval = approve(folder, snap, "Alice Chief", "alice", None, T0)
    result = resolve_ledger([config, approval])
    assert result.findings == ()
    assert result.head is not None and result.head.snapshot.identity == snap.identity
    assert result.root_key == key(folder, "alice").key_id
    # by someone without the role: refused
    config2, by_dana = approve(folder, snap, "Dana Smith", "dana", None, T0)
    refused = resolve_ledger([config2, by_dana])
    assert refused.head is None
    assert "does not list for Dana Smith with the role top_management" in refused.findings[0].why


def test_pinned_root_key(folder: Path) -> None:
    snap = snapshot_of(write(folder))
    config, approval = approve(folder, snap, "Alice Chief", "alice", None, T0)
    pinned = resolve_ledger([config, approval], pinned={key(folder, "mallory").key_id})
    assert pinned.head is None
    assert "not one of the pinned keys" in pinned.findings[0].why
    ok = resolve_ledger([config, approval], pinned={key(folder, "alice").key_id})
    assert ok.head is not None


def test_people_change_approved_with_an_untrusted_key_is_refused(folder: Path) -> None:
    first = snapshot_of(write(folder))
    c1, a1 = approve(folder, first, "Alice Chief", "alice", None, T0)
    chain = resolve_ledger([c1, a1])
    # Mallory edits aims.yaml: adds herself as top management, loosens the threshold
    mallory = "  - {name: Mallory, roles: [top_management], public_keys: [keys/mallory.pub]}\n"
    second = snapshot_of(write(folder, dpd=0.3, extra_people=mallory))
    c2, a2 = approve(folder, second, "Mallory", "mallory", chain.head, T0 + timedelta(days=1))
    after = resolve_ledger([c1, a1, c2, a2])
    assert after.head is not None and after.head.approval.id == a1.id  # no effect
    assert len(after.findings) == 1
    assert "previously approved configuration" in after.findings[0].why
    assert after.findings[0].controls == ("6.3",)
    # the same change approved by Alice (trusted by the previous configuration) takes effect
    c3, a3 = approve(folder, second, "Alice Chief", "alice", chain.head, T0 + timedelta(days=2))
    good = resolve_ledger([c1, a1, c3, a3])
    assert good.head is not None and good.head.approval.id == a3.id
    assert good.at(T0 + timedelta(hours=1)).approval.id == a1.id  # --as-of before the change
    assert good.at(T0 - timedelta(days=1)) is None


def test_altered_configuration_and_fork_are_findings(folder: Path) -> None:
    snap = snapshot_of(write(folder))
    c1, a1 = approve(folder, snap, "Alice Chief", "alice", None, T0)
    chain = resolve_ledger([c1, a1])
    second = snapshot_of(write(folder, dpd=0.2))
    c2, a2 = approve(folder, second, "Alice Chief", "alice", chain.head, T0 + timedelta(days=1))
    third = snapshot_of(write(folder, dpd=0.25))
    c3, a3 = approve(folder, third, "Alice Chief", "alice", chain.head, T0 + timedelta(days=2))
    forked = resolve_ledger([c1, a1, c2, a2, c3, a3])
    assert forked.head.approval.id == a2.id
    assert any("a fork" in f.why for f in forked.findings)
    # a configuration record whose text was swapped (re-hashed) no longer matches its approval
    altered_text = c2.details["text"].replace("0.2", "0.9")
    forged = new_record(
        kind="configuration",
        system=None,
        outcome="info",
        collector="x",
        details={**c2.details, "text": altered_text},
        record_id=c2.id,
        collected_at=c2.collected_at,
    )
    result = resolve_ledger([c1, a1, forged, a2])
    assert result.head.approval.id == a1.id
    assert "were altered" in result.findings[0].why


def test_key_file_content_is_part_of_the_identity(folder: Path) -> None:
    path = write(folder)
    before = snapshot_of(path)
    generate_key_pair(folder / "keys" / "alice.key", folder / "keys" / "alice.pub", force=True)
    after = snapshot_of(path)
    assert before.identity != after.identity
    changes = config_changes(
        before.config, after.config, old_keys=before.key_ids(), new_keys=after.key_ids()
    )
    assert changes == [
        f"key file keys/alice.pub: key {before.keys['keys/alice.pub'].key_id} -> "
        f"{after.keys['keys/alice.pub'].key_id}"
    ]


def test_config_changes_name_thresholds_and_people(folder: Path) -> None:
    old = snapshot_of(write(folder)).config
    extra = "  - {name: Bob, roles: [internal_auditor]}\n"
    new = snapshot_of(write(folder, dpd=0.3, extra_people=extra)).config
    changes = config_changes(old, new)
    assert "people[Bob] added" in changes
    assert "systems[credit].fairness.demographic_parity_difference.max: 0.1 -> 0.3" in changes


def test_names_that_act_must_be_listed_people(folder: Path) -> None:
    text = BASE.format(dpd=0.1, extra_people="").replace("owner: Dana Smith", "owner: Eve")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source=str(folder / "aims.yaml"))
    message = str(caught.value)
    assert "aims.yaml:11: systems[0].owner: " in message
    assert ERROR_NOT_A_PERSON.format(name="Eve", known="Alice Chief, Dana Smith") in message
    config = parse_config(BASE.format(dpd=0.1, extra_people=""), source=str(folder / "aims.yaml"))
    assert holds_role(config, "Alice Chief", "top_management")
    assert holds_role(config, "Alice Chief (CEO)", "top_management")
    assert not holds_role(config, "Dana Smith", "top_management")


def _attestation(by: str):
    return new_record(
        kind="attestation",
        system="credit",
        outcome="pass",
        collector="test",
        subject=Subject(),
        controls=["A.2.2"],
        details={"by": by, "acted_by": by, "document": "https://x.test/p", "statement": "ok"},
    )


def test_the_pipeline_key_cannot_sign_a_persons_act(folder: Path) -> None:
    policy = snapshot_of(write(folder)).policy()
    pipeline, dana, alice = key(folder, "pipeline"), key(folder, "dana"), key(folder, "alice")
    by_pipeline = _attestation("Dana Smith").signed(pipeline)
    assert policy.signature_problem(by_pipeline) == trust.WHY_ACT_BY_PIPELINE.format(
        person="Dana Smith", key_id=pipeline.key_id
    )
    assert policy.signature_problem(_attestation("Dana Smith").signed(dana)) is None
    assert policy.signature_problem(_attestation("Dana Smith").signed(alice)) == (
        trust.WHY_ACT_OTHER_PERSON.format(
            person="Dana Smith", key_id=alice.key_id, signer="Alice Chief"
        )
    )
    assert policy.signature_problem(_attestation("Dana Smith")) == trust.WHY_ACT_UNSIGNED.format(
        person="Dana Smith"
    )


def test_openssh_keys_are_accepted(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    (tmp_path / "id_ed25519").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "id_ed25519").chmod(0o600)  # as ssh insists, private keys are the owner's only
    (tmp_path / "id_ed25519.pub").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        + b" alice@laptop\n"
    )
    signing = load_signing_key(tmp_path / "id_ed25519")
    public = load_public_key(tmp_path / "id_ed25519.pub")
    assert signing.key_id == public.key_id
    assert public.verify("abc", signing.sign("abc"))


def test_generate_keys_keeps_its_file_names(tmp_path: Path) -> None:
    generate_keys(tmp_path)
    assert (tmp_path / "aims-signing.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "aims-signing.pub").is_file()


def test_large_configuration_text_is_compressed(folder: Path) -> None:
    path = write(folder)
    padding = "".join(f"# comment line {i} with some words to pad the file\n" for i in range(800))
    path.write_text(path.read_text() + padding)
    snap = snapshot_of(path)
    record = configuration_record(snap)
    assert "text_zlib" in record.details
    assert ledger.snapshot_from_record(record).identity == snap.identity


def test_gate_trust_fails_unsigned_and_draft(folder: Path) -> None:
    from types import SimpleNamespace

    from aims_mlops.judgement._configuration import ConfigurationState
    from aims_mlops.judgement._gate import FAILURE_UNSIGNED, gate_trust, trust_line

    snap = snapshot_of(write(folder))
    draft = ConfigurationState(draft=True, draft_reason="DRAFT: no approved configuration")
    judged = SimpleNamespace(
        trust=snap.policy(), configuration=draft, records=(), unsigned_records=()
    )
    data, failures = gate_trust(judged)
    assert failures == ["configuration: DRAFT: no approved configuration"]
    assert data["signed"] is True and data["approved_configuration"] is None
    assert trust_line(data).endswith("configuration NOT APPROVED (draft); no unapproved changes")
    unsigned = SimpleNamespace(
        trust=trust.NO_TRUST, configuration=None, records=(), unsigned_records=()
    )
    data, failures = gate_trust(unsigned)
    assert failures == [FAILURE_UNSIGNED.format(note=trust.NOTE_UNSIGNED)]
    assert gate_trust(unsigned, allow_unsigned=True)[1] == []
    assert trust_line(gate_trust(unsigned, allow_unsigned=True)[0]).startswith(
        "trust: UNSIGNED (allowed by --allow-unsigned)"
    )


def _people_record(kind: str, person: str, **details: str):
    return new_record(
        kind=kind,
        system=None,
        outcome="pass",
        collector="test",
        subject=Subject(),
        controls=list(load_catalog().controls_for_kind(kind)),
        details={"person": person, **details},
    )


@pytest.mark.parametrize(
    ("kind", "details"),
    [
        ("training", {"topic": "AI policy", "date": "2026-11-02"}),
        ("acknowledgement", {"document": "AIMS-05"}),
    ],
)
def test_training_and_acknowledgement_are_the_persons_own_acts(
    folder: Path, kind: str, details: dict[str, str]
) -> None:
    """An auditor reads a training record as the trainee's statement that they were trained:
    typed by the pipeline, the name proves nothing. Signed by the pipeline or by someone else it
    is a finding; signed by the person it counts."""
    policy = snapshot_of(write(folder)).policy()
    pipeline, dana, alice = key(folder, "pipeline"), key(folder, "dana"), key(folder, "alice")
    record = _people_record(kind, "Dana Smith", **details)
    assert is_person_act(record) and actor_of(record) == "Dana Smith"
    assert policy.signature_problem(record.signed(pipeline)) == trust.WHY_ACT_BY_PIPELINE.format(
        person="Dana Smith", key_id=pipeline.key_id
    )
    assert policy.signature_problem(record.signed(alice)) == trust.WHY_ACT_OTHER_PERSON.format(
        person="Dana Smith", key_id=alice.key_id, signer="Alice Chief"
    )
    assert policy.signature_problem(record.signed(dana)) is None


def test_which_kinds_are_acts_is_one_mapping_the_kinds_registry() -> None:
    """Who signs a record is read from the kinds registry only (``EvidenceKind.actor``): the
    acts, the detail naming the person, and the records that are acts only with a detail."""
    kinds = load_kinds()
    acts = {k.name: k.actor for k in kinds if k.actor is not None}
    assert acts == {
        "incident": "acted_by",
        "internal_audit": "auditor",
        "training": "person",
        "acknowledgement": "person",
        "management_review": "chair",
        "nonconformity": "verified_by",
        "attestation": "by",
        "configuration_approval": "by",
        "risk_acceptance": "by",
    }
    assert {k.name for k in kinds if k.vouches} == {
        "attestation", "internal_audit", "management_review",
    }  # fmt: skip
    for name, field in acts.items():
        assert actor_field(name) == field
    opening = new_record(
        kind="nonconformity", system=None, outcome="fail", collector="t", subject=Subject(),
        controls=["10.2"], details={"entry": "7.4"},
    )  # fmt: skip
    assert not is_person_act(opening)  # the sync opens it: nobody's act
    assert actor_field("lineage.code") is None
