"""Issue 21, finding 1: the spool is untrusted input. A spool file whose record kind or artifact
name holds ``../`` (or an absolute path, or an unregistered kind) is refused by ``aims sync``,
named by its record id, left in place, and nothing is written outside the store."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.evidence import EvidenceRecord, new_record
from aims_mlops.store import EvidenceStore

pytestmark = pytest.mark.slow


def _plant(spool: Path, record: EvidenceRecord, artifacts: dict[str, bytes] | None = None) -> Path:
    """What an attacker with write access to the spool folder drops there (an intact record)."""
    spool.mkdir(parents=True, exist_ok=True)
    payload = {
        "record": record.to_dict(),
        "run_id": None,
        "artifacts": {n: base64.b64encode(d).decode() for n, d in (artifacts or {}).items()},
    }
    path = spool / f"{record.id}.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def _record(kind: str) -> EvidenceRecord:
    return new_record(kind=kind, system="s", outcome="pass", collector="attacker")


def _files_outside_store(root: Path) -> set[Path]:
    store_parts = {"mlartifacts", "mlruns", ".aims", "mlflow.db"}
    return {
        p
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in store_parts
    }


def _attacks(outside: Path) -> list[tuple[EvidenceRecord, dict[str, bytes]]]:
    up = "../" * 12
    target = str(outside).lstrip("/")
    return [
        (_record(f"{up}{target}/kind"), {}),  # kind walks out of aims/evidence/<kind>/
        (_record("attestation"), {f"{up}{target}/evil.txt": b"owned"}),  # artifact name walks out
        (_record("attestation"), {f"/{target}/abs.txt": b"owned"}),  # absolute artifact name
        (_record("attestation"), {"a\\..\\..\\win.txt": b"owned"}),  # backslash separators
        (_record("made_up_kind"), {}),  # safe-looking but not a registered kind
    ]


def test_sync_refuses_traversing_spool_files_and_writes_nothing_outside(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    spool = tmp_path / ".aims" / "spool"
    attacks = _attacks(outside)
    planted = [_plant(spool, record, artifacts) for record, artifacts in attacks]
    genuine = _record("attestation")
    EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=spool).spool(genuine)
    before = _files_outside_store(tmp_path)

    result = CliRunner().invoke(cli, ["sync"])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "uploaded 1," in result.output and f"failed {len(attacks)}" in result.output
    for (record, _), path in zip(attacks, planted, strict=True):
        assert f"record {record.id}: spool file" in result.output
        assert path.is_file()  # left in place for inspection
    assert _files_outside_store(tmp_path) == before
    assert list(outside.iterdir()) == []
    assert not list(Path("/").glob("kind")) and not Path("/evil.txt").exists()
    stored = EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=spool).records(system="s")
    assert [r.id for r in stored] == [genuine.id]


def test_direct_write_refuses_a_kind_that_names_a_path(
    isolated_mlflow: str, tmp_path: Path
) -> None:
    from aims_mlops._errors import StoreError

    store = EvidenceStore(tracking_uri=isolated_mlflow, spool_dir=tmp_path / "spool")
    with pytest.raises(StoreError, match="cannot name a folder"):
        store.write(_record("../../escape"))
    assert not (tmp_path / "spool").exists()
