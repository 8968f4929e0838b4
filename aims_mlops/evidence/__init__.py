"""Evidence records: immutable, schema-versioned, content-hashed statements about an AI system.

A record says what was observed (``kind``, ``outcome``, ``metrics``, bounded ``details``), about
what (``system`` and ``subject``: run, model version, dataset digests), by which collector and
when, and which controls it speaks to. Its SHA-256 ``content_hash`` covers all of that, so any
later change is detectable with :meth:`EvidenceRecord.verify`.

Every kind of record is an :class:`EvidenceKind` in a :class:`KindRegistry`: the built-in ones
(:data:`DEFAULT_KINDS`, kind -> producing collector, description) and those third-party packages
register through the ``aims_mlops.evidence_kinds`` entry-point group (:func:`load_kinds`).
"""

from aims_mlops.evidence._current import CurrentModel, ModelBinding
from aims_mlops.evidence._inventory import EXPERIMENT, REGISTERED_MODEL, Discovered, Inventory
from aims_mlops.evidence._kinds import (
    DEFAULT_KINDS,
    ENTRY_POINT_GROUP,
    EvidenceKind,
    KindRegistry,
    build_registry,
    load_kinds,
)
from aims_mlops.evidence._record import (
    MAX_DETAILS_CHARS,
    OUTCOMES,
    SCHEMA_VERSION,
    CollectorInfo,
    EvidenceRecord,
    Subject,
    canonical_json,
    new_record,
    parse_timestamp,
)
from aims_mlops.evidence._signing import (
    ENV_SIGNING_KEY,
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    PublicKey,
    SigningKey,
    SigningKeyError,
    generate_keys,
    load_public_key,
    load_signing_key,
    new_signing_key,
    signing_key_from_env,
)
from aims_mlops.evidence._trust import (
    CLOCK_SKEW,
    NO_TRUST,
    IntegrityFinding,
    TrustPolicy,
    check_record,
    finding_for,
    malformation,
)

__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_KINDS",
    "ENTRY_POINT_GROUP",
    "ENV_SIGNING_KEY",
    "EXPERIMENT",
    "MAX_DETAILS_CHARS",
    "NO_TRUST",
    "OUTCOMES",
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "REGISTERED_MODEL",
    "SCHEMA_VERSION",
    "CollectorInfo",
    "CurrentModel",
    "Discovered",
    "EvidenceKind",
    "EvidenceRecord",
    "IntegrityFinding",
    "Inventory",
    "KindRegistry",
    "ModelBinding",
    "PublicKey",
    "SigningKey",
    "SigningKeyError",
    "Subject",
    "TrustPolicy",
    "build_registry",
    "canonical_json",
    "check_record",
    "finding_for",
    "generate_keys",
    "load_kinds",
    "load_public_key",
    "load_signing_key",
    "malformation",
    "new_record",
    "new_signing_key",
    "parse_timestamp",
    "signing_key_from_env",
]
