"""The evidence record: the immutable, content-hashed contract between capture and judgement."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from aims_mlops._errors import EvidenceError
from aims_mlops._json import JsonLimitError, loads_bounded

if TYPE_CHECKING:
    from aims_mlops.evidence._signing import PublicKey, SigningKey

SCHEMA_VERSION = 1
OUTCOMES: tuple[str, ...] = ("pass", "fail", "error", "info")
Outcome = Literal["pass", "fail", "error", "info"]

#: Largest canonical serialization of ``details`` accepted, in characters. Evidence is a summary,
#: never a data dump: big tables go to run artifacts and the record holds their hash.
MAX_DETAILS_CHARS = 32_000

ERROR_UNKNOWN_OUTCOME = "outcome must be one of pass, fail, error, info; got {value!r}"
ERROR_BAD_METRIC = "metric {name!r} must be a finite number; got {value!r}"
ERROR_DETAILS_TOO_LARGE = (
    "details of a {kind!r} record serialize to {size} characters, more than the {limit} allowed: "
    "put large tables in a run artifact and reference its hash"
)
ERROR_HASH_MISMATCH = "record {id} content hash does not match its content: it was altered"
ERROR_BAD_SIGNATURE = "record {id} signature does not verify with public key {key_id}"


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp as written in records (``Z`` or offset), as aware UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _plain(value: Any) -> Any:
    """Turn frozen mappings and tuples back into JSON-ready dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _plain(value.item())
    return value


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def canonical_json(payload: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, non-finite floats as null."""
    return json.dumps(
        _plain(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True, slots=True)
class Subject:
    """What a record is about: a run, a model version, the datasets by digest."""

    run_id: str | None = None
    experiment_id: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    dataset_digests: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "dataset_digests": list(self.dataset_digests),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Subject:
        data = data or {}
        version = data.get("model_version")
        return cls(
            run_id=data.get("run_id"),
            experiment_id=data.get("experiment_id"),
            model_name=data.get("model_name"),
            model_version=None if version is None else str(version),
            dataset_digests=tuple(data.get("dataset_digests") or ()),
        )


@dataclass(frozen=True, slots=True)
class CollectorInfo:
    """Which collector produced a record, and its version."""

    name: str
    version: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceRecord:
    """One piece of evidence. Build it with :func:`new_record`; never mutate it.

    ``content_hash`` is the SHA-256 of the canonical JSON of every field but ``content_hash`` and
    ``signature``; ``signature`` is an Ed25519 signature of that hash
    (``ed25519:<key id>:<base64>``, see :mod:`aims_mlops.evidence._signing`) when a signing key
    is configured.
    """

    id: str
    kind: str
    system: str | None
    subject: Subject
    collected_at: str
    collector: CollectorInfo
    outcome: Outcome
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    controls: tuple[str, ...] = ()
    config_digest: str | None = None
    valid_until: str | None = None
    schema_version: int = SCHEMA_VERSION
    #: the id of the store the record was written for (None: written before stores had ids)
    store_id: str | None = None
    content_hash: str = ""
    signature: str | None = None

    # -- serialization -------------------------------------------------------------------------
    def content(self) -> dict[str, Any]:
        """Everything the content hash covers, as plain JSON-ready data (``store_id`` only when
        set, so records written before stores had ids keep their hash)."""
        content = {
            "schema_version": self.schema_version,
            "id": self.id,
            "kind": self.kind,
            "system": self.system,
            "subject": self.subject.to_dict(),
            "collected_at": self.collected_at,
            "collector": self.collector.to_dict(),
            "outcome": self.outcome,
            "metrics": _plain(self.metrics),
            "details": _plain(self.details),
            "controls": list(self.controls),
            "config_digest": self.config_digest,
            "valid_until": self.valid_until,
        }
        if self.store_id is not None:
            content["store_id"] = self.store_id
        return content

    def to_dict(self) -> dict[str, Any]:
        data = self.content()
        data["content_hash"] = self.content_hash
        data["signature"] = self.signature
        return data

    def to_json(self) -> str:
        """Canonical JSON of the whole record (content, hash and signature)."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvidenceRecord:
        """Rebuild a record exactly as stored; call :meth:`verify` to check it was not altered."""
        try:
            collector = data["collector"]
            return cls(
                id=str(data["id"]),
                kind=str(data["kind"]),
                system=data.get("system"),
                subject=Subject.from_dict(data.get("subject")),
                collected_at=str(data["collected_at"]),
                collector=CollectorInfo(str(collector["name"]), str(collector["version"])),
                outcome=data["outcome"],
                metrics=_freeze(dict(data.get("metrics") or {})),
                details=_freeze(dict(data.get("details") or {})),
                controls=tuple(data.get("controls") or ()),
                config_digest=data.get("config_digest"),
                valid_until=data.get("valid_until"),
                schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
                store_id=data.get("store_id"),
                content_hash=str(data.get("content_hash") or ""),
                signature=data.get("signature"),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise EvidenceError(f"malformed evidence record: {exc!r}") from exc

    @classmethod
    def from_json(cls, text: str, *, verify: bool = False) -> EvidenceRecord:
        """Parse a record; with ``verify``, raise :class:`EvidenceError` when it was altered
        (signatures are not checked: :meth:`verify` with a key does that)."""
        try:
            data = loads_bounded(text, what="the evidence record")
        except JsonLimitError as exc:
            raise EvidenceError(f"evidence record refused: {exc}") from exc
        except ValueError as exc:  # JSONDecodeError
            raise EvidenceError(f"evidence record is not valid JSON: {exc}") from exc
        record = cls.from_dict(data)
        if verify and not record.is_intact(stored=data):
            raise EvidenceError(ERROR_HASH_MISMATCH.format(id=record.id))
        return record

    # -- integrity ----------------------------------------------------------------------------
    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.content()).encode("utf-8")).hexdigest()

    def is_intact(self, *, stored: Mapping[str, Any] | None = None) -> bool:
        """True when the content hashes to :attr:`content_hash`. ``stored``, the parsed JSON the
        record was read from, allows a quicker check (one serialization of what was stored, no
        rebuilding of the content) when it holds exactly the hashed fields."""
        if (
            stored is not None
            and stored.get("content_hash") == self.content_hash
            and _raw_hash_matches(stored)
        ):
            return True
        return hmac.compare_digest(self.compute_hash(), self.content_hash)

    def verify(self, *, key: PublicKey | None = None) -> None:
        """Raise :class:`EvidenceError` unless the hash (and, given a public key, the signature)
        hold."""
        if not self.is_intact():
            raise EvidenceError(ERROR_HASH_MISMATCH.format(id=self.id))
        if key is not None and not key.verify(self.content_hash, self.signature):
            raise EvidenceError(ERROR_BAD_SIGNATURE.format(id=self.id, key_id=key.key_id))

    def signed(self, key: SigningKey) -> EvidenceRecord:
        """The record signed with ``key`` (the signature covers the content hash)."""
        return replace(self, signature=key.sign(self.content_hash))

    @property
    def key_id(self) -> str | None:
        """The id of the key the signature names (None: unsigned, or not a signature of ours)."""
        from aims_mlops.evidence._signing import parse_signature

        parsed = parse_signature(self.signature)
        return parsed[0] if parsed is not None else None

    # -- convenience --------------------------------------------------------------------------
    @property
    def collected(self) -> datetime:
        return parse_timestamp(self.collected_at)

    def __repr__(self) -> str:
        return (
            f"EvidenceRecord(id={self.id!r}, kind={self.kind!r}, system={self.system!r}, "
            f"outcome={self.outcome!r}, collected_at={self.collected_at!r})"
        )


