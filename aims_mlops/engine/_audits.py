"""What an auditor re-performs: the inputs of a verdict, as of a moment, and their digest.

Pure (no I/O, no clock): the judgement layer reads the store and calls these.

- :func:`evidence_digest`: SHA-256 over the configuration digest and the sorted content hashes
  of every record a judgement considered. Two verdicts with the same digest rest on the same
  inputs (the catalog is package data: its version is the package's).
- :func:`records_as_of`: the records collected up to a moment (re-performance).
- :func:`parse_as_of`: ``DATE`` (the end of that day, UTC) or an ISO 8601 timestamp.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from aims_mlops._errors import AimsError
from aims_mlops.evidence import EvidenceRecord, parse_timestamp

#: Prefix of the digest's text, so the scheme can change without ambiguity.
DIGEST_SCHEME = "aims-evidence-digest/1"

ERROR_BAD_AS_OF = (
    "{value!r} is not a date or timestamp; give YYYY-MM-DD (the end of that day, UTC) or an ISO "
    "8601 timestamp such as 2026-11-20T12:00:00Z"
)


def evidence_digest(config_digest: str, records: Iterable[EvidenceRecord]) -> str:
    """SHA-256 (hex) of the configuration digest and the sorted content hashes of ``records``."""
    hashes = sorted({r.content_hash for r in records})
    text = "\n".join([DIGEST_SCHEME, config_digest, *hashes])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def records_as_of(records: Iterable[EvidenceRecord], as_of: datetime) -> tuple[EvidenceRecord, ...]:
    """The records collected at or before ``as_of``."""
    return tuple(r for r in records if r.collected <= as_of)


def parse_as_of(value: str | date | datetime) -> datetime:
    """An aware UTC moment: a bare date means the end of that day (every record of the day
    counts); ``AimsError`` for anything else."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.max, tzinfo=UTC)
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max, tzinfo=UTC)
        return parse_timestamp(text)
    except ValueError as exc:
        raise AimsError(ERROR_BAD_AS_OF.format(value=value)) from exc


def iso_moment(moment: datetime) -> str:
    """``2026-11-20T23:59:59Z`` (seconds, UTC)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
