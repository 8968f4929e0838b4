"""Attested documents: what an attestation says about its document, and re-checking it later.

A local document is hashed (SHA-256) into the attestation when it is made; it must then exist and
be a readable regular file. A URL is recorded as it is, marked *not verifiable by hash* (its
content is not fetched). :func:`document_findings` re-hashes the local documents of the current
attestations and names each one that changed or vanished since it was attested.

Stdlib only (no heavy imports); reading files is the only I/O.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from aims_mlops._errors import AimsError
from aims_mlops.evidence._record import EvidenceRecord, parse_timestamp

#: ``details["document_check"]`` of an attestation whose local document was hashed.
CHECK_SHA256 = "sha256"
#: ``details["document_check"]`` of an attestation of a URL (its content is not hashed).
CHECK_NOT_VERIFIABLE = "not verifiable by hash"

ERROR_DOCUMENT_MISSING = (
    "document {path} does not exist: give the path of the attested file (or its http(s) URL)"
)
ERROR_DOCUMENT_NOT_FILE = "document {path} is not a regular file (a directory?): name the file"
ERROR_DOCUMENT_UNREADABLE = "document {path} cannot be read: {error}"
ERROR_DOCUMENT_PRIVATE_KEY = (
    "document {path} holds a private key: a key is never attested, hashed or packed"
)
ERROR_DOCUMENT_OUTSIDE = (
    "document {path} lies outside {roots}: move it under the folder of aims.yaml or declare "
    "its folder in aims.yaml documents.roots"
)
#: Why a recorded document is not read (the attestation is then a finding).
WHY_DOCUMENT_OUTSIDE = (
    "is not read: it lies outside the folder of aims.yaml and every documents.roots folder "
    "({roots})"
)
WHY_DOCUMENT_PRIVATE_KEY = "is not read: it holds a private key"

NOTE_NOT_VERIFIABLE = (
    "attestation {id} ({controls}): document {document} is a URL, not verifiable by hash"
)
PROBLEM_DOCUMENT_CHANGED = (
    "attestation {id} ({controls}): document {document} changed since it was attested "
    "(sha256 {expected:.12} then, {actual:.12} now)"
)
PROBLEM_DOCUMENT_VANISHED = (
    "attestation {id} ({controls}): document {document} is gone (attested with sha256 "
    "{expected:.12})"
)
PROBLEM_DOCUMENT_UNREADABLE = "attestation {id} ({controls}): document {document} {why}"
ERROR_DOCUMENT_EMPTY = "document {path} is empty: attest the document itself, not a placeholder"
ERROR_DOCUMENT_TOO_SMALL = (
    "document {path} holds {size} bytes, below the {minimum} an attested document needs "
    "(capture.min_document_bytes): attest the document itself"
)
ERROR_DOCUMENT_TEMPLATE = (
    "document {path} still holds the template placeholder {marker!r}: complete it before "
    "attesting it"
)
ERROR_DOCUMENT_HOST = (
    "document {url} is on {host}, a placeholder or local host no auditor can open: give the "
    "address where the document is published"
)
#: the smallest attested document, in bytes, unless ``capture.min_document_bytes`` says otherwise
DEFAULT_MIN_DOCUMENT_BYTES = 100
#: SHA-256 of no bytes at all: an attestation of an empty file proves nothing
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
#: markers a generated template leaves where its reader must fill something in (``aims docs
#: init`` writes ``TODO:``); any of them left in a document refuses its attestation
TEMPLATE_MARKERS: tuple[str, ...] = ("TODO:", "{{", "<fill in", "[fill in", "lorem ipsum")
#: host names reserved for examples and tests (RFC 2606 / 6761) or naming this machine
PLACEHOLDER_HOSTS = frozenset({"example.com", "example.net", "example.org", "localhost"})
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".localhost", ".local", ".example.com",
                        ".example.net", ".example.org")  # fmt: skip

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_CHUNK = 1 << 20
#: PEM, OpenSSH and PuTTY private keys, encrypted or not.
_PRIVATE_KEY_RE = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-")
#: A DER private key is small: larger files are not tried as one.
_DER_KEY_MAX_BYTES = 16_384


class DocumentError(AimsError):
    """An attested document is missing, not a regular file, or unreadable."""


def is_url(document: str) -> bool:
    """Whether ``document`` names a URL (``scheme://...``, not ``file://``) rather than a path."""
    return bool(_URL_RE.match(document)) and not document.lower().startswith("file://")


def _local_path(document: str) -> Path:
    if document.lower().startswith("file://"):
        return Path(unquote(urlsplit(document).path))
    return Path(document).expanduser()


@dataclass(frozen=True)
class DocumentScope:
    """Where attested documents may be read: the folder of aims.yaml and the folders its
    ``documents.roots`` declare (resolved). A path outside them is never read, whatever a
    record says."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, base_dir: str | os.PathLike[str], declared: Sequence[str] = ()) -> DocumentScope:
        """The folder of aims.yaml (``base_dir``) and the ``declared`` roots (relative to it)."""
        base = Path(base_dir).resolve()
        return cls(roots=(base, *((base / Path(r).expanduser()).resolve() for r in declared)))

    def allows(self, path: Path) -> bool:
        """Whether ``path`` (symbolic links followed) lies under one of the roots."""
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):
            return False
        return any(resolved.is_relative_to(root) for root in self.roots)

    def shown(self) -> str:
        return ", ".join(str(r) for r in self.roots)


def holds_private_key(path: Path) -> bool:
    """Whether the file parses as a private key (PEM, OpenSSH, PuTTY, or DER PKCS#8 / PKCS#1 /
    SEC1); ``OSError`` when it cannot be read."""
    with path.open("rb") as handle:
        head = handle.read(_DER_KEY_MAX_BYTES + 1)
    if _PRIVATE_KEY_RE.search(head):
        return True
    if len(head) > _DER_KEY_MAX_BYTES or not head.startswith(b"\x30"):  # DER: a SEQUENCE
        return False
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_der_private_key(head, password=None)
    except TypeError:  # encrypted: a key all the same
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks (``OSError`` when it cannot be read)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def placeholder_host(url: str) -> str | None:
    """The host of ``url`` when it is a placeholder (``example.com``, ``*.invalid``) or local
    (``localhost``, a loopback, private or link-local address, a name with no dot), else None."""
    import ipaddress

    try:
        host = (urlsplit(url).hostname or "").rstrip(".").casefold()
    except ValueError:
        return url
    if not host:
        return "(no host)"
    if host in PLACEHOLDER_HOSTS or host.endswith(PLACEHOLDER_SUFFIXES):
        return host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None if "." in host else host
    if address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified:
        return host
    return None


def template_marker(path: Path, *, limit: int = _CHUNK) -> str | None:
    """The first template placeholder still in the first ``limit`` bytes of ``path``."""
    with path.open("rb") as handle:
        head = handle.read(limit).decode("utf-8", errors="replace").casefold()
    return next((m for m in TEMPLATE_MARKERS if m.casefold() in head), None)


def document_details(
    document: str,
    *,
    scope: DocumentScope | None = None,
    min_bytes: int = DEFAULT_MIN_DOCUMENT_BYTES,
) -> dict[str, Any]:
    """The ``document``, ``document_sha256``, ``document_bytes`` and ``document_check`` details
    of an attestation.

    A URL: kept as given, no hash, marked not verifiable by hash; refused on a placeholder or
    local host. Anything else is a local path that must be a readable regular file, not a
    private key, (given a ``scope``) under one of its roots, and with substance: not empty, at
    least ``min_bytes``, no template placeholder left (:class:`DocumentError` otherwise): its
    absolute path, size and SHA-256.
    """
    text = document.strip()
    if is_url(text):
        host = placeholder_host(text)
        if host is not None:
            raise DocumentError(ERROR_DOCUMENT_HOST.format(url=text, host=host))
        return {"document": text, "document_sha256": None, "document_check": CHECK_NOT_VERIFIABLE}
    path = _local_path(text)
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, say
        raise DocumentError(ERROR_DOCUMENT_UNREADABLE.format(path=path, error=exc)) from exc
    if scope is not None and not scope.allows(resolved):
        raise DocumentError(ERROR_DOCUMENT_OUTSIDE.format(path=path, roots=scope.shown()))
    if not resolved.exists():
        raise DocumentError(ERROR_DOCUMENT_MISSING.format(path=path))
    if not resolved.is_file():
        raise DocumentError(ERROR_DOCUMENT_NOT_FILE.format(path=path))
    try:
        if holds_private_key(resolved):
            raise DocumentError(ERROR_DOCUMENT_PRIVATE_KEY.format(path=path))
        size = resolved.stat().st_size
        digest = file_sha256(resolved)
        marker = template_marker(resolved) if size else None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DocumentError(ERROR_DOCUMENT_UNREADABLE.format(path=path, error=reason)) from exc
    if size == 0:
        raise DocumentError(ERROR_DOCUMENT_EMPTY.format(path=path))
    if size < min_bytes:
        raise DocumentError(
            ERROR_DOCUMENT_TOO_SMALL.format(path=path, size=size, minimum=min_bytes)
        )
    if marker is not None:
        raise DocumentError(ERROR_DOCUMENT_TEMPLATE.format(path=path, marker=marker))
    return {
        "document": str(resolved),
        "document_sha256": digest,
        "document_bytes": size,
        "document_check": CHECK_SHA256,
    }


def substance_problem(details: Any, *, min_bytes: int = DEFAULT_MIN_DOCUMENT_BYTES) -> str | None:
    """Why an attestation's recorded document shows nothing (judged again at judgement, since a
    record can be written without :func:`document_details`): an empty file, fewer than
    ``min_bytes``, a placeholder or local URL host; None when it may count."""
    document = str(details.get("document") or "")
    if not document.strip():
        return "it names no document"
    if is_url(document):
        host = placeholder_host(document)
        return (
            f"its document {document} is on {host}, a placeholder or local host" if host else None
        )
    if details.get("document_sha256") == EMPTY_SHA256:
        return f"its document {document} is empty"
    size = details.get("document_bytes")
    if isinstance(size, int) and size < min_bytes:
        return f"its document {document} holds {size} bytes, below {min_bytes}"
    return None


@dataclass(frozen=True, kw_only=True)
class DocumentFinding:
    """One attestation whose document no longer matches (``changed``, ``vanished``,
    ``unreadable``), may not be read (``outside`` the document roots, a ``private_key``) or
    cannot be checked (``not_verifiable``: a URL; a note, not a fault)."""

    record_id: str
    controls: tuple[str, ...]
    document: str
    fault: str
    message: str

    @property
    def is_problem(self) -> bool:
        """True for a document that changed, vanished or cannot be read."""
        return self.fault != "not_verifiable"


def _expired(record: EvidenceRecord, now: datetime) -> bool:
    if not record.valid_until:
        return False
    try:
        return parse_timestamp(record.valid_until) < now
    except (ValueError, TypeError):
        return False


def current_attestations(
    records: Iterable[EvidenceRecord], *, now: datetime | None = None
) -> list[EvidenceRecord]:
    """The attestations that still count: for each (system, controls, document) the newest one,
    unless it has expired. An older attestation of the same document was superseded (a document
    edited and attested again is not a finding)."""
    moment = now or datetime.now(UTC)
    newest: dict[tuple[Any, ...], EvidenceRecord] = {}
    for record in records:
        if record.kind != "attestation" or not isinstance(record.details.get("document"), str):
            continue
        key = (record.system, tuple(sorted(record.controls)), record.details["document"])
        held = newest.get(key)
        if held is None or (record.collected_at, record.id) > (held.collected_at, held.id):
            newest[key] = record
    return [r for r in newest.values() if not _expired(r, moment)]


def check_document(record: EvidenceRecord, *, scope: DocumentScope) -> DocumentFinding | None:
    """Re-check one attestation's document: None when it still matches (or there is nothing to
    check: no document recorded). A path outside ``scope`` or a file holding a private key is
    never read: a finding naming why."""
    details = record.details
    document = str(details.get("document") or "")
    expected = details.get("document_sha256")
    fields = {"id": record.id, "controls": ", ".join(record.controls), "document": document}

    def finding(fault: str, message: str) -> DocumentFinding:
        return DocumentFinding(
            record_id=record.id,
            controls=tuple(record.controls),
            document=document,
            fault=fault,
            message=message,
        )

    if not document:
        return None
    if not isinstance(expected, str) or not expected:
        if is_url(document):
            return finding("not_verifiable", NOTE_NOT_VERIFIABLE.format(**fields))
        # an attestation made before documents had to exist: a path with no hash
        why = "was never hashed (it did not exist or was not a file when attested)"
        return finding("unreadable", PROBLEM_DOCUMENT_UNREADABLE.format(**fields, why=why))
    path = Path(document)
    if not scope.allows(path):
        why = WHY_DOCUMENT_OUTSIDE.format(roots=scope.shown())
        return finding("outside", PROBLEM_DOCUMENT_UNREADABLE.format(**fields, why=why))
    if not path.exists():
        return finding("vanished", PROBLEM_DOCUMENT_VANISHED.format(**fields, expected=expected))
    try:
        if not path.is_file():
            raise IsADirectoryError(os.strerror(21))
        if holds_private_key(path):
            return finding(
                "private_key",
                PROBLEM_DOCUMENT_UNREADABLE.format(**fields, why=WHY_DOCUMENT_PRIVATE_KEY),
            )
        actual = file_sha256(path)
    except OSError as exc:
        why = f"cannot be read ({exc.strerror or type(exc).__name__})"
        return finding("unreadable", PROBLEM_DOCUMENT_UNREADABLE.format(**fields, why=why))
    if actual != expected:
        return finding(
            "changed",
            PROBLEM_DOCUMENT_CHANGED.format(**fields, expected=expected, actual=actual),
        )
    return None


def document_findings(
    records: Iterable[EvidenceRecord], *, scope: DocumentScope, now: datetime | None = None
) -> list[DocumentFinding]:
    """Every current attestation whose document changed, vanished, cannot be read, or is a URL
    (the last as a note: :attr:`DocumentFinding.is_problem` is False), in record-id order."""
    found = [check_document(r, scope=scope) for r in current_attestations(records, now=now)]
    return sorted((f for f in found if f is not None), key=lambda f: f.record_id)