_UNHASHED_FIELDS = frozenset({"content_hash", "signature"})
_HASHED_FIELDS = frozenset(
    {
        "schema_version",
        "id",
        "kind",
        "system",
        "subject",
        "collected_at",
        "collector",
        "outcome",
        "metrics",
        "details",
        "controls",
        "config_digest",
        "valid_until",
    }
)


def _raw_hash_matches(data: Mapping[str, Any]) -> bool:
    """True when ``data`` (parsed record JSON) holds exactly the hashed fields and their
    canonical JSON hashes to its ``content_hash``. False means "check the slow way"."""
    if not isinstance(data, Mapping) or set(data) - _UNHASHED_FIELDS - {"store_id"} != (
        _HASHED_FIELDS
    ):
        return False
    if "store_id" in data and data["store_id"] is None:
        return False
    expected = data.get("content_hash")
    if not isinstance(expected, str) or not expected:
        return False
    content = {k: v for k, v in data.items() if k not in _UNHASHED_FIELDS}
    try:
        text = json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError):
        return False
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return hmac.compare_digest(actual, expected)


def new_record(
    *,
    kind: str,
    system: str | None,
    outcome: Outcome,
    collector: str,
    collector_version: str | None = None,
    subject: Subject | None = None,
    metrics: Mapping[str, float] | None = None,
    details: Mapping[str, Any] | None = None,
    controls: Iterable[str] = (),
    config_digest: str | None = None,
    valid_until: str | None = None,
    collected_at: str | None = None,
    record_id: str | None = None,
    signing_key: SigningKey | None = None,
    store_id: str | None = None,
) -> EvidenceRecord:
    """Validate and build a hashed (and, given a key, signed) evidence record."""
    if outcome not in OUTCOMES:
        raise EvidenceError(ERROR_UNKNOWN_OUTCOME.format(value=outcome))
    clean_metrics: dict[str, float] = {}
    for name, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(_plain(value), int | float):
            raise EvidenceError(ERROR_BAD_METRIC.format(name=name, value=value))
        number = float(_plain(value))
        if not math.isfinite(number):
            raise EvidenceError(ERROR_BAD_METRIC.format(name=name, value=value))
        clean_metrics[str(name)] = number
    plain_details = _plain(dict(details or {}))
    size = len(canonical_json(plain_details))
    if size > MAX_DETAILS_CHARS:
        raise EvidenceError(
            ERROR_DETAILS_TOO_LARGE.format(kind=kind, size=size, limit=MAX_DETAILS_CHARS)
        )
    if collector_version is None:
        from aims_mlops import __version__ as collector_version
    record = EvidenceRecord(
        id=record_id or uuid.uuid4().hex,
        kind=kind,
        system=system,
        subject=subject or Subject(),
        collected_at=collected_at or _utcnow(),
        collector=CollectorInfo(collector, collector_version),
        outcome=outcome,
        metrics=_freeze(clean_metrics),
        details=_freeze(plain_details),
        controls=tuple(sorted(set(controls))),
        config_digest=config_digest,
        valid_until=valid_until,
        store_id=store_id,
    )
    record = replace(record, content_hash=record.compute_hash())
    return record.signed(signing_key) if signing_key is not None else record
