"""The audit pack: one zip an auditor can take away and check without access to MLflow.

Members (in this order, paths sorted within a section, ``manifest.json`` last):
``config/aims.yaml`` (the configuration file byte for byte), ``records/<id>.json`` (each
record's canonical JSON), ``documents/<sha256>-<name>`` (each local document of a current
attestation, byte for byte, when it still has the hash it was attested with) and
``documents.json`` (every attested document: included, changed, vanished, or a URL not verifiable
by hash), ``reports/<system>.html`` and ``.md``, ``risks.json``, ``soa.csv``,
``soa.json``, ``summary/<system>.json`` and ``manifest.json``. The manifest lists every other
member with its SHA-256 and size; ``manifest_sha256`` is the SHA-256 of the manifest's canonical
JSON without that field and the signature; ``signature`` is an HMAC-SHA256 of ``manifest_sha256``
under ``$AIMS_SIGNING_KEY`` (null when no key is configured).

:func:`verify_pack` re-checks all of it and answers with one line per problem, each naming the
member (an empty list means the pack is intact).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import sys
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from aims_mlops._errors import AimsError, EvidenceError
from aims_mlops.evidence import EvidenceRecord, canonical_json
from aims_mlops.evidence._documents import check_document, current_attestations
from aims_mlops.evidence._record import sign_hash

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment

PACK_FORMAT = "aims-audit-pack/1"
MANIFEST_NAME = "manifest.json"
CONFIG_MEMBER = "config/aims.yaml"
RECORDS_DIR = "records/"
DOCUMENTS_DIR = "documents/"
DOCUMENTS_INDEX = "documents.json"
#: Timestamp of every zip entry, so the same content always gives the same member bytes.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

SOA_CSV_COLUMNS = (
    "control",
    "title",
    "group",
    "applicable",
    "justification",
    "implementation",
    "systems",
    "linked_risks",
    "evidence",
)

ERROR_CONFIG_MISSING = (
    "the configuration file {path} is not on disk; an audit pack holds the configuration it was "
    "judged against: judge with the path of aims.yaml"
)
ERROR_CONFIG_CHANGED = (
    "{path} changed since it was judged (digest {actual:.12} on disk, {judged:.12} judged); "
    "judge again, then build the pack"
)
ERROR_NOT_ASSESSED = "system {system!r} is not in this assessment (assessed: {assessed})"
ERROR_NO_SYSTEMS = "nothing to pack: the assessment holds no system"
ERROR_DOCUMENT_CHANGED_WHILE_PACKING = (
    "document {path} changed while the pack was built (sha256 {actual:.12}, attested "
    "{expected:.12}); build the pack again"
)

PROBLEM_NO_FILE = "not an audit pack: {path} does not exist"
PROBLEM_NOT_ZIP = "not an audit pack: {path} is not a zip file"
PROBLEM_NO_MANIFEST = "not an audit pack: {path} has no manifest.json"
PROBLEM_BAD_MANIFEST = "not an audit pack: manifest.json in {path} is unreadable ({error})"
PROBLEM_FORMAT = "not an audit pack: manifest.json format is {found!r}, expected {expected!r}"
PROBLEM_MANIFEST_HASH = (
    "altered: manifest.json (content sha256 {actual} expected manifest_sha256 {expected})"
)
PROBLEM_NO_SIGNATURE = "unsigned: manifest.json has no signature, but a key was given"
PROBLEM_BAD_SIGNATURE = "bad signature: manifest.json signature does not verify with the key"
PROBLEM_ALTERED = "altered: {member} (sha256 {actual} expected {expected})"
PROBLEM_UNREADABLE = "altered: {member} (unreadable: {error})"
PROBLEM_MISSING = "missing: {member}"
PROBLEM_EXTRA = "extra: {member}"
PROBLEM_DUPLICATE = "duplicate: {member} appears {count} times in the zip"
PROBLEM_RECORD_INVALID = "invalid record: {member} ({error})"
PROBLEM_RECORD_ID = "invalid record: {member} holds record {id}"
PROBLEM_RECORD_HASH = "altered: {member} (record {id} content hash does not match its content)"
PROBLEM_DOCUMENT_NAME = (
    "altered: {member} (its content has sha256 {actual}, its name says {expected})"
)
PROBLEM_RECORD_SIGNATURE = (
    "bad signature: {member} (record {id} signature does not verify with the key)"
)


class PackError(AimsError):
    """An audit pack cannot be built from the given judgement."""


class PackJudgement(Protocol):
    """What the pack needs of :class:`aims_mlops.judgement.Judgement`."""

    @property
    def assessment(self) -> Assessment: ...
    @property
    def config(self) -> AimsConfig: ...
    @property
    def config_path(self) -> Path: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def records(self) -> Sequence[EvidenceRecord]: ...


@dataclass(frozen=True, kw_only=True)
class PackMember:
    """One member of a pack as the manifest lists it."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, kw_only=True)
