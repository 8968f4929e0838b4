"""Evidence records: immutable, schema-versioned, content-hashed statements about an AI system.

A record says what was observed (``kind``, ``outcome``, ``metrics``, bounded ``details``), about
what (``system`` and ``subject``: run, model version, dataset digests), by which collector and
when, and which controls it speaks to. Its SHA-256 ``content_hash`` covers all of that, so any
later change is detectable with :meth:`EvidenceRecord.verify`.
"""

from aims_mlops.evidence._record import (
    KNOWN_KINDS,
    MAX_DETAILS_CHARS,
    OUTCOMES,
    SCHEMA_VERSION,
    CollectorInfo,
    EvidenceRecord,
    Subject,
    canonical_json,
    new_record,
    parse_timestamp,
    sign_hash,
)
from aims_mlops.evidence._signing import ENV_SIGNING_KEY, signing_key_from_env

__all__ = [
    "ENV_SIGNING_KEY",
    "KNOWN_KINDS",
    "MAX_DETAILS_CHARS",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "CollectorInfo",
    "EvidenceRecord",
    "Subject",
    "canonical_json",
    "new_record",
    "parse_timestamp",
    "sign_hash",
    "signing_key_from_env",
]
