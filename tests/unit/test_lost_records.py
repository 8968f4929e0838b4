"""A record neither the store nor the spool can take is never reported as kept (finding 8)."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import AimsWarning, CaptureError
from aims_mlops.capture import (
    ERROR_RECORD_LOST,
    CaptureContext,
    emit,
    emit_many,
    records_must_be_kept,
)
from aims_mlops.catalog import load_catalog
from aims_mlops.evidence import EvidenceRecord, Subject, new_record
from aims_mlops.store import Spool, SpoolError
from aims_mlops.store._spool import DEAD_WRITER_PART_SECONDS, STALE_PART_SECONDS


class UnreachableStore:
    """The store is away and its spool is a real :class:`Spool` (here, one that cannot write)."""

    def __init__(self, spool_dir: Path) -> None:
        self._spool = Spool(directory=spool_dir)
        self.spool_dir = self._spool.directory

    def write(self, record: EvidenceRecord, **kwargs: Any) -> None:
        # what the writer does: the store is unreachable, so it spools (and that fails here)
        self._spool.put(record, reason="unreachable")

    def stamp(self, record: EvidenceRecord) -> EvidenceRecord:
        return record  # a store without an id: records name none

    def write_many(self, records: list[EvidenceRecord], **kwargs: Any) -> None:
        for record in records:
            self.write(record)

    def spool(
        self, record: EvidenceRecord, *, artifacts: Mapping[str, bytes] | None = None, **kw: Any
    ) -> Path:
        return self._spool.put(record, artifacts=artifacts, reason=kw.get("reason"))


def _record() -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system="credit",
        outcome="pass",
        collector="test",
        subject=Subject(run_id="run-1"),
        metrics={"demographic_parity_difference": 0.01},
        controls=load_catalog().controls_for_kind("fairness"),
    )


@pytest.fixture
def broken_spool(tmp_path: Path) -> Path:
    """A spool folder that cannot be created: its parent is a regular file (works as root too)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    return blocker / "spool"


def _context(store: UnreachableStore, **kwargs: Any) -> CaptureContext:
    return CaptureContext(store=store, system="credit", **kwargs)  # type: ignore[arg-type]


def test_a_lost_record_warns_with_its_json_and_never_says_it_was_spooled(
    broken_spool: Path,
) -> None:
    record = _record()
    with pytest.warns(AimsWarning) as caught:
        emit(_context(UnreachableStore(broken_spool)), record)
    [message] = [str(w.message) for w in caught]
    assert f"record {record.id} was NOT recorded" in message
    assert record.to_json() in message
    assert "kept in the spool" not in message


def test_strict_or_inside_records_must_be_kept_a_lost_record_raises(broken_spool: Path) -> None:
    store = UnreachableStore(broken_spool)
    with pytest.raises(CaptureError, match="could not write record"):
        emit(_context(store, strict=True), _record())
    record = _record()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: an error
        with records_must_be_kept(), pytest.raises(CaptureError) as raised:
            emit(_context(store), record)
    message = str(raised.value)
    assert message.startswith(
        ERROR_RECORD_LOST.split("{record_id}")[0].format(kind="fairness") + record.id
    )
    assert "\n" not in message
    with records_must_be_kept(), pytest.raises(CaptureError, match="was not recorded"):
        emit_many(_context(store), [_record(), _record()], run_id="run-1")


def test_outside_the_block_the_flag_is_off_again(broken_spool: Path) -> None:
    with records_must_be_kept():
        pass
    with pytest.warns(AimsWarning, match="NOT recorded"):
        emit(_context(UnreachableStore(broken_spool)), _record())


def test_a_spool_that_can_write_keeps_the_record(tmp_path: Path) -> None:
    store = UnreachableStore(tmp_path / "spool")
    with records_must_be_kept():
        record = emit(_context(store), _record())
    assert (tmp_path / "spool" / f"{record.id}.json").is_file()


# -- .part files left by a killed writer ---------------------------------------------------------
def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_stale_part_files_are_removed_on_the_next_use(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    now = time.time()
    dead = tmp_path / f".tmp-{_dead_pid()}-abc.part"
    dead_young = tmp_path / f".tmp-{_dead_pid()}-young.part"
    old = tmp_path / f".tmp-{os.getpid()}-old.part"
    legacy_old = tmp_path / ".tmp-legacy.part"
    live = tmp_path / f".tmp-{os.getpid()}-live.part"
    for path in (dead, dead_young, old, legacy_old, live):
        path.write_text("{")
    os.utime(dead, (now - DEAD_WRITER_PART_SECONDS - 5,) * 2)
    os.utime(old, (now - STALE_PART_SECONDS - 5,) * 2)
    os.utime(legacy_old, (now - STALE_PART_SECONDS - 5,) * 2)
    assert spool.pending() == 0  # part files are never records; looking cleans up
    remaining = sorted(p.name for p in tmp_path.iterdir())
    assert remaining == sorted([dead_young.name, live.name])
    spool.put(_record())
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".part") == remaining


def test_a_killed_writer_leaves_a_part_file_the_next_writer_removes(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    pid = os.fork()
    if pid == 0:  # the writer: starts a temp file the way put does, then dies mid-write
        import tempfile

        fd, _ = tempfile.mkstemp(prefix=f".tmp-{os.getpid()}-", suffix=".part", dir=tmp_path)
        os.write(fd, b'{"record": ')
        os._exit(9)
    os.waitpid(pid, 0)
    [part] = list(tmp_path.glob("*.part"))
    old = time.time() - DEAD_WRITER_PART_SECONDS - 1
    os.utime(part, (old, old))
    record = _record()
    spool.put(record)
    assert [p.name for p in tmp_path.iterdir()] == [f"{record.id}.json"]


def test_spool_error_names_the_folder(broken_spool: Path) -> None:
    with pytest.raises(SpoolError, match="could not write record"):
        Spool(directory=broken_spool).put(_record())
