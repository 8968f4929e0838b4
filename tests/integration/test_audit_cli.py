"""The auditor-facing commands end to end over a real local MLflow store (click's CliRunner)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from trestle.oscal.assessment_results import AssessmentResults

from aims_mlops.cli import cli
from aims_mlops.cli._audit import ERROR_SYSTEM_OR_ALL
from aims_mlops.config import example_config_text

#: an attested document with substance (at least capture.min_document_bytes)
POLICY_TEXT = (
    "Our AI policy."
    " Example Lending Ltd develops and uses AI only where its benefits outweigh its risks;"
    " every system has an owner, a risk assessment and a review."
)

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    # the example as written before `aims init` generated keys (no people: names are typed)
    (tmp_path / "aims.yaml").write_text(example_config_text())
    policy = tmp_path / "policy.md"
    policy.write_text(POLICY_TEXT)
    code, _, err = invoke(
        "attest", "A.2.2", "--org", "--by", "Chief Executive", "--document", str(policy),
        "--valid-days", "365",
    )  # fmt: skip
    assert code == 0, err
    return tmp_path


def test_pack_verify_tamper_and_oscal(workspace: Path) -> None:
    code, _, err = invoke("audit-pack", "-o", "pack.zip")
    assert code == 2 and ERROR_SYSTEM_OR_ALL in err and "Traceback" not in err

    code, out, err = invoke("audit-pack", "--all", "-o", "pack.zip", "--progress")
    assert code == 0, err
    assert "audit pack" in err  # the progress bar, on stderr
    assert "1 evidence records" in out and "unsigned" in out
    pack = workspace / "pack.zip"
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
        members = {n: archive.read(n) for n in names}
    record_names = [n for n in names if n.startswith("records/")]
    assert len(record_names) == 1
    assert json.loads(members[record_names[0]])["kind"] == "attestation"
    assert f"reports/{SYSTEM}.html" in names and manifest["systems"] == [SYSTEM]
    assert members["config/aims.yaml"] == (workspace / "aims.yaml").read_bytes()

    code, out, err = invoke("verify", str(pack))
    assert code == 0, err
    assert "intact" in out

    altered = members["soa.csv"].replace(b"not implemented", b"implemented", 1)
    assert altered != members["soa.csv"]
    with zipfile.ZipFile(pack, "w") as archive:
        for name in names:
            archive.writestr(name, altered if name == "soa.csv" else members[name])
    code, _, err = invoke("verify", str(pack))
    assert code == 1
    assert "altered: soa.csv (sha256 " in err and "Traceback" not in err

    code, out, err = invoke("export", "--format", "oscal", "-o", "ar.json")
    assert code == 0, err
    document = json.loads((workspace / "ar.json").read_text())["assessment-results"]
    model = AssessmentResults.model_validate(document)
    assert [r.title.split(":")[0] for r in model.results] == [SYSTEM]
    observations = model.results[0].observations or []
    assert any(o.methods == ["EXAMINE"] for o in observations)


def test_plan_review_and_register(workspace: Path) -> None:
    code, out, err = invoke("audit-plan", "--format", "md", "--seed", "3")
    assert code == 0, err
    assert out.startswith("# Internal audit plan") and "### A.2.2 " in out

    code, out, err = invoke("review-pack", "--since", "2020-01-01", "--format", "json")
    assert code == 0, err
    pack = json.loads(out)
    assert pack["since"] == "2020-01-01T00:00:00Z"
    assert pack["changes"]["by_kind"] == {"attestation": 1}
    code, _, err = invoke("review-pack", "--since", "someday")
    assert code == 2 and "is not a date" in err

    code, out, err = invoke("nonconformities", "--format", "json")
    assert code == 0, err
    register = json.loads(out)
    assert register and all(r["state"] == "open" for r in register)
    assert not (workspace / ".aims" / "nonconformities.json").exists()  # records, not a file
    code, again, err = invoke("nonconformities", "--format", "json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(again)] == [r["id"] for r in register]  # no duplicates


def test_reperformance_audit_review_and_corrective_action(workspace: Path) -> None:
    from aims_mlops.capture._process import ERROR_NOT_INDEPENDENT

    code, out, err = invoke("summary", SYSTEM, "--format", "json")
    assert code == 0, err
    now = json.loads(out)
    code, out, err = invoke("summary", SYSTEM, "--format", "json", "--as-of", "2020-01-01")
    assert code == 0, err
    then = json.loads(out)
    assert then["records_considered"] == 0 and now["records_considered"] == 1
    assert then["evidence_digest"] != now["evidence_digest"] and then["approximations"]
    assert then["score"] < now["score"]
    code, out, err = invoke("summary", SYSTEM, "--format", "json")
    assert json.loads(out)["evidence_digest"] == now["evidence_digest"]
    code, _, err = invoke("readiness", "--as-of", "soon")
    assert code == 2 and "is not a date or timestamp" in err

    report = workspace / "audit.md"
    report.write_text("internal audit report: " + POLICY_TEXT)
    owner = "Head of Credit Modelling"
    code, _, err = invoke(
        "record", "internal-audit", "--auditor", owner, "--scope", SYSTEM, "--report", str(report)
    )
    assert code == 2 and "Traceback" not in err
    full = "Head of Credit Modelling (credit-models@example-lending.test)"
    expected = ERROR_NOT_INDEPENDENT.format(
        auditor=owner, item=SYSTEM, what=f"owns {SYSTEM} ({full})"
    )
    assert err.strip() == f"error: {expected}"
    findings = workspace / "findings.yaml"
    findings.write_text("- statement: the fairness review is not minuted\n  entry: A.5.4\n")
    code, out, err = invoke(
        "record", "internal-audit", "--auditor", "Head of Internal Audit",
        "--scope", f"4,5,6,7,8,9,10,{SYSTEM}", "--report", str(report), "--findings", str(findings),
    )  # fmt: skip
    assert code == 0, err
    assert "1 nonconformities opened" in out
    minutes = workspace / "minutes.md"
    minutes.write_text("we reviewed the AIMS: " + POLICY_TEXT)
    decisions = workspace / "decisions.yaml"
    decisions.write_text("- decision: fund the fairness work\n")
    code, _, err = invoke(
        "record", "management-review", "--chair", "Chief Executive", "--minutes", str(minutes),
        "--decisions", str(decisions), "--attendees", "Chief Risk Officer",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = invoke("readiness", "--format", "json")
    assert code == 0, err
    blocked = {b["id"] for b in json.loads(out)["blockers"]}
    assert not blocked & {"9.2.1", "9.2.2", "9.3.1", "9.3.2", "9.3.3"}

    code, out, err = invoke("nonconformities", "--format", "json")
    [nc] = [r for r in json.loads(out) if r["source"] == "internal_audit"]
    code, out, err = invoke(
        "nc", "update", nc["short_id"], "--root-cause", "no minutes template",
        "--correction", "minuted", "--action", "template", "--owner", "Chief Risk Officer",
        "--due", "2099-01-01",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = invoke("nc", "verify", nc["short_id"], "--by", "Ines", "--note", "works")
    assert code == 2 and "'Ines' is not listed in aims.yaml people:" in err  # a typed name
    code, out, err = invoke(
        "nc", "verify", nc["short_id"], "--by", "ML Platform Lead", "--note", "works"
    )
    assert code == 0, err
    code, out, err = invoke("nonconformities", "--format", "json")
    [row] = [r for r in json.loads(out) if r["id"] == nc["id"]]
    assert row["state"] == "verified" and row["due"] == "2099-01-01"  # A.5.4 is not satisfied
    code, _, err = invoke("nc", "verify", "zzzz", "--by", "ML Platform Lead", "--note", "x")
    assert code == 2 and "no nonconformity 'zzzz'" in err
