"""Issue 21: spool files are untrusted input. A fuzz of hostile spool files (deep, oversized,
traversing, unregistered kinds, garbage): each is refused with a SpoolError naming it, never a
traceback, and left in place."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from aims_mlops.evidence import new_record
from aims_mlops.store import _spool as spool_module
from aims_mlops.store._spool import Spool, SpoolError


def _record(kind: str = "attestation", **details: Any) -> Any:
    return new_record(kind=kind, system="s", outcome="pass", collector="fuzz", details=details)


def _payload(record: Any, artifacts: dict[str, bytes] | None = None) -> dict[str, Any]:
    return {
        "record": record.to_dict(),
        "run_id": None,
        "artifacts": {n: base64.b64encode(d).decode() for n, d in (artifacts or {}).items()},
    }


def _hostile(folder: Path) -> dict[str, tuple[Path, str | None]]:
    """name -> (spool file, the record id its refusal must name, when it has one)."""
    made: dict[str, tuple[Path, str | None]] = {}

    def put(name: str, text: str | bytes, record_id: str | None = None) -> None:
        file_id = record_id or f"fuzz-{name}"
        path = folder / f"{file_id}.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        made[name] = (path, record_id)

    deep = _record(note="__DEEP__")
    text = json.dumps(_payload(deep))
    put("deep-5000", text.replace('"__DEEP__"', "[" * 5000 + "]" * 5000), None)
    put("deep-200000", "[" * 200_000 + "]" * 200_000)
    put("deep-brackets-only", "{" * 100_000)
    for name, kind in (
        ("kind-traversal", "../../../../tmp/owned"),
        ("kind-absolute", "/etc/cron.d/x"),
        ("kind-unregistered", "made_up_kind"),
        ("kind-with-slash", "fairness/../../x"),
    ):
        record = _record(kind)
        put(name, json.dumps(_payload(record)), record.id)
    for name, artifact in (
        ("artifact-traversal", "../../../../tmp/owned.txt"),
        ("artifact-absolute", "/tmp/owned.txt"),
        ("artifact-backslash", "..\\..\\owned.txt"),
        ("artifact-empty-name", ""),
    ):
        record = _record()
        put(name, json.dumps(_payload(record, {artifact: b"x"})), record.id)
    put("garbage", os.urandom(4096))
    put("not-an-object", "[1, 2, 3]")
    put("truncated", '{"record": {"id": "x"')
    put("bad-base64", json.dumps({**_payload(_record()), "artifacts": {"a.txt": "!!!"}}))
    return made


def test_fuzz_hostile_spool_files_are_refused_by_name_and_left_in_place(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    made = _hostile(tmp_path)
    assert len(made) >= 15
    for name, (path, record_id) in made.items():
        before = path.read_bytes()
        with pytest.raises(SpoolError) as caught:
            spool.load(path)
        message = str(caught.value)
        assert str(path) in message, name
        if record_id is not None:
            assert message.startswith(f"record {record_id}: spool file"), (name, message)
        assert path.read_bytes() == before, name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p, _ in made.values())


def test_an_oversized_spool_file_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool_module, "MAX_SPOOL_FILE_BYTES", 10_000)
    record = _record()
    path = tmp_path / f"{record.id}.json"
    path.write_text(json.dumps(_payload(record, {"big.bin": b"x" * 20_000})))
    with pytest.raises(SpoolError, match="more than the 10000 a spool file may hold"):
        Spool(directory=tmp_path).load(path)
    assert path.is_file()


def test_a_genuine_spool_file_still_loads(tmp_path: Path) -> None:
    spool = Spool(directory=tmp_path)
    record = _record()
    path = spool.put(record, artifacts={"fairness/x/group_table.csv": b"a,b\n"})
    entry = spool.load(path)
    assert entry.record == record and dict(entry.artifacts) == {
        "fairness/x/group_table.csv": b"a,b\n"
    }
