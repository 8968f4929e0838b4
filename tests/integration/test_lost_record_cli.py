"""The CLI never says "recorded" about a record that neither the store nor the spool took."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops import AimsWarning
from aims_mlops.cli import cli
from aims_mlops.config import example_config_text
from aims_mlops.store._connection import Unavailable
from aims_mlops.store._writer import Writer

#: an attested document with substance (at least capture.min_document_bytes)
POLICY_TEXT = (
    "Our AI policy."
    " Example Lending Ltd develops and uses AI only where its benefits outweigh its risks;"
    " every system has an owner, a risk assessment and a review."
)

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An aims.yaml whose store refuses every write as unreachable and whose spool folder
    (``.aims/spool``) cannot be made: ``.aims`` is a regular file (a full or read-only disk).
    The store exists (a read finds it), so the commands try to write and lose the record."""
    import mlflow

    mlflow.MlflowClient(isolated_mlflow).search_experiments()  # creates the sqlite store
    # the example without keys (no people: names are typed, as before `aims init` made keys)
    (tmp_path / "aims.yaml").write_text(example_config_text())
    (tmp_path / ".aims").write_text("not a folder")

    def unreachable(self: Writer, record: object, **kwargs: object) -> str:
        raise Unavailable("the tracking store is unreachable (test)")

    monkeypatch.setattr(Writer, "store_now", unreachable)
    (tmp_path / "policy.md").write_text(POLICY_TEXT)
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _one_error_line(err: str, kind: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {kind} record ") and "was not recorded" in lines[0]
    assert "could not write record" in lines[0] and "Traceback" not in err


def test_attest_exits_non_zero_when_the_record_is_lost(workspace: Path) -> None:
    # the session records aims.yaml before the act: that record is lost too, and said so
    with pytest.warns(AimsWarning, match="could not be recorded"):
        code, out, err = invoke(
            "attest", "A.2.2", "--org", "--by", "Chief Executive", "--document", "policy.md"
        )
    assert code != 0
    assert "recorded" not in out
    _one_error_line(err, "attestation")


def test_record_incident_exits_non_zero_when_the_record_is_lost(workspace: Path) -> None:
    code, out, err = invoke(
        "record", "incident", "income-classifier", "--kind", "other", "--severity", "low",
        "--summary", "a test", "--aware-on", "2026-01-05",
    )  # fmt: skip
    assert code != 0, out
    assert "recorded" not in out
    _one_error_line(err, "incident")


def test_report_record_exits_non_zero_when_the_card_is_lost(workspace: Path) -> None:
    code, out, err = invoke("report", "income-classifier", "-o", "report.html")
    assert code != 0, out + err
    assert out.strip() == "wrote report.html"  # the file is written; the record is not
    _one_error_line(err, "system_card")
