"""Which records count as evidence: the trust policy and the check every stored record passes.

Pure (no MLflow; ``cryptography`` only when a signature is checked). :func:`check_record` answers
why a record must not be used as evidence, or None. Regardless of trust a record is refused when
it is malformed (a timestamp that does not parse, a metric that is not a finite number, a field
of the wrong type), its kind or outcome is unknown, its ``collected_at`` lies in the future
beyond :data:`CLOCK_SKEW`, its content does not hash to its ``content_hash``, or it is stored on
another run than the one its subject names. With a :class:`TrustPolicy` that lists public keys
(aims.yaml ``trust:``), a record must also carry a valid signature of one of those keys
(``require_signatures``, default true once keys are listed; false: unsigned records pass, a
signature that is there must still verify).

A refused record becomes an :class:`IntegrityFinding`: the engine turns every control it speaks
to into ``failing`` with the finding's reason; it is never evidence and never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aims_mlops.evidence._acts import actor_of, is_person_act
from aims_mlops.evidence._record import OUTCOMES, SCHEMA_VERSION, EvidenceRecord, parse_timestamp
from aims_mlops.evidence._signing import PublicKey, load_public_key, parse_signature

if TYPE_CHECKING:
    from aims_mlops.evidence._kinds import KindRegistry

#: Kinds whose signatures the configuration ledger checks (an approval against the keys of the
#: *previous* approved configuration, a configuration through the approval naming its
#: identity), not the policy of the configuration in force.
LEDGER_CHECKED_KINDS = ("configuration", "configuration_approval")
#: How far in the future a record's ``collected_at`` may lie (clocks of two machines differ).
CLOCK_SKEW = timedelta(minutes=5)

FINDING_REASON = "record {id} failed verification: {why}"
WHY_UNSIGNED = "it is not signed, and aims.yaml trust requires signed evidence"
WHY_UNKNOWN_KEY = "it is signed by key {key_id}, which is not one of the trusted public keys"
WHY_NOT_A_SIGNATURE = "its signature is not an Ed25519 signature (ed25519:<key id>:<base64>)"
WHY_BAD_SIGNATURE = "its signature does not verify with public key {key_id}"
WHY_HASH = "its content does not hash to its content_hash: it was altered"
WHY_FUTURE = (
    "collected_at {when} lies in the future (more than {minutes} minutes after {now})"
)
WHY_UNKNOWN_OUTCOME = "outcome {value!r} is not one of pass, fail, error, info"
WHY_UNKNOWN_KIND = "kind {value!r} is not a known kind of evidence"
WHY_BAD_TIMESTAMP = "{field} {value!r} is not an ISO 8601 timestamp"
WHY_BAD_METRIC = "metric {name!r} must be a finite number; got {value!r}"
WHY_BAD_FIELD = "{field} must be {what}; got {value!r}"
WHY_SCHEMA = "schema_version {value!r} is not {expected}"
WHY_OTHER_RUN = "it is stored on run {stored} but its subject names run {named}"
WHY_ACT_BY_PIPELINE = (
    "it is an act of {person} but is signed with the pipeline key {key_id}: a person's act is "
    "signed with that person's own key"
)
WHY_ACT_UNSIGNED = "it is an act of {person} but is not signed with {person}'s key"
WHY_ACT_OTHER_PERSON = (
    "it is an act of {person} but is signed with key {key_id} of {signer}"
)
WHY_ACT_NOT_A_PERSON = (
    "it names {person}, who is not listed in people: (or has no public key there), so the name "
    "is not proven"
)
WHY_ACT_NO_NAME = "it is a person's act that names no person"

NOTE_UNSIGNED = (
    "evidence is unsigned: aims.yaml lists no trust.public_keys, so a record is checked only "
    "against its own content hash, which anyone with write access to the MLflow store can "
    "recompute; a forged record cannot be told from a real one"
)
NOTE_UNSIGNED_OPT_OUT = (
    "evidence is unsigned by choice (aims.yaml trust: unsigned: true): records are checked only "
    "against their own content hash, which anyone with write access to the store can recompute"
)
NOTE_SIGNED = "evidence counts only when signed by a trusted key ({keys})"
NOTE_SIGNATURES_OPTIONAL = (
    "signatures of the trusted keys ({keys}) are checked, but unsigned records are accepted "
    "(trust.require_signatures is false)"
)


@dataclass(frozen=True, kw_only=True)
class IntegrityFinding:
    """A stored record that failed verification: never evidence, always named.

    ``controls`` are the ones the record itself names; the engine adds the catalog's controls
    for ``kind``. ``kind`` and ``system`` are what the record (or its run) claims; None when
    nothing could be decoded.
    """

    record_id: str
    why: str
    run_id: str | None = None
    kind: str | None = None
    system: str | None = None
    controls: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return FINDING_REASON.format(id=self.record_id, why=self.why)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "run_id": self.run_id,
            "kind": self.kind,
            "system": self.system,
            "controls": list(self.controls),
            "reason": self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class PersonKey:
    """A public key of a person listed in aims.yaml ``people:``, with their roles."""

    name: str
    roles: tuple[str, ...]
    key: PublicKey


@dataclass(frozen=True, kw_only=True)
class TrustPolicy:
    """The public keys whose records count (key id -> key) and whether a signature is required.
    No keys: nothing is signed-checked and every output says the evidence is unsigned.

    ``people`` (key id -> :class:`PersonKey`) are the keys people sign their own acts with:
    once any is listed, a person's act (:func:`~aims_mlops.evidence._acts.is_person_act`)
    counts only when signed by a key of the person it names, and never by a pipeline key.
    ``unsigned`` is the explicit opt-out (aims.yaml ``trust: {unsigned: true}``)."""

    keys: Mapping[str, PublicKey] = field(default_factory=lambda: MappingProxyType({}))
    require_signatures: bool = False
    people: Mapping[str, PersonKey] = field(default_factory=lambda: MappingProxyType({}))
    unsigned: bool = False

    @classmethod
    def from_files(
        cls,
        paths: Iterable[str],
        *,
        base_dir: str | Path = ".",
        require_signatures: bool | None = None,
    ) -> TrustPolicy:
        """Load the public keys at ``paths`` (relative to ``base_dir`` unless absolute);
        ``require_signatures`` defaults to true once a key is listed.
        :class:`~aims_mlops.evidence.SigningKeyError` for a missing or invalid key file."""
        keys = {}
        for path in paths:
            key = load_public_key(resolve_key_path(path, base_dir))
            keys[key.key_id] = key
        required = bool(keys) if require_signatures is None else bool(require_signatures and keys)
        return cls(keys=MappingProxyType(keys), require_signatures=required)

    @property
    def configured(self) -> bool:
        return bool(self.keys)

    def with_people(self, people: Iterable[PersonKey]) -> TrustPolicy:
        """The same policy with the keys people sign their own acts with."""
        from dataclasses import replace

        return replace(self, people=MappingProxyType({p.key.key_id: p for p in people}))

    def key_ids_of(self, name: str) -> tuple[str, ...]:
        """The ids of the keys person ``name`` signs with."""
        return tuple(k for k, p in self.people.items() if p.name == name)

    def note(self) -> str:
        """One sentence on what a verdict's evidence is worth under this policy."""
        if self.unsigned:
            return NOTE_UNSIGNED_OPT_OUT
        if not self.configured:
            return NOTE_UNSIGNED
        keys = ", ".join(sorted(self.keys))
        return (NOTE_SIGNED if self.require_signatures else NOTE_SIGNATURES_OPTIONAL).format(
            keys=keys
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "signed": self.configured and not self.unsigned,
            "require_signatures": self.require_signatures,
            "public_keys": sorted(self.keys),
            "people_keys": {k: p.name for k, p in sorted(self.people.items())},
            "unsigned_opt_out": self.unsigned,
            "note": self.note(),
        }

    def signature_problem(self, record: EvidenceRecord) -> str | None:
        """Why ``record``'s signature does not satisfy the policy; None when it does (or no
        keys are configured)."""
        if record.kind in LEDGER_CHECKED_KINDS:
            return None
        if self.people and is_person_act(record):
            return self._act_problem(record)
        if not self.configured:
            return None
        if record.signature is None:
            return WHY_UNSIGNED if self.require_signatures else None
        parsed = parse_signature(record.signature)
        if parsed is None:
            return WHY_NOT_A_SIGNATURE
        key = self.keys.get(parsed[0])
        if key is None:
            return WHY_UNKNOWN_KEY.format(key_id=parsed[0])
        if not key.verify(record.content_hash, record.signature):
            return WHY_BAD_SIGNATURE.format(key_id=parsed[0])
        return None

    def _act_problem(self, record: EvidenceRecord) -> str | None:
        """A person's act must be signed by a key of the person it names (people listed)."""
        person = actor_of(record)
        if person is None:
            return WHY_ACT_NO_NAME
        if record.signature is None:
            if self.unsigned or not self.require_signatures:
                return None
            return WHY_ACT_UNSIGNED.format(person=person)
        parsed = parse_signature(record.signature)
        if parsed is None:
            return WHY_NOT_A_SIGNATURE
        key_id = parsed[0]
        signer = self.people.get(key_id)
        if signer is None:
            if key_id in self.keys:
                return WHY_ACT_BY_PIPELINE.format(person=person, key_id=key_id)
            if not self.key_ids_of(person):
                return WHY_ACT_NOT_A_PERSON.format(person=person)
            return WHY_UNKNOWN_KEY.format(key_id=key_id)
        if not signer.key.verify(record.content_hash, record.signature):
            return WHY_BAD_SIGNATURE.format(key_id=key_id)
        if signer.name != person:
            return WHY_ACT_OTHER_PERSON.format(person=person, key_id=key_id, signer=signer.name)
        return None