class PackManifest:
    """The manifest of a built pack, and where the pack was written."""

    path: Path
    format: str
    created_at: str
    evaluated_at: str
    config_digest: str
    systems: tuple[str, ...]
    members: Mapping[str, PackMember] = field(default_factory=lambda: MappingProxyType({}))
    manifest_sha256: str
    signature: str | None

    def to_dict(self) -> dict[str, Any]:
        """The manifest exactly as ``manifest.json`` holds it."""
        body = _manifest_body(
            created_at=self.created_at,
            evaluated_at=self.evaluated_at,
            config_digest=self.config_digest,
            systems=self.systems,
            members=self.members.values(),
        )
        return {**body, "manifest_sha256": self.manifest_sha256, "signature": self.signature}


# ------------------------------------------------------------------------------------ helpers
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_bytes(data: Any) -> bytes:
    """Readable, deterministic JSON (sorted keys, two-space indent, trailing newline)."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return (text + "\n").encode("utf-8")


def _utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _manifest_body(
    *,
    created_at: str,
    evaluated_at: str,
    config_digest: str,
    systems: Iterable[str],
    members: Iterable[PackMember],
) -> dict[str, Any]:
    from aims_mlops import __version__

    return {
        "format": PACK_FORMAT,
        "generator": f"aims-mlops {__version__}",
        "created_at": created_at,
        "evaluated_at": evaluated_at,
        "config_digest": config_digest,
        "systems": list(systems),
        "members": {m.path: {"sha256": m.sha256, "size": m.size} for m in members},
    }


def manifest_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``manifest`` without ``manifest_sha256``/``signature``."""
    body = {k: v for k, v in manifest.items() if k not in ("manifest_sha256", "signature")}
    return sha256_hex(canonical_json(body).encode("utf-8"))


