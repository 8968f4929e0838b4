"""``aims attest`` checks its document, ``aims verify`` re-hashes it, the pack carries it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.config import example_config_text
from aims_mlops.evidence._documents import ERROR_DOCUMENT_MISSING, ERROR_DOCUMENT_NOT_FILE

#: an attested document with substance (at least capture.min_document_bytes)
POLICY_TEXT = (
    "Our AI policy."
    " Example Lending Ltd develops and uses AI only where its benefits outweigh its risks;"
    " every system has an owner, a risk assessment and a review."
)

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    # the example without keys (no people: names are typed, as before `aims init` made keys)
    (tmp_path / "aims.yaml").write_text(example_config_text())
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def attest(document: str, control: str = "A.2.2") -> tuple[int, str, str]:
    return invoke("attest", control, "--org", "--by", "Chief Executive", "--document", document)


def test_a_typo_or_a_directory_is_refused_in_one_line(workspace: Path) -> None:
    for document, error in (
        ("polcy.md", ERROR_DOCUMENT_MISSING.format(path="polcy.md")),
        (str(workspace), ERROR_DOCUMENT_NOT_FILE.format(path=workspace)),
    ):
        code, out, err = attest(document, "A.2.3")
        assert code == 2, out
        assert err == f"error: {error}\n"
    code, out, _ = invoke("verify")
    assert code == 0 and "checked 0 records" in out  # nothing was recorded


def test_verify_names_a_changed_then_a_vanished_document(workspace: Path) -> None:
    policy = workspace / "policy.md"
    policy.write_text(POLICY_TEXT)
    code, out, err = attest(str(policy))
    assert code == 0, err
    record_id = out.split()[2]
    code, out, _ = attest("https://intranet.acme-lending.com/objectives", "A.2.3")
    assert code == 0
    code, out, err = invoke("verify")
    assert code == 0, err
    assert "not verifiable by hash" in out and "https://intranet.acme-lending.com/objectives" in out
    # the two attestations and the configuration record their session wrote at its first capture
    assert "checked 3 records: 3 intact, 0 problems" in out

    code, _, err = invoke("audit-pack", "--all", "-o", "pack.zip")
    assert code == 0, err
    with zipfile.ZipFile(workspace / "pack.zip") as archive:
        documents = [n for n in archive.namelist() if n.startswith("documents/")]
        assert [archive.read(n) for n in documents] == [POLICY_TEXT.encode()]
    assert invoke("verify", "pack.zip")[0] == 0

    policy.write_text(POLICY_TEXT + " quietly edited")
    code, out, err = invoke("verify")
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"attestation {record_id} (A.2.2): document {policy}")
    assert "changed since it was attested" in line
    policy.unlink()
    code, _, err = invoke("verify")
    assert code == 1 and "is gone" in err and record_id in err


def test_an_edited_document_is_no_longer_evidence(workspace: Path) -> None:
    """An auditor who finds the attested policy edited after the attestation cannot rely on
    it: the entry it supported fails, naming the document, until someone attests again."""
    import json

    policy = workspace / "policy.md"
    policy.write_text(POLICY_TEXT + " Approved by the board.\n", encoding="utf-8")
    assert attest(str(policy))[0] == 0
    code, out, _ = invoke("summary", "income-classifier", "--format", "json")
    assert code == 0
    before = {c["id"]: c for c in json.loads(out)["controls"]}["A.2.2"]
    assert before["status"] == "satisfied"

    policy.write_text(POLICY_TEXT + " Quietly rewritten.\n", encoding="utf-8")
    code, out, _ = invoke("summary", "income-classifier", "--format", "json")
    after = {c["id"]: c for c in json.loads(out)["controls"]}["A.2.2"]
    assert after["status"] == "failing"
    assert "failed verification" in after["reasons"][0] and "policy.md" in after["reasons"][0]

    assert attest(str(policy))[0] == 0  # a named person attests to it again, as it now reads
    code, out, _ = invoke("summary", "income-classifier", "--format", "json")
    again = {c["id"]: c for c in json.loads(out)["controls"]}["A.2.2"]
    assert again["status"] == "satisfied"
