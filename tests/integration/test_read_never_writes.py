"""Reading never writes: in a fresh ``aims init`` folder (no evidence store yet) every read
command judges with no evidence, says so in one line and creates nothing (no ``mlflow.db``, no
``mlruns/``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.store import NOTE_NO_STORE

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"

READS = (
    ("status",),
    ("summary", SYSTEM),
    ("gate", SYSTEM),
    ("readiness",),
    ("soa",),
    ("risks",),
    ("lifecycle",),
    ("inventory",),
    ("verify",),
    ("report", SYSTEM, "-o", "report.html"),
)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("AIMS_CONFIG", "AIMS_SIGNING_KEY", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.mark.parametrize("command", READS, ids=lambda c: c[0])
def test_a_read_command_creates_no_store(fresh: Path, command: tuple[str, ...]) -> None:
    before = listing(fresh)
    result = CliRunner().invoke(cli, list(command))
    # a judgement with no evidence: the gate fails (exit 1), the others answer (exit 0)
    assert result.exit_code == (1 if command[0] == "gate" else 0), result.output
    uri = f"sqlite:///{fresh / 'mlflow.db'}"
    note = f"note: {NOTE_NO_STORE.format(uri=uri)}"
    assert result.stderr.splitlines().count(note) == 1, result.stderr
    wrote = ["report.html"] if command[0] == "report" else []
    assert listing(fresh) == sorted([*before, *wrote])
    assert not (fresh / "mlflow.db").exists() and not (fresh / "mlruns").exists()
    if command[0] == "report":
        assert "not recorded as system_card evidence" in result.stderr


def test_validate_and_config_status_create_no_store(fresh: Path) -> None:
    before = listing(fresh)
    for command in (["validate"], ["config", "status"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0, result.output
    assert listing(fresh) == before
