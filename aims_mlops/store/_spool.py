"""The local spool: evidence that could not reach MLflow waits here, one atomic file per record.

A spooled record is ``<record id>.json`` holding ``{"record": ..., "run_id": ..., "artifacts":
{name: base64}}``. Uploaders claim a file by renaming it to ``<record id>.json.claimed-<pid>``
(an atomic step: of several concurrent uploaders exactly one wins), delete it once stored, and
rename it back when the upload failed. A claim older than :data:`STALE_CLAIM_SECONDS` belongs to
an uploader that died and may be taken over.

A write goes through a temp file ``.tmp-<pid>-<random>.part`` in the same folder; one left behind
by a writer that was killed (its pid is gone, or it is older than :data:`STALE_PART_SECONDS`) is
removed on the next use of the spool (a dead writer's after :data:`DEAD_WRITER_PART_SECONDS`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aims_mlops._errors import EvidenceError, StoreError
from aims_mlops._json import loads_bounded
from aims_mlops.evidence import EvidenceRecord, load_kinds
from aims_mlops.store import _contract as contract

#: A claim older than this (seconds since it was taken) may be taken over by another uploader.
STALE_CLAIM_SECONDS = 600.0

#: A temp file of an unfinished write older than this (seconds) is removed on the next use.
STALE_PART_SECONDS = 600.0
#: ... and one whose writer's pid is gone once it is older than this (a folder shared between
#: machines sees foreign pids: a write takes milliseconds, so this leaves it time to finish).
DEAD_WRITER_PART_SECONDS = 30.0

SPOOL_SUFFIX = ".json"
CLAIM_MARKER = ".claimed-"
_TEMP_PREFIX = ".tmp-"
_PART_SUFFIX = ".part"
_PART_RE = re.compile(r"^\.tmp-(?:(?P<pid>\d+)-)?.*\.part$")
_CLAIMED_RE = re.compile(r"^(?P<base>.+\.json)\.claimed-(?P<pid>\d+)$")
_SAFE_ID_RE = contract.SAFE_ID_RE

#: Largest spool file read (a record with its artifacts, base64): a bigger one is refused unread.
MAX_SPOOL_FILE_BYTES = 64 * 1024 * 1024

ERROR_SPOOL_CORRUPT = "spool file {path} is unreadable, left in place for inspection: {error}"
ERROR_SPOOL_REFUSED = "record {id}: spool file {path} refused, left in place for inspection: {why}"
WHY_SPOOL_UNKNOWN_KIND = "kind {kind!r} is not a registered kind of evidence"
WHY_SPOOL_TOO_LARGE = "the file is {size} bytes, more than the {limit} a spool file may hold"
ERROR_SPOOL_UNSAFE_ID = "record id {id!r} cannot name a spool file (letters, digits, '_', '-', '.')"
ERROR_SPOOL_WRITE = "could not write record {id} to the spool directory {directory}: {error}"


class SpoolError(StoreError):
    """A spool file is unreadable or altered, or the spool directory cannot be written."""


@dataclass(frozen=True)
class SpoolEntry:
    """A record waiting in the spool, with the run it belongs to and its extra artifacts."""

    record: EvidenceRecord
    run_id: str | None
    artifacts: Mapping[str, bytes]
    path: Path


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return True  # cannot tell: keep the file until it is old enough
    return True


def _original_name(path: Path) -> str:
    match = _CLAIMED_RE.match(path.name)
    return match.group("base") if match else path.name


class Spool:
    """A directory of spooled evidence records (created on first write)."""

    def __init__(self, *, directory: str | os.PathLike[str]) -> None:
        # absolute now: a later chdir (notebooks, tests) must not move where records wait
        self._directory = Path(directory).absolute()

    @property
    def directory(self) -> Path:
        return self._directory

    # -- writing -------------------------------------------------------------------------------
    def put(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
        reason: str | None = None,
    ) -> Path:
        """Write ``record`` atomically as ``<id>.json`` (a temp file in the same dir + replace)."""
        if not _SAFE_ID_RE.match(record.id):
            raise SpoolError(ERROR_SPOOL_UNSAFE_ID.format(id=record.id))
        payload = {
            "record": record.to_dict(),
            "run_id": run_id,
            "artifacts": {
                str(name): base64.b64encode(bytes(data)).decode("ascii")
                for name, data in (artifacts or {}).items()
            },
            "reason": reason,
            "spooled_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        target = self._directory / f"{record.id}{SPOOL_SUFFIX}"
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            self.clean_stale_parts()
            fd, temp_name = tempfile.mkstemp(
                prefix=f"{_TEMP_PREFIX}{os.getpid()}-", suffix=_PART_SUFFIX, dir=self._directory
            )
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp_name, target)
            except BaseException:
                Path(temp_name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise SpoolError(
                ERROR_SPOOL_WRITE.format(id=record.id, directory=self._directory, error=exc)
            ) from exc
        return target

    def clean_stale_parts(self, *, now: float | None = None) -> list[Path]:
        """Remove temp files of writes that can no longer finish: their writer's pid is gone, or
        they are older than :data:`STALE_PART_SECONDS`. Returns the files removed."""
        if not self._directory.is_dir():
            return []
        current = time.time() if now is None else now
        removed = []
        for path in self._directory.iterdir():
            match = _PART_RE.match(path.name)
            if match is None:
                continue
            pid = match.group("pid")
            try:
                age = current - path.stat().st_mtime
            except FileNotFoundError:
                continue
            dead = (
                pid is not None
                and age > DEAD_WRITER_PART_SECONDS
                and int(pid) != os.getpid()
                and not _pid_alive(int(pid))
            )
            if age > STALE_PART_SECONDS or dead:
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue
                except OSError:  # a read-only folder: the next writable use cleans it
                    continue
                removed.append(path)
        return removed

    # -- inspecting ----------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """Every spooled record file, claimed or not (temp files of unfinished writes excluded;
        stale ones are removed)."""
        if not self._directory.is_dir():
            return []
        self.clean_stale_parts()
        found = [
            path
            for path in self._directory.iterdir()
            if not path.name.startswith(_TEMP_PREFIX)
            and (path.name.endswith(SPOOL_SUFFIX) or _CLAIMED_RE.match(path.name))
        ]
        return sorted(found)

    def pending(self) -> int:
        """How many records wait in the spool (including those an uploader has claimed)."""
        return len(self.files())

    def candidates(self, *, now: float | None = None) -> list[Path]:
        """Files an uploader may claim now: unclaimed ones and claims gone stale."""
        current = time.time() if now is None else now
        result = []
        for path in self.files():
            if not _CLAIMED_RE.match(path.name):
                result.append(path)
                continue
            try:
                age = current - path.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > STALE_CLAIM_SECONDS:
                result.append(path)
        return result

    # -- claiming ------------------------------------------------------------------------------
    def claim(self, path: Path) -> Path | None:
        """Claim ``path`` for this process by an atomic rename; None when another got it first.

        A claimed file can be claimed again only once it is stale.
        """
        if _CLAIMED_RE.match(path.name):
            try:
                if time.time() - path.stat().st_mtime <= STALE_CLAIM_SECONDS:
                    return None
            except FileNotFoundError:
                return None
        claimed = path.with_name(f"{_original_name(path)}{CLAIM_MARKER}{os.getpid()}")
        if claimed == path:  # a stale claim under our own (reused) pid: restart its clock
            os.utime(claimed)
            return claimed
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        # the rename keeps the spool time: restart the stale clock at the claim
        os.utime(claimed)
        return claimed

    def release(self, claimed: Path) -> Path:
        """Give a claim back (the upload failed): the file is spooled again under its own name."""
        original = claimed.with_name(_original_name(claimed))
        if original != claimed:
            os.replace(claimed, original)
        return original

    def done(self, claimed: Path) -> None:
        """The record is stored: remove its file."""
        claimed.unlink(missing_ok=True)

    # -- reading -------------------------------------------------------------------------------
    def load(self, path: Path) -> SpoolEntry:
        """Read a spool file; :class:`SpoolError` when it is unreadable, the record altered, or
        it could lead a write astray (the spool is untrusted input: anyone who can drop a file
        here must not choose where ``aims sync`` writes). Refused: a kind that is not
        registered, a record id or artifact name that is not a safe name, a file over
        :data:`MAX_SPOOL_FILE_BYTES` or nested too deep."""
        try:
            size = path.stat().st_size
            if size > MAX_SPOOL_FILE_BYTES:
                raise ValueError(WHY_SPOOL_TOO_LARGE.format(size=size, limit=MAX_SPOOL_FILE_BYTES))
            data = loads_bounded(
                path.read_text(encoding="utf-8"),
                what="the spool file",
                max_chars=MAX_SPOOL_FILE_BYTES,
            )
            if not isinstance(data, dict):
                raise ValueError("the file does not hold a JSON object")
            record = EvidenceRecord.from_dict(data["record"])
            record.verify()
            if _original_name(path) != f"{record.id}{SPOOL_SUFFIX}":
                raise ValueError(f"the file name does not match record id {record.id}")
            run_id = data.get("run_id")
            if run_id is not None and not isinstance(run_id, str):
                raise ValueError("run_id is not a string")
            raw: Any = data.get("artifacts") or {}
            artifacts = {
                str(name): base64.b64decode(value, validate=True) for name, value in raw.items()
            }
        except (
            OSError,
            UnicodeDecodeError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            binascii.Error,
            EvidenceError,
        ) as exc:
            raise SpoolError(ERROR_SPOOL_CORRUPT.format(path=path, error=exc)) from exc
        why = _refusal(record, artifacts)
        if why is not None:
            raise SpoolError(ERROR_SPOOL_REFUSED.format(id=record.id, path=path, why=why))
        return SpoolEntry(
            record=record, run_id=run_id, artifacts=MappingProxyType(artifacts), path=path
        )


def _refusal(record: EvidenceRecord, artifacts: Mapping[str, bytes]) -> str | None:
    """Why an intact spooled record must not be uploaded; None when it may."""
    if record.kind not in load_kinds():
        return WHY_SPOOL_UNKNOWN_KIND.format(kind=record.kind)
    try:
        contract.artifact_path(record)
        for name in artifacts:
            contract.safe_artifact_name(name)
    except StoreError as exc:
        return str(exc)
    return None
