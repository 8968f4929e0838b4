"""The spool on its own (no MLflow): atomic files, claims, corrupt files, failure classification."""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from aims_mlops import StoreError
from aims_mlops.evidence import EvidenceRecord, new_record
from aims_mlops.store import STALE_CLAIM_SECONDS, Spool, SpoolError, classify_failure
from aims_mlops.store._spool import ERROR_SPOOL_UNSAFE_ID


def _record(n: int = 0, system: str | None = "credit") -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system=system,
        outcome="pass",
        collector="test",
        metrics={"demographic_parity_difference": 0.01 * n},
        details={"n": n},
        controls=["A.7.4"],
    )


def test_put_writes_one_json_file_named_by_the_record_id(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path / "spool")
    record = _record()
    path = spool.put(record, run_id="abc123", artifacts={"table.csv": b"a,b\n1,2\n"}, reason="x")
    assert path == tmp_path / "spool" / f"{record.id}.json"
    assert [p.name for p in (tmp_path / "spool").iterdir()] == [f"{record.id}.json"]
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["record"] == json.loads(record.to_json())
    assert data["run_id"] == "abc123"
    assert data["artifacts"] == {"table.csv": base64.b64encode(b"a,b\n1,2\n").decode("ascii")}
    assert spool.pending() == 1


def test_load_round_trips_record_run_and_artifacts(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record(3)
    path = spool.put(record, run_id=None, artifacts={"sub/x.bin": bytes(range(256))})
    entry = spool.load(path)
    assert entry.record == record
    assert entry.run_id is None
    assert dict(entry.artifacts) == {"sub/x.bin": bytes(range(256))}


def test_failed_write_leaves_no_partial_file_and_keeps_the_previous_one(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record, run_id="r1")
    before = path.read_bytes()
    with pytest.raises(TypeError):
        # not bytes: fails while building the file, after nothing was replaced
        spool.put(record, run_id="r2", artifacts={"a": object()})  # type: ignore[dict-item]
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_write_is_atomic_when_the_disk_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record, run_id="r1")
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(SpoolError, match="No space left on device"):
        spool.put(record, run_id="r2")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # temp file removed


def test_unsafe_record_id_is_refused(tmp_path: Path) -> None:
    record = new_record(
        kind="incident", system="s", outcome="info", collector="t", record_id="../escape"
    )
    with pytest.raises(SpoolError) as caught:
        Spool(directory=tmp_path).put(record)
    assert str(caught.value) == ERROR_SPOOL_UNSAFE_ID.format(id="../escape")
    assert isinstance(caught.value, StoreError)
    assert list(tmp_path.iterdir()) == []


def test_claim_is_exclusive_and_release_and_done(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record)
    claimed = spool.claim(path)
    assert claimed is not None
    assert claimed.name == f"{record.id}.json.claimed-{os.getpid()}"
    assert not path.exists()
    assert spool.claim(path) is None  # gone: another claim cannot take it
    assert spool.claim(claimed) is None  # a fresh claim is not stale
    assert spool.pending() == 1  # claimed records still count as pending
    assert spool.candidates() == []
    assert spool.release(claimed) == path
    assert path.exists()
    again = spool.claim(path)
    assert again is not None
    spool.done(again)
    assert spool.pending() == 0
    assert list(tmp_path.iterdir()) == []


def test_stale_claims_can_be_taken_over(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record)
    dead = path.with_name(f"{path.name}.claimed-999999")
    os.rename(path, dead)
    assert spool.candidates() == []
    old = time.time() - STALE_CLAIM_SECONDS - 5
    os.utime(dead, (old, old))
    assert spool.candidates() == [dead]
    claimed = spool.claim(dead)
    assert claimed == path.with_name(f"{path.name}.claimed-{os.getpid()}")
    assert time.time() - claimed.stat().st_mtime < 60  # the stale clock restarted
    assert spool.load(claimed).record == record


def test_corrupt_file_is_reported_and_left_in_place(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    bad = tmp_path / "0123abcd.json"
    bad.write_text("{not json", encoding="utf-8")
    claimed = spool.claim(bad)
    assert claimed is not None
    with pytest.raises(SpoolError) as caught:
        spool.load(claimed)
    assert str(claimed) in str(caught.value)
    spool.release(claimed)
    assert bad.read_text(encoding="utf-8") == "{not json"
    assert spool.pending() == 1


def test_altered_spooled_record_is_corrupt(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["record"]["outcome"] = "fail"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SpoolError, match="altered"):
        spool.load(path)
    assert path.exists()


def test_temp_files_are_not_pending(tmp_path: Path) -> None:
    (tmp_path / ".tmp-abc.part").write_text("{}", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    assert Spool(directory=tmp_path).pending() == 0
    assert Spool(directory=tmp_path / "missing").pending() == 0


def _claim_everything(directory: str, out: str) -> None:
    spool = Spool(directory=directory)
    mine = []
    for path in spool.candidates():
        claimed = spool.claim(path)
        if claimed is not None:
            mine.append(spool.load(claimed).record.id)
    Path(out).write_text(json.dumps(mine), encoding="utf-8")


def test_concurrent_claimers_take_each_file_exactly_once(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path / "spool")
    ids = {spool.put(_record(n)).stem for n in range(60)}
    ctx = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"out{i}.json" for i in range(4)]
    procs = [
        ctx.Process(target=_claim_everything, args=(str(spool.directory), str(out))) for out in outs
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    claimed = [rid for out in outs for rid in json.loads(out.read_text(encoding="utf-8"))]
    assert sorted(claimed) == sorted(ids)  # every one once, none twice


class _FakeRestError(Exception):
    """Stands in for an exception carrying an MLflow-style error code."""

    def __init__(self, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_code = error_code


def _wrapped(inner: BaseException, message: str) -> Exception:
    try:
        try:
            raise inner
        except BaseException:
            raise RuntimeError(message)  # noqa: B904 - implicit __context__, as MLflow does
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "unreachable"),
        (_wrapped(ConnectionResetError(104, "reset"), "API request failed"), "unreachable"),
        (TimeoutError("timed out"), "unreachable"),
        (
            RuntimeError(
                "API request to http://h/api failed with exception HTTPConnectionPool(host='h', "
                "port=1): Max retries exceeded with url: /api (Caused by NewConnectionError("
                "'Failed to establish a new connection: [Errno 111] Connection refused'))"
            ),
            "unreachable",
        ),
        (RuntimeError("(sqlite3.OperationalError) database is locked"), "busy"),
        (
            RuntimeError(
                "Max retries exceeded with url: /x (Caused by ResponseError('too many 503 error "
                "responses'))"
            ),
            "busy",
        ),
        (_FakeRestError("something transient", "TEMPORARILY_UNAVAILABLE"), "busy"),
        (_FakeRestError("Run 'x' not found", "RESOURCE_DOES_NOT_EXIST"), "fatal"),
        (ValueError("bad value"), "fatal"),
    ],
)
def test_failure_classification(exc: BaseException, expected: str) -> None:
    assert classify_failure(exc) == expected


def test_store_package_imports_no_mlflow() -> None:
    import subprocess

    code = (
        "import sys, aims_mlops.store; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mlflow', 'sklearn', 'pandas', 'great_expectations')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