def _soa_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SOA_CSV_COLUMNS)
    for row in rows:
        systems = row.get("systems") or {}
        writer.writerow(
            [
                row.get("control"),
                row.get("title"),
                row.get("group"),
                "yes" if row.get("applicable") else "no",
                row.get("justification"),
                row.get("implementation"),
                "; ".join(f"{s}: {status}" for s, status in systems.items()),
                "; ".join(row.get("linked_risks") or ()),
                "; ".join(row.get("evidence") or ()),
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _config_snapshot(judgement: PackJudgement) -> bytes:
    """The configuration file as on disk, checked to be the one the assessment judged."""
    from aims_mlops.config import config_digest, parse_config

    path = Path(judgement.config_path)
    if not path.is_file():
        raise PackError(ERROR_CONFIG_MISSING.format(path=path))
    data = path.read_bytes()
    actual = config_digest(parse_config(data.decode("utf-8"), source=str(path)))
    judged = judgement.assessment.config_digest
    if actual != judged:
        raise PackError(ERROR_CONFIG_CHANGED.format(path=path, actual=actual, judged=judged))
    return data


def _chosen_systems(assessment: Assessment, systems: Iterable[str] | None) -> tuple[str, ...]:
    assessed = tuple(assessment.systems)
    if systems is None:
        chosen = assessed
    else:
        chosen = tuple(dict.fromkeys(systems))
        for system in chosen:
            if system not in assessment.systems:
                raise PackError(
                    ERROR_NOT_ASSESSED.format(system=system, assessed=", ".join(assessed) or "none")
                )
    if not chosen:
        raise PackError(ERROR_NO_SYSTEMS)
    return chosen


def pack_records(records: Iterable[EvidenceRecord], systems: Iterable[str]) -> list[EvidenceRecord]:
    """The records of ``systems`` and the organization-level ones, each once, sorted by id."""
    wanted = set(systems)
    chosen = {r.id: r for r in records if r.system is None or r.system in wanted}
    return [chosen[k] for k in sorted(chosen)]


def _document_member(sha256: str, document: str) -> str:
    """``documents/<sha256>-<file name>``, the name cut to safe characters."""
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(document).name)
    return f"{DOCUMENTS_DIR}{sha256}-{name.lstrip('.')[:100] or 'document'}"


def _read_document(path: Path, expected: str) -> bytes:
    data = path.read_bytes()
    actual = sha256_hex(data)
    if actual != expected:
        raise PackError(
            ERROR_DOCUMENT_CHANGED_WHILE_PACKING.format(path=path, actual=actual, expected=expected)
        )
    return data


def attested_documents(
    records: Iterable[EvidenceRecord],
) -> tuple[dict[str, tuple[Path, str]], list[dict[str, Any]]]:
    """The document members of a pack (member -> (file, sha256)) and the ``documents.json``
    index: one entry per current attestation with a document, saying what became of it."""
    members: dict[str, tuple[Path, str]] = {}
    index: list[dict[str, Any]] = []
    for record in sorted(current_attestations(records), key=lambda r: r.id):
        document = str(record.details.get("document") or "")
        expected = record.details.get("document_sha256")
        entry: dict[str, Any] = {
            "attestation": record.id,
            "controls": list(record.controls),
            "document": document,
            "sha256": expected,
        }
        finding = check_document(record)
        if finding is None and isinstance(expected, str) and expected:
            member = _document_member(expected, document)
            members.setdefault(member, (Path(document), expected))
            entry.update(status="included", member=member)
        elif finding is not None:
            entry.update(status=finding.fault, note=finding.message)
        else:
            continue
        index.append(entry)
    return members, index


def _member_producers(judgement: PackJudgement, systems: Sequence[str]) -> list[tuple[str, Any]]:
    """(member path, zero-argument producer of its bytes), in member order."""
    from aims_mlops.engine import risk_rows, soa_rows, summary_dict
    from aims_mlops.reports import render_html, render_markdown

    assessment = judgement.assessment
    producers: list[tuple[str, Any]] = [(CONFIG_MEMBER, lambda: _config_snapshot(judgement))]
    for record in pack_records(judgement.records, systems):
        producers.append(
            (f"{RECORDS_DIR}{record.id}.json", lambda r=record: r.to_json().encode("utf-8"))
        )
    documents, index = attested_documents(pack_records(judgement.records, systems))
    for member in sorted(documents):
        path, expected = documents[member]
        producers.append((member, lambda p=path, e=expected: _read_document(p, e)))
    producers.append((DOCUMENTS_INDEX, lambda: json_bytes(index)))
    for system in sorted(systems):
        producers.append(
            (f"reports/{system}.html", lambda s=system: render_html(judgement, s).encode("utf-8"))
        )
        producers.append(
            (
                f"reports/{system}.md",
                lambda s=system: render_markdown(judgement, s).encode("utf-8"),
            )
        )
    producers.append(("risks.json", lambda: json_bytes(risk_rows(assessment))))
    producers.append(("soa.csv", lambda: _soa_csv(soa_rows(assessment))))
    producers.append(("soa.json", lambda: json_bytes(soa_rows(assessment))))
    for system in sorted(systems):
        producers.append(
            (
                f"summary/{system}.json",
                lambda s=system: json_bytes(summary_dict(assessment.systems[s])),
            )
        )
    return producers


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


# ------------------------------------------------------------------------------------- build
def build_pack(
    judgement: PackJudgement,
    output: Path,
    *,
    systems: Iterable[str] | None = None,
    progress: bool = False,
    signing_key: bytes | None = None,
) -> PackManifest:
    """Write the audit pack of ``systems`` (default: every assessed system) to ``output``.

    The zip is written to a temporary file next to ``output`` and moved into place, so a reader
    never sees half a pack. ``signing_key`` defaults to ``$AIMS_SIGNING_KEY``; without a key the
    manifest's ``signature`` is null. :class:`PackError` when a system was not assessed or the
    configuration file is gone or changed since it was judged.
    """
    from tqdm.auto import tqdm

    from aims_mlops.evidence import signing_key_from_env

    output = Path(output)
    chosen = _chosen_systems(judgement.assessment, systems)
    key = signing_key if signing_key is not None else signing_key_from_env()
    producers = _member_producers(judgement, chosen)
    members: list[PackMember] = []
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            zipfile.ZipFile(handle, "w") as archive,
            tqdm(
                total=len(producers) + 1,
                desc="audit pack",
                unit="file",
                file=sys.stderr,
                disable=not progress,
            ) as bar,
        ):
            for name, produce in producers:
                data = produce()
                archive.writestr(_zip_info(name), data)
                members.append(PackMember(path=name, sha256=sha256_hex(data), size=len(data)))
                bar.update(1)
            body = _manifest_body(
                created_at=_utcnow(),
                evaluated_at=judgement.assessment.evaluated_at,
                config_digest=judgement.assessment.config_digest,
                systems=chosen,
                members=members,
            )
            digest = manifest_hash(body)
            signature = sign_hash(digest, key) if key is not None else None
            manifest = {**body, "manifest_sha256": digest, "signature": signature}
            archive.writestr(_zip_info(MANIFEST_NAME), json_bytes(manifest))
            bar.update(1)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return PackManifest(
        path=output,
        format=PACK_FORMAT,
        created_at=body["created_at"],
        evaluated_at=body["evaluated_at"],
        config_digest=body["config_digest"],
        systems=chosen,
        members=MappingProxyType({m.path: m for m in members}),
        manifest_sha256=digest,
        signature=signature,
    )


