"""The audit pack: one zip an auditor can take away and check without access to MLflow.

Members (in this order, paths sorted within a section, ``manifest.json`` last):
``config/aims.yaml`` (the configuration file byte for byte), ``records/<id>.json`` (each
record's canonical JSON), ``documents/<sha256>-<name>`` (each local document of a current
attestation, byte for byte, when it still has the hash it was attested with) and
``documents.json`` (every attested document: included, changed, vanished, or a URL not verifiable
by hash), ``reports/<system>.html`` and ``.md``,
``ledger/checkpoint.json`` (the store's head checkpoint, when there is one), ``risks.json``,
``soa.csv``, ``soa.json``, ``summary/<system>.json`` and ``manifest.json``. The manifest lists
every other member with its SHA-256 and size; ``manifest_sha256`` is the SHA-256 of the
manifest's canonical JSON without that field and the signature; ``signature`` is the Ed25519
signature of
``manifest_sha256`` (``ed25519:<key id>:<base64>``) with the private key ``$AIMS_SIGNING_KEY``
names (null when no key is configured). An auditor checks it with the public key only.

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

from aims_mlops import __version__
from aims_mlops._errors import AimsError, ConfigError, EvidenceError
from aims_mlops._escape import spreadsheet_cell
from aims_mlops._json import loads_bounded
from aims_mlops.config import config_digest, parse_config
from aims_mlops.engine import risk_rows, soa_rows, summary_dict
from aims_mlops.evidence import (
    EvidenceRecord,
    PublicKey,
    SigningKeyError,
    TrustPolicy,
    canonical_json,
)
from aims_mlops.evidence._documents import DocumentScope, check_document, current_attestations
from aims_mlops.evidence._signing import parse_signature, pipeline_key
from aims_mlops.reports._html import render_html
from aims_mlops.reports._markdown import render_markdown

if TYPE_CHECKING:
    from aims_mlops.catalog import Catalog
    from aims_mlops.config import AimsConfig
    from aims_mlops.engine import Assessment
    from aims_mlops.evidence import SigningKey

PACK_FORMAT = "aims-audit-pack/1"
MANIFEST_NAME = "manifest.json"
#: The store's head checkpoint when the pack was built (``aims verify --head`` takes it).
LEDGER_HEAD_MEMBER = "ledger/checkpoint.json"
CONFIG_MEMBER = "config/aims.yaml"
#: Which configuration the pack was judged with (approved or draft), the unapproved changes and
#: the approval chain's root key (what an auditor pins with ``--trusted-key``).
CONFIGURATION_STATE_MEMBER = "config/configuration.json"
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
PROBLEM_PACK_KEYS_UNSIGNED = (
    "unsigned: the pack's config/aims.yaml lists trusted keys ({keys}) but manifest.json has no "
    "signature"
)
PROBLEM_PACK_KEYS_UNREADABLE = (
    "cannot check the signature: the pack's config/aims.yaml lists trusted keys ({keys}), none "
    "of which could be read next to the pack or in the working folder ({error}); verify with "
    "--public-key"
)
PROBLEM_BAD_SIGNATURE = "bad signature: manifest.json signature does not verify with the key"
PROBLEM_UNKNOWN_KEY = (
    "bad signature: manifest.json is signed by key {key_id}, not by one of the keys given"
)
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
PROBLEM_RECORD_SIGNATURE = "bad signature: {member} (record {id}: {why})"
PROBLEM_UNSAFE_NAME = (
    "refused: {member!r} is not a safe member name (absolute, a drive, a backslash or '..'); "
    "nothing in this pack was read"
)
PROBLEM_UNSAFE_LISTED = "refused: manifest.json lists {member!r}, not a safe member name"
PROBLEM_TOO_MANY = "refused: {path} holds {count} members, more than the {limit} a pack may hold"
PROBLEM_MEMBER_TOO_LARGE = (
    "refused: {member} inflates to more than {limit} bytes, the most one member may hold"
)
PROBLEM_RATIO = (
    "refused: {member} inflates {ratio}x its compressed size, more than the {limit}x allowed "
    "(a zip bomb?)"
)
PROBLEM_PACK_TOO_LARGE = (
    "refused: the members of {path} inflate to more than {limit} bytes in all; the rest was "
    "not read"
)

#: Limits of :func:`verify_pack` (a pack is hostile input): the inflated size of one member,
#: of all members together, the inflation ratio of a member past ``RATIO_FLOOR`` bytes, and
#: the number of members. A member is read in ``READ_CHUNK`` pieces and dropped past its limit.
MAX_MEMBER_BYTES = 64 * 2**20
MAX_PACK_BYTES = 1024 * 2**20
MAX_RATIO = 200
RATIO_FLOOR = 2**20
MAX_MEMBERS = 200_000
READ_CHUNK = 2**20


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


def _csv_cell(value: Any) -> Any:
    """A cell never read as a formula, its carriage returns made newlines (which are quoted)."""
    value = spreadsheet_cell(value)
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _soa_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SOA_CSV_COLUMNS)
    for row in rows:
        systems = row.get("systems") or {}
        cells = [
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
        writer.writerow([_csv_cell(cell) for cell in cells])
    return buffer.getvalue().encode("utf-8")


def _config_snapshot(judgement: PackJudgement) -> bytes:
    """The configuration the assessment judged with: the approved one from the store's ledger,
    else the file as on disk, checked to be the one the assessment judged."""
    state = getattr(judgement, "configuration", None)
    if state is not None and not state.draft and state.in_force is not None:
        return state.in_force.snapshot.text.encode("utf-8")
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
    records: Iterable[EvidenceRecord], *, scope: DocumentScope
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
        finding = check_document(record, scope=scope)
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
    assessment = judgement.assessment
    producers: list[tuple[str, Any]] = [(CONFIG_MEMBER, lambda: _config_snapshot(judgement))]
    state = getattr(judgement, "configuration", None)
    if state is not None:
        producers.append((CONFIGURATION_STATE_MEMBER, lambda: json_bytes(state.to_dict())))
    for record in pack_records(judgement.records, systems):
        producers.append(
            (f"{RECORDS_DIR}{record.id}.json", lambda r=record: r.to_json().encode("utf-8"))
        )
    scope = DocumentScope.of(judgement.config_path.parent, judgement.config.documents.roots)
    documents, index = attested_documents(pack_records(judgement.records, systems), scope=scope)
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
    ledger = getattr(judgement, "ledger", None)
    head = ledger.head if ledger is not None else None
    if head is not None:  # what an auditor keeps for `aims verify --head`
        producers.append((LEDGER_HEAD_MEMBER, lambda: head.to_json().encode("utf-8")))
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
    signing_key: SigningKey | None = None,
) -> PackManifest:
    """Write the audit pack of ``systems`` (default: every assessed system) to ``output``.

    The zip is written to a temporary file next to ``output`` and moved into place, so a reader
    never sees half a pack. ``signing_key`` defaults to the key ``$AIMS_SIGNING_KEY`` names;
    without one the manifest's ``signature`` is null. :class:`PackError` when a system was not
    assessed or the configuration file is gone or changed since it was judged.
    """
    from tqdm.auto import tqdm
    output = Path(output)
    chosen = _chosen_systems(judgement.assessment, systems)
    key = (
        signing_key
        if signing_key is not None
        else pipeline_key(Path(judgement.config_path).parent)
    )
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
            signature = key.sign(digest) if key is not None else None
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
class _Oversized(Exception):
    """A member (or the pack) inflates past a limit: carries the problem line."""

    def __init__(self, problem: str, *, fatal: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fatal = fatal


@dataclass(kw_only=True)
class _Budget:
    """What is left of :data:`MAX_PACK_BYTES` while one pack is read."""

    path: Path
    remaining: int = MAX_PACK_BYTES


def is_safe_member_name(name: str) -> bool:
    """A relative, forward-slash path without ``..``, drive or empty parts."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    if len(name) > 1 and name[1] == ":":
        return False
    return all(part not in ("", ".", "..") for part in name.rstrip("/").split("/"))