#: The policy without keys (the default): nothing is signature-checked.
NO_TRUST = TrustPolicy()


def resolve_key_path(path: str, base_dir: str | Path) -> Path:
    """``path`` as written in aims.yaml: absolute, or relative to the folder of aims.yaml."""
    file = Path(path).expanduser()
    return file if file.is_absolute() else Path(base_dir) / file


def _text(value: Any, *, optional: bool) -> bool:
    return (value is None and optional) or (isinstance(value, str) and bool(value))


#: Details the engine reads as dates (duties with a deadline), and as record ids or kinds.
_DATE_DETAILS = ("deadline", "closed_on")
_TEXT_DETAILS = ("closes", "collector_kind")


def _details_problem(details: Mapping[str, Any]) -> str | None:
    for name in _DATE_DETAILS:
        value = details.get(name)
        if value is not None and _timestamp_problem(f"details.{name}", value) is not None:
            return WHY_BAD_FIELD.format(
                field=f"details.{name}", what="a date (YYYY-MM-DD)", value=value
            )
    for name in _TEXT_DETAILS:
        value = details.get(name)
        if value is not None and not _text(value, optional=False):
            return WHY_BAD_FIELD.format(
                field=f"details.{name}", what="a non-empty string", value=value
            )
    return None


def _timestamp_problem(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return WHY_BAD_TIMESTAMP.format(field=name, value=value)
    try:
        parse_timestamp(value)
    except (ValueError, OverflowError, TypeError):
        return WHY_BAD_TIMESTAMP.format(field=name, value=value)
    return None


def malformation(record: EvidenceRecord, *, kinds: KindRegistry | None = None) -> str | None:
    """Why ``record`` is not a well-formed record of a known kind; None when it is."""
    for name, value, optional in (
        ("id", record.id, False),
        ("kind", record.kind, False),
        ("system", record.system, True),
        ("config_digest", record.config_digest, True),
        ("store_id", record.store_id, True),
        ("subject.run_id", record.subject.run_id, True),
        ("subject.experiment_id", record.subject.experiment_id, True),
        ("subject.model_name", record.subject.model_name, True),
    ):
        if not _text(value, optional=optional):
            what = "a non-empty string or null" if optional else "a non-empty string"
            return WHY_BAD_FIELD.format(field=name, what=what, value=value)
    if record.schema_version != SCHEMA_VERSION:
        return WHY_SCHEMA.format(value=record.schema_version, expected=SCHEMA_VERSION)
    if not all(isinstance(d, str) for d in record.subject.dataset_digests):
        return WHY_BAD_FIELD.format(
            field="subject.dataset_digests",
            what="a list of strings",
            value=list(record.subject.dataset_digests),
        )
    if not all(isinstance(c, str) for c in record.controls):
        return WHY_BAD_FIELD.format(
            field="controls", what="a list of strings", value=list(record.controls)
        )
    if record.outcome not in OUTCOMES:
        return WHY_UNKNOWN_OUTCOME.format(value=record.outcome)
    if kinds is not None and record.kind not in kinds:
        return WHY_UNKNOWN_KIND.format(value=record.kind)
    problem = _timestamp_problem("collected_at", record.collected_at)
    if problem is None and record.valid_until is not None:
        problem = _timestamp_problem("valid_until", record.valid_until)
    if problem is not None:
        return problem
    if not isinstance(record.metrics, Mapping) or not isinstance(record.details, Mapping):
        return WHY_BAD_FIELD.format(field="metrics and details", what="mappings", value="other")
    for name, value in record.metrics.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return WHY_BAD_METRIC.format(name=name, value=value)
    return _details_problem(record.details)


def check_record(
    record: EvidenceRecord,
    *,
    policy: TrustPolicy = NO_TRUST,
    kinds: KindRegistry | None = None,
    clock: datetime,
    run_id: str | None = None,
) -> str | None:
    """Why ``record`` must not count as evidence (see the module docstring); None when it may.
    ``clock`` is the real time of the check (aware), ``run_id`` the run it was read from."""
    problem = malformation(record, kinds=kinds)
    if problem is not None:
        return problem
    if not record.is_intact():
        return WHY_HASH
    if record.collected - clock > CLOCK_SKEW:
        return WHY_FUTURE.format(
            when=record.collected_at,
            minutes=int(CLOCK_SKEW.total_seconds() // 60),
            now=clock.isoformat(timespec="seconds"),
        )
    named = record.subject.run_id
    if run_id is not None and named and named != run_id:
        return WHY_OTHER_RUN.format(stored=run_id, named=named)
    return policy.signature_problem(record)


def finding_for(
    record: EvidenceRecord, why: str, *, run_id: str | None = None
) -> IntegrityFinding:
    """The finding of a decoded record that failed :func:`check_record`."""
    kind = record.kind if isinstance(record.kind, str) else None
    if kind == "error":
        collector_kind = (
            record.details.get("collector_kind") if isinstance(record.details, Mapping) else None
        )
        kind = collector_kind if isinstance(collector_kind, str) else kind
    return IntegrityFinding(
        record_id=str(record.id),
        why=why,
        run_id=run_id,
        kind=kind,
        system=record.system if isinstance(record.system, str) else None,
        controls=tuple(c for c in record.controls if isinstance(c, str)),
    )