# ------------------------------------------------------------------------------------ verify
def _read_member(archive: zipfile.ZipFile, name: str) -> tuple[bytes | None, str | None]:
    try:
        return archive.read(name), None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        return None, str(exc) or type(exc).__name__


def _check_record(member: str, data: bytes, key: bytes | None) -> str | None:
    try:
        record = EvidenceRecord.from_json(data.decode("utf-8"))
    except (EvidenceError, UnicodeDecodeError) as exc:
        return PROBLEM_RECORD_INVALID.format(member=member, error=exc)
    expected_id = member[len(RECORDS_DIR) : -len(".json")]
    if record.id != expected_id:
        return PROBLEM_RECORD_ID.format(member=member, id=record.id)
    if not record.is_intact():
        return PROBLEM_RECORD_HASH.format(member=member, id=record.id)
    if (
        key is not None
        and record.signature is not None
        and not hmac.compare_digest(record.signature, sign_hash(record.content_hash, key))
    ):
        return PROBLEM_RECORD_SIGNATURE.format(member=member, id=record.id)
    return None


def _load_manifest(archive: zipfile.ZipFile, path: Path) -> tuple[dict[str, Any] | None, str]:
    if MANIFEST_NAME not in archive.namelist():
        return None, PROBLEM_NO_MANIFEST.format(path=path)
    data, error = _read_member(archive, MANIFEST_NAME)
    if data is None:
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error=error)
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error=exc)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), dict):
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error="no members listed")
    if manifest.get("format") != PACK_FORMAT:
        return None, PROBLEM_FORMAT.format(found=manifest.get("format"), expected=PACK_FORMAT)
    return manifest, ""


def _check_manifest(manifest: Mapping[str, Any], key: bytes | None) -> list[str]:
    problems = []
    actual = manifest_hash(manifest)
    expected = manifest.get("manifest_sha256")
    if not isinstance(expected, str) or not hmac.compare_digest(actual, expected):
        problems.append(PROBLEM_MANIFEST_HASH.format(actual=actual, expected=expected))
    if key is not None:
        signature = manifest.get("signature")
        if not isinstance(signature, str) or not signature:
            problems.append(PROBLEM_NO_SIGNATURE)
        elif not isinstance(expected, str) or not hmac.compare_digest(
            signature, sign_hash(expected, key)
        ):
            problems.append(PROBLEM_BAD_SIGNATURE)
    return problems


def verify_pack(path: str | os.PathLike[str], *, key: bytes | str | None = None) -> list[str]:
    """Check an audit pack: empty when intact, else one line per problem naming the member.

    Checks the manifest's own hash (and, given ``key``, its signature), every listed member's
    SHA-256 and size, members missing from the zip or present but not listed, duplicate entries,
    and each record's own content hash (and signature, when the record is signed and a key given).
    """
    pack = Path(path)
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not pack.is_file():
        return [PROBLEM_NO_FILE.format(path=pack)]
    try:
        archive = zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, OSError) as exc:
        return [PROBLEM_NOT_ZIP.format(path=pack) + f" ({exc})"]
    with archive:
        manifest, problem = _load_manifest(archive, pack)
        if manifest is None:
            return [problem]
        problems = _check_manifest(manifest, key)
        names = archive.namelist()
        counts = Counter(names)
        problems.extend(
            PROBLEM_DUPLICATE.format(member=name, count=count)
            for name, count in sorted(counts.items())
            if count > 1
        )
        listed: Mapping[str, Any] = manifest["members"]
        for member in sorted(listed):
            entry = listed[member] if isinstance(listed[member], Mapping) else {}
            if member not in counts:
                problems.append(PROBLEM_MISSING.format(member=member))
                continue
            data, error = _read_member(archive, member)
            if data is None:
                problems.append(PROBLEM_UNREADABLE.format(member=member, error=error))
                continue
            actual = sha256_hex(data)
            expected = entry.get("sha256")
            if actual != expected or len(data) != entry.get("size"):
                problems.append(
                    PROBLEM_ALTERED.format(member=member, actual=actual, expected=expected)
                )
                continue
            if member.startswith(RECORDS_DIR) and member.endswith(".json"):
                record_problem = _check_record(member, data, key)
                if record_problem is not None:
                    problems.append(record_problem)
            elif member.startswith(DOCUMENTS_DIR):
                named = member[len(DOCUMENTS_DIR) :].split("-", 1)[0]
                if named != actual:
                    problems.append(
                        PROBLEM_DOCUMENT_NAME.format(member=member, actual=actual, expected=named)
                    )
        problems.extend(
            PROBLEM_EXTRA.format(member=name)
            for name in sorted(counts)
            if name != MANIFEST_NAME and name not in listed
        )
    return problems
