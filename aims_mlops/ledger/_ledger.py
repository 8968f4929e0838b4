"""The configuration ledger: every aims.yaml content recorded, and the chain of its approvals.

Pure (config + evidence; no MLflow). A :class:`Snapshot` is one content of aims.yaml with the
public key material its ``trust:`` and ``people:`` name (so a key file changed under the same
path is another content). :func:`configuration_record` turns it into a ``configuration`` record
(its text, source, keys and :attr:`Snapshot.identity`); :func:`approval_record` is the
``configuration_approval`` a person signs with their own key.

The approvals form a chain, as TUF's root metadata does: each names the approval it follows
(``previous``) and its ``sequence``. :func:`resolve_ledger` walks it from the root:

- the root (the store's first approval, ``previous: null``) is trusted on first use: it must be
  signed by a key that the approved configuration itself lists for the person named ``by``, who
  holds the role ``top_management`` there; with pinned keys (``--trusted-key``,
  ``$AIMS_TRUSTED_KEYS``) the root's key must be one of them;
- every later approval must be signed by a key that the *previous* approved configuration lists
  for the person it names, with the role ``top_management``: whoever edits aims.yaml cannot add
  their own key and approve with it; a change of ``trust:`` or ``people:`` takes effect only when
  approved with a key the old configuration trusts;
- an approval that breaks these rules, a second root, a fork (two approvals claiming the same
  predecessor) or an approval whose configuration is missing or altered is an
  :class:`~aims_mlops.evidence.IntegrityFinding` and changes nothing.

:meth:`Ledger.at` is the configuration approved and in force at a moment (``--as-of``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aims_mlops._errors import AimsError, ConfigError
from aims_mlops.catalog import catalog_record, load_catalog
from aims_mlops.config import AimsConfig, config_digest, load_config, parse_config
from aims_mlops.config._models import ROLE_TOP_MANAGEMENT, named_person
from aims_mlops.evidence import (
    EvidenceRecord,
    IntegrityFinding,
    PublicKey,
    SigningKeyError,
    TrustPolicy,
    load_public_key,
    new_record,
)
from aims_mlops.evidence._record import parse_timestamp
from aims_mlops.evidence._signing import key_id_of, parse_signature
from aims_mlops.evidence._trust import PersonKey, resolve_key_path

KIND_CONFIGURATION = "configuration"
KIND_APPROVAL = "configuration_approval"
LEDGER_KINDS = (KIND_CONFIGURATION, KIND_APPROVAL)
COLLECTOR = "aims_mlops.ledger"
COLLECTOR_VERSION = "1"
IDENTITY_SCHEME = "aims-configuration/1"

WHY_APPROVAL_NO_CONFIG = "it approves configuration {config}, which the store does not hold"
WHY_CONFIG_ALTERED = (
    "the configuration {config} it approves does not match the approved identity {identity}: "
    "its text or keys were altered"
)
WHY_CONFIG_UNREADABLE = "the configuration {config} it approves does not parse: {error}"
WHY_APPROVAL_UNSIGNED = "it is not signed: an approval is signed with the approver's own key"
WHY_APPROVAL_KEY = (
    "it is signed with key {key_id}, which {basis} does not list for {by} with the role "
    "top_management: refused, it changes nothing"
)
WHY_APPROVAL_BAD_SIGNATURE = "its signature does not verify with key {key_id}"
WHY_NOT_PINNED = (
    "it is the first approval (root) of the configuration chain, signed with key {key_id}, "
    "which is not one of the pinned keys ({pinned})"
)
WHY_SECOND_ROOT = (
    "it claims to be the first approval of the configuration chain, but {other} already is"
)
WHY_FORK = "it follows approval {previous}, which approval {other} already follows (a fork)"
WHY_ORPHAN = "it follows approval {previous}, which is not in the approved chain"
BASIS_ROOT = "the configuration it approves (trust on first use)"
BASIS_PREVIOUS = "the previously approved configuration (approval {id})"

#: Longest aims.yaml text a configuration record holds as is (else compressed).
MAX_INLINE_TEXT = 24_000
ERROR_NO_TEXT = "configuration record holds no aims.yaml text"
ERROR_TOO_LARGE = (
    "aims.yaml ({size} characters) is too large to record in the configuration ledger even "
    "compressed; move long texts (descriptions, justifications) into documents"
)
ERROR_KEY_MATERIAL = "configuration record: key {path} is not an Ed25519 public key"


# --------------------------------------------------------------------------- snapshots
@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One content of aims.yaml: its text, the parsed configuration and the key material of
    every key file it names (path as written -> key)."""

    text: str
    source: str
    config: AimsConfig
    keys: Mapping[str, PublicKey] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def identity(self) -> str:
        """SHA-256 over the configuration's digest and its keys: equal identities, equal
        meaning (comments and layout aside)."""
        payload = json.dumps(
            {
                "scheme": IDENTITY_SCHEME,
                "config": config_digest(self.config),
                "keys": {p: _encode(k.raw) for p, k in sorted(self.keys.items())},
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def key_ids(self) -> dict[str, str]:
        """Key file path -> key id (what ``aims config status`` compares)."""
        return {p: k.key_id for p, k in self.keys.items()}

    def policy(self) -> TrustPolicy:
        """The trust policy this configuration sets: its pipeline keys and its people's keys."""
        return policy_for(self.config, self.keys.__getitem__)


def _encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_paths(config: AimsConfig) -> list[str]:
    """Every key file path ``trust:`` and ``people:`` name, in order, once."""
    people = [p for person in config.people for p in person.public_keys]
    paths = [*config.trust.public_keys, *people]
    return list(dict.fromkeys(paths))


def policy_for(config: AimsConfig, key: Callable[[str], PublicKey]) -> TrustPolicy:
    """The trust policy of ``config``, its key files read through ``key(path)``."""
    keys = {k.key_id: k for k in (key(p) for p in config.trust.public_keys)}
    settings = config.trust
    if settings.unsigned:
        required = False
    elif settings.require_signatures is None:
        required = bool(keys) or any(p.public_keys for p in config.people)
    else:
        required = settings.require_signatures
    people = [
        PersonKey(name=person.name, roles=tuple(person.roles), key=key(path))
        for person in config.people
        for path in person.public_keys
    ]
    return TrustPolicy(
        keys=MappingProxyType(keys), require_signatures=required, unsigned=settings.unsigned
    ).with_people(people)


def snapshot_of(path: str | Path) -> Snapshot:
    """The working copy at ``path``: parsed (:class:`ConfigError` by line) with its key files
    read (relative to the folder of aims.yaml)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        load_config(file)  # the loader's own error for a missing or unreadable file
        raise ConfigError([f"{file}: {exc}"]) from exc
    config = parse_config(text, source=str(file))
    keys = {p: load_public_key(resolve_key_path(p, file.parent)) for p in key_paths(config)}
    return Snapshot(text=text, source=str(file), config=config, keys=MappingProxyType(keys))


def snapshot_from_record(record: EvidenceRecord) -> Snapshot:
    """The snapshot a ``configuration`` record holds; :class:`AimsError` when it does not parse
    or its key material is not a key."""
    details = record.details
    text, source = _text_of(details), details.get("source") or "aims.yaml"
    if text is None:
        raise AimsError(ERROR_NO_TEXT)
    config = parse_config(text, source=str(source), check_key_files=False)
    keys: dict[str, PublicKey] = {}
    material = details.get("keys")
    material = material if isinstance(material, Mapping) else {}
    for path in key_paths(config):
        raw = _decode(material.get(path))
        if raw is None:
            raise AimsError(ERROR_KEY_MATERIAL.format(path=path))
        keys[path] = PublicKey(key_id=key_id_of(raw), raw=raw, source=path)
    return Snapshot(text=text, source=str(source), config=config, keys=MappingProxyType(keys))


def _text_of(details: Mapping[str, Any]) -> str | None:
    text = details.get("text")
    if isinstance(text, str):
        return text
    packed = details.get("text_zlib")
    if not isinstance(packed, str):
        return None
    try:
        return zlib.decompress(base64.b64decode(packed, validate=True)).decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None


def _packed_text(text: str) -> dict[str, str]:
    """The text as is when it fits a record, else zlib-compressed (base64)."""
    if len(text) <= MAX_INLINE_TEXT:
        return {"text": text}
    packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    if len(packed) > MAX_INLINE_TEXT:
        raise AimsError(ERROR_TOO_LARGE.format(size=len(text)))
    return {"text_zlib": packed}


def _decode(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def configuration_record(snapshot: Snapshot, *, now: datetime | None = None) -> EvidenceRecord:
    """The ``configuration`` record of ``snapshot`` (organization-level, unsigned until the
    capture context signs it)."""
    return new_record(
        kind=KIND_CONFIGURATION,
        system=None,
        outcome="info",
        collector=COLLECTOR,
        collector_version=COLLECTOR_VERSION,
        details={
            "identity": snapshot.identity,
            "source": Path(snapshot.source).name,
            **_packed_text(snapshot.text),
            "keys": {p: _encode(k.raw) for p, k in sorted(snapshot.keys.items())},
        },
        config_digest=config_digest(snapshot.config),
        **({"collected_at": now.isoformat()} if now is not None else {}),
    )


def approval_record(
    *,
    configuration: EvidenceRecord,
    by: str,
    previous: Link | None,
    changes: Iterable[str] = (),
    now: datetime | None = None,
) -> EvidenceRecord:
    """The approval of ``configuration`` by ``by``, following ``previous`` (None: the root)."""
    return catalog_record(
        kind=KIND_APPROVAL,
        also=_changes_approved_entries(),
        system=None,
        outcome="pass",
        collector=COLLECTOR,
        collector_version=COLLECTOR_VERSION,
        details={
            "by": by,
            "acted_by": by,
            "configuration": configuration.id,
            "identity": configuration.details.get("identity"),
            "previous": previous.approval.id if previous is not None else None,
            "sequence": previous.sequence + 1 if previous is not None else 1,
            "changes": list(changes)[:100],
        },
        config_digest=configuration.config_digest,
        **({"collected_at": now.isoformat()} if now is not None else {}),
    )


# --------------------------------------------------------------------------- the chain
@dataclass(frozen=True, kw_only=True)
class Link:
    """One approved configuration: the approval, the configuration record, its snapshot."""

    approval: EvidenceRecord
    configuration: EvidenceRecord
    snapshot: Snapshot
    key_id: str
    sequence: int

    @property
    def approved_at(self) -> datetime:
        return parse_timestamp(self.approval.collected_at)

    @property
    def by(self) -> str:
        return str(self.approval.details.get("by"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "approval": self.approval.id,
            "configuration": self.configuration.id,
            "identity": self.snapshot.identity,
            "sequence": self.sequence,
            "by": self.by,
            "key_id": self.key_id,
            "approved_at": self.approval.collected_at,
        }


@dataclass(frozen=True, kw_only=True)
class Ledger:
    """The approved chain (oldest first), the findings about approvals that do not count, the
    root's key id (what an auditor pins) and every configuration recorded (identity -> record)."""

    links: tuple[Link, ...] = ()
    findings: tuple[IntegrityFinding, ...] = ()
    root_key: str | None = None
    configurations: Mapping[str, EvidenceRecord] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def head(self) -> Link | None:
        return self.links[-1] if self.links else None

    def at(self, moment: datetime | None) -> Link | None:
        """The configuration approved and in force at ``moment`` (None: the latest)."""
        if moment is None:
            return self.head
        found = None
        for link in self.links:
            if link.approved_at <= moment:
                found = link
        return found

    def recorded(self, snapshot: Snapshot) -> EvidenceRecord | None:
        """The ``configuration`` record of ``snapshot``'s content, if the store holds one."""
        return self.configurations.get(snapshot.identity)


#: The derived check that reads the approvals (the change log, 6.3 in the catalog).
CHANGES_APPROVED_CHECK = "changes_approved"


def change_controls() -> tuple[str, ...]:
    """The entries the approved history is evidence for (the catalog says which: those whose
    rule takes approvals as evidence or derives ``changes_approved`` from them)."""
    derived = _changes_approved_entries()
    return tuple(dict.fromkeys([*load_catalog().controls_for_kind(KIND_APPROVAL), *derived]))


def _changes_approved_entries() -> tuple[str, ...]:
    """The entries whose rule derives ``changes_approved`` from the approvals."""
    return tuple(e.id for e in load_catalog() if CHANGES_APPROVED_CHECK in e.rule.config_checks)


def _finding(record: EvidenceRecord, why: str) -> IntegrityFinding:
    return IntegrityFinding(
        record_id=record.id,
        why=why,
        kind=KIND_APPROVAL,
        system=None,
        controls=change_controls(),
    )


def _signer(
    approval: EvidenceRecord, basis: Snapshot, basis_text: str
) -> tuple[str | None, str | None]:
    """(key id, None) when ``approval`` is signed by a key ``basis`` lists for the person it
    names with the role top_management; (key id or None, why) otherwise."""
    if approval.signature is None:
        return None, WHY_APPROVAL_UNSIGNED
    parsed = parse_signature(approval.signature)
    by = approval.details.get("by")
    if parsed is None or not isinstance(by, str):
        return None, WHY_APPROVAL_UNSIGNED
    key_id = parsed[0]
    person = named_person(basis.config, by)
    allowed = {}
    if person is not None and person.has_role(ROLE_TOP_MANAGEMENT):
        allowed = {
            basis.keys[p].key_id: basis.keys[p] for p in person.public_keys if p in basis.keys
        }
    key = allowed.get(key_id)
    if key is None:
        return key_id, WHY_APPROVAL_KEY.format(key_id=key_id, basis=basis_text, by=by)
    if not key.verify(approval.content_hash, approval.signature):
        return key_id, WHY_APPROVAL_BAD_SIGNATURE.format(key_id=key_id)
    return key_id, None


def resolve_ledger(
    records: Iterable[EvidenceRecord],
    *,
    pinned: Iterable[str] = (),
    known: Iterable[Snapshot] = (),
) -> Ledger:
    """The approved chain in ``records`` (see the module docstring); ``pinned`` are key ids the
    root approval must be signed with (none: trust on first use). ``known`` snapshots (the
    working copy) stand for an approval of their identity without parsing the recorded text
    again: the approval binds the identity, and their content has it."""
    pins = frozenset(pinned)
    by_known = {s.identity: s for s in known}
    configs: dict[str, EvidenceRecord] = {}
    by_identity: dict[str, EvidenceRecord] = {}
    approvals: list[EvidenceRecord] = []
    for record in records:
        if not record.is_intact():
            continue  # the store's screen names altered records
        if record.kind == KIND_CONFIGURATION:
            configs[record.id] = record
            identity = record.details.get("identity")
            if isinstance(identity, str):
                by_identity.setdefault(identity, record)
        elif record.kind == KIND_APPROVAL:
            approvals.append(record)
    approvals.sort(key=lambda r: (r.collected_at, r.id))
    findings: list[IntegrityFinding] = []
    snapshots: dict[str, Snapshot] = {}

    def snapshot(approval: EvidenceRecord) -> Snapshot | None:
        config_id = approval.details.get("configuration")
        record = configs.get(config_id) if isinstance(config_id, str) else None
        if record is None:
            findings.append(_finding(approval, WHY_APPROVAL_NO_CONFIG.format(config=config_id)))
            return None
        same = by_known.get(str(approval.details.get("identity")))
        if same is not None and record.details.get("identity") == same.identity:
            return same
        if record.id not in snapshots:
            try:
                snapshots[record.id] = snapshot_from_record(record)
            except (AimsError, SigningKeyError) as exc:
                findings.append(
                    _finding(approval, WHY_CONFIG_UNREADABLE.format(config=record.id, error=exc))
                )
                return None
        found = snapshots[record.id]
        if found.identity != approval.details.get("identity"):
            findings.append(
                _finding(
                    approval,
                    WHY_CONFIG_ALTERED.format(
                        config=record.id, identity=approval.details.get("identity")
                    ),
                )
            )
            return None
        return found

    links: list[Link] = []
    roots = [a for a in approvals if a.details.get("previous") is None]
    rest = [a for a in approvals if a.details.get("previous") is not None]
    root_link: Link | None = None
    for approval in roots:
        found = snapshot(approval)
        if found is None:
            continue
        key_id, why = _signer(approval, found, BASIS_ROOT)
        if why is None and pins and key_id not in pins:
            why = WHY_NOT_PINNED.format(key_id=key_id, pinned=", ".join(sorted(pins)))
        if why is None and root_link is not None:
            why = WHY_SECOND_ROOT.format(other=root_link.approval.id)
        if why is not None:
            findings.append(_finding(approval, why))
            continue
        root_link = Link(
            approval=approval,
            configuration=configs[str(approval.details["configuration"])],
            snapshot=found,
            key_id=str(key_id),
            sequence=1,
        )
    if root_link is not None:
        links.append(root_link)
        current = root_link
        pending = list(rest)
        while True:
            children = [a for a in pending if a.details.get("previous") == current.approval.id]
            if not children:
                break
            pending = [a for a in pending if a not in children]
            accepted: Link | None = None
            for approval in children:
                found = snapshot(approval)
                if found is None:
                    continue
                basis = BASIS_PREVIOUS.format(id=current.approval.id)
                key_id, why = _signer(approval, current.snapshot, basis)
                if why is None and accepted is not None:
                    why = WHY_FORK.format(
                        previous=current.approval.id, other=accepted.approval.id
                    )
                if why is not None:
                    findings.append(_finding(approval, why))
                    continue
                accepted = Link(
                    approval=approval,
                    configuration=configs[str(approval.details["configuration"])],
                    snapshot=found,
                    key_id=str(key_id),
                    sequence=current.sequence + 1,
                )
            if accepted is None:
                break
            links.append(accepted)
            current = accepted
        rest = pending
    reached = {link.approval.id for link in links} | {f.record_id for f in findings}
    for approval in rest:
        if approval.id not in reached:
            findings.append(
                _finding(approval, WHY_ORPHAN.format(previous=approval.details.get("previous")))
            )
    return Ledger(
        links=tuple(links),
        findings=tuple(dict.fromkeys(findings)),
        root_key=links[0].key_id if links else None,
        configurations=MappingProxyType(by_identity),
    )