def _member_limit(info: zipfile.ZipInfo, budget: _Budget) -> int:
    """The most bytes ``info`` may inflate to; :class:`_Oversized` when its header says more."""
    name = info.filename
    if info.file_size > MAX_MEMBER_BYTES:
        raise _Oversized(PROBLEM_MEMBER_TOO_LARGE.format(member=name, limit=MAX_MEMBER_BYTES))
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
        ratio = info.file_size // max(1, info.compress_size)
        raise _Oversized(PROBLEM_RATIO.format(member=name, ratio=ratio, limit=MAX_RATIO))
    if info.file_size > budget.remaining:
        raise _Oversized(
            PROBLEM_PACK_TOO_LARGE.format(path=budget.path, limit=MAX_PACK_BYTES), fatal=True
        )
    return min(MAX_MEMBER_BYTES, budget.remaining)


def _read_member(
    archive: zipfile.ZipFile, name: str, budget: _Budget
) -> tuple[bytes | None, str | None]:
    """The member's bytes, read in chunks and never past its limit (the zip header's sizes are
    checked first, and the bytes actually inflated are counted, in case the header lies)."""
    info = archive.getinfo(name)
    limit = _member_limit(info, budget)
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(min(READ_CHUNK, limit + 1 - size)):
                size += len(chunk)
                if size > limit:
                    raise _Oversized(
                        PROBLEM_MEMBER_TOO_LARGE.format(member=name, limit=limit),
                        fatal=limit < MAX_MEMBER_BYTES,
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
        return None, str(exc) or type(exc).__name__
    budget.remaining -= size
    return b"".join(chunks), None


def _unsafe_names(archive: zipfile.ZipFile, path: Path) -> list[str]:
    """Problems with the zip's listing itself: too many members, or unsafe member names."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        return [PROBLEM_TOO_MANY.format(path=path, count=len(infos), limit=MAX_MEMBERS)]
    return [
        PROBLEM_UNSAFE_NAME.format(member=info.filename)
        for info in infos
        if not is_safe_member_name(info.filename)
    ]


def _check_record(member: str, data: bytes, trust: TrustPolicy) -> str | None:
    try:
        record = EvidenceRecord.from_json(data.decode("utf-8"))
    except (EvidenceError, UnicodeDecodeError) as exc:
        return PROBLEM_RECORD_INVALID.format(member=member, error=exc)
    expected_id = member[len(RECORDS_DIR) : -len(".json")]
    if record.id != expected_id:
        return PROBLEM_RECORD_ID.format(member=member, id=record.id)
    if not record.is_intact():
        return PROBLEM_RECORD_HASH.format(member=member, id=record.id)
    why = trust.signature_problem(record)
    if why is not None:
        return PROBLEM_RECORD_SIGNATURE.format(member=member, id=record.id, why=why)
    return None


def pack_trust(key: TrustPolicy | PublicKey | None) -> TrustPolicy:
    """The policy a pack is checked against: a public key alone requires its signatures."""
    if isinstance(key, PublicKey):
        return TrustPolicy(keys=MappingProxyType({key.key_id: key}), require_signatures=True)
    return key if key is not None else TrustPolicy()


def _load_manifest(
    archive: zipfile.ZipFile, path: Path, budget: _Budget
) -> tuple[dict[str, Any] | None, str]:
    if MANIFEST_NAME not in archive.namelist():
        return None, PROBLEM_NO_MANIFEST.format(path=path)
    try:
        data, error = _read_member(archive, MANIFEST_NAME, budget)
    except _Oversized as exc:
        return None, exc.problem
    if data is None:
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error=error)
    try:
        manifest = loads_bounded(data, what="the manifest", max_chars=MAX_MEMBER_BYTES)
    except ValueError as exc:  # not JSON, not UTF-8, or beyond the size and depth limits
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error=exc)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), dict):
        return None, PROBLEM_BAD_MANIFEST.format(path=path, error="no members listed")
    if manifest.get("format") != PACK_FORMAT:
        return None, PROBLEM_FORMAT.format(found=manifest.get("format"), expected=PACK_FORMAT)
    return manifest, ""


def _check_manifest(manifest: Mapping[str, Any], trust: TrustPolicy) -> list[str]:
    problems = []
    actual = manifest_hash(manifest)
    expected = manifest.get("manifest_sha256")
    if not isinstance(expected, str) or not hmac.compare_digest(actual, expected):
        problems.append(PROBLEM_MANIFEST_HASH.format(actual=actual, expected=expected))
    if trust.configured:
        signature = manifest.get("signature")
        parsed = parse_signature(signature)
        if not isinstance(signature, str) or not signature:
            problems.append(PROBLEM_NO_SIGNATURE)
        elif parsed is not None and parsed[0] not in trust.keys:
            problems.append(PROBLEM_UNKNOWN_KEY.format(key_id=parsed[0]))
        elif (
            parsed is None
            or not isinstance(expected, str)
            or not trust.keys[parsed[0]].verify(expected, signature)
        ):
            problems.append(PROBLEM_BAD_SIGNATURE)
    return problems


def _pack_config_trust(
    archive: zipfile.ZipFile, pack: Path, budget: _Budget, manifest: Mapping[str, Any]
) -> tuple[TrustPolicy, str]:
    """The trust a pack's own ``config/aims.yaml`` declares, when no key was given: a pack whose
    configuration lists trusted keys must carry a manifest signed by one of them (the key
    files are looked up next to the pack, then in the working folder). (policy, problem)."""

    if CONFIG_MEMBER not in archive.namelist() or CONFIG_MEMBER not in manifest["members"]:
        return TrustPolicy(), ""
    try:
        data, _ = _read_member(archive, CONFIG_MEMBER, budget)
        config = (
            parse_config(data.decode("utf-8"), source=CONFIG_MEMBER, check_key_files=False)
            if data
            else None
        )
    except (_Oversized, ConfigError, UnicodeDecodeError):
        return TrustPolicy(), ""  # the member's own check names what is wrong with it
    if config is None or not config.trust.public_keys:
        return TrustPolicy(), ""
    listed = ", ".join(config.trust.public_keys)
    if not manifest.get("signature"):
        return TrustPolicy(), PROBLEM_PACK_KEYS_UNSIGNED.format(keys=listed)
    error: Exception | None = None
    for base_dir in dict.fromkeys((pack.resolve().parent, Path.cwd().resolve())):
        try:
            policy = TrustPolicy.from_files(
                config.trust.public_keys,
                base_dir=base_dir,
                require_signatures=config.trust.require_signatures,
            )
        except SigningKeyError as exc:
            error = exc
            continue
        return policy, ""
    return TrustPolicy(), PROBLEM_PACK_KEYS_UNREADABLE.format(keys=listed, error=error)


def verify_pack(
    path: str | os.PathLike[str], *, key: TrustPolicy | PublicKey | None = None
) -> list[str]:
    """Check an audit pack: empty when intact, else one line per problem naming the member.

    The pack is hostile input: unsafe member names refuse it unread; members are read one at a
    time, each within :data:`MAX_MEMBER_BYTES`, :data:`MAX_RATIO` and, together,
    :data:`MAX_PACK_BYTES` (a member past a limit is named and not read further).
    Checks the manifest's own hash (and, given public keys, its signature by one of them), every
    listed member's SHA-256 and size, members missing from the zip or present but not listed,
    duplicate entries, and each record's own content hash (and, given keys, its signature as
    the policy asks: a public key alone requires every record signed by it).
    """
    pack = Path(path)
    trust = pack_trust(key)
    if not pack.is_file():
        return [PROBLEM_NO_FILE.format(path=pack)]
    try:
        archive = zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, OSError) as exc:
        return [PROBLEM_NOT_ZIP.format(path=pack) + f" ({exc})"]
    with archive:
        unsafe = _unsafe_names(archive, pack)
        if unsafe:
            return unsafe
        budget = _Budget(path=pack)
        manifest, problem = _load_manifest(archive, pack, budget)
        if manifest is None:
            return [problem]
        problems: list[str] = []
        if not trust.configured:
            trust, problem = _pack_config_trust(archive, pack, budget, manifest)
            if problem:
                problems.append(problem)
        problems.extend(_check_manifest(manifest, trust))
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
            if not is_safe_member_name(member):
                problems.append(PROBLEM_UNSAFE_LISTED.format(member=member))
                continue
            if member not in counts:
                problems.append(PROBLEM_MISSING.format(member=member))
                continue
            try:
                data, error = _read_member(archive, member, budget)
            except _Oversized as exc:
                problems.append(exc.problem)
                if exc.fatal:
                    break
                continue
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
                record_problem = _check_record(member, data, trust)
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
