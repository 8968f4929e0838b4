"""The ``aims`` CLI end to end over a real local MLflow store (CliRunner, one real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from tests.conftest import DemoRun

#: an attested document with substance (at least capture.min_document_bytes)
POLICY_TEXT = (
    "Our AI policy."
    " Example Lending Ltd develops and uses AI only where its benefits outweigh its risks;"
    " every system has an owner, a risk assessment and a review."
)

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path) -> Path:
    runner = CliRunner()
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "aims.yaml").is_file()
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_refuses_to_overwrite(workspace: Path) -> None:
    code, _, err = invoke("init")
    assert code == 2
    assert "already exists" in err and "--force" in err
    assert "Traceback" not in err


def test_validate_reports_line_and_field(workspace: Path) -> None:
    code, out, _ = invoke("validate")
    assert code == 0 and "valid" in out
    bad = workspace / "bad.yaml"
    bad.write_text(
        "version: 1\norganization:\n  name: X\n  aims_scope: all\n  policy_owner: Y\n"
        "systems:\n  - id: s1\n    name: S\n    ownr: Z\n"
    )
    code, _, err = invoke("validate", "--config", str(bad))
    assert code == 2
    assert f"{bad}:9: systems[0].ownr: unknown key 'ownr'" in err
    assert "Traceback" not in err
    # several files (as pre-commit passes them): each one reported, exit 2 when any is invalid
    good = workspace / "aims.yaml"
    code, out, err = invoke("validate", str(good), str(bad))
    assert code == 2
    assert out.startswith(f"{good}: valid (")
    assert f"{bad}:9: systems[0].ownr: unknown key 'ownr'" in err
    assert str(good) not in err and "Traceback" not in err
    code, out, _ = invoke("validate", str(good), str(good))
    assert code == 0 and out.count("valid (") == 1  # the same file once


def test_catalog_json_lists_clauses_and_controls(workspace: Path) -> None:
    code, out, _ = invoke("catalog", "--format", "json")
    assert code == 0
    entries = json.loads(out)
    assert sum(e["kind"] == "clause" for e in entries) == 29
    assert sum(e["kind"] == "control" for e in entries) == 38
    assert {"id", "title", "kind"} <= set(entries[0])


def test_attest_then_summary_and_status(workspace: Path) -> None:
    policy = workspace / "policy.md"
    policy.write_text(POLICY_TEXT)
    code, out, err = invoke(
        "attest",
        "A.2.2",
        "--org",
        "--by",
        "Chief Executive",
        "--document",
        str(policy),
        "--valid-days",
        "365",
        "--key",
        ".aims/keys/chief-executive.key",
    )
    assert code == 0, err
    assert "recorded attestation" in out
    code, out, err = invoke("summary", "income-classifier", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert {"system", "model", "score", "controls", "risks", "gaps"} <= set(summary)
    by_id = {c["id"]: c for c in summary["controls"]}
    assert by_id["A.2.2"]["status"] == "satisfied"
    assert by_id["A.5.4"]["status"] == "missing"
    # the intended use is declared, but no operational evidence shows the system in use yet
    assert by_id["A.9.4"]["status"] == "missing"
    assert 0 < summary["score"] < 1
    code, out, _ = invoke("status", "--format", "json")
    rows = json.loads(out)
    assert [r["system"] for r in rows] == ["income-classifier"]
    assert {"score", "risks_above_appetite", "gaps"} <= set(rows[0])


def test_soa_formats(workspace: Path) -> None:
    code, out, _ = invoke("soa", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 38
    excluded = [r for r in rows if not r["applicable"]]
    assert excluded and all(r["justification"].strip() for r in excluded)
    code, out, _ = invoke("soa", "--format", "csv")
    assert out.splitlines()[0].startswith("control,title,applicable,justification")
    code, out, _ = invoke("soa", "--format", "md")
    assert out.startswith("| control |")


def test_risks_table(workspace: Path) -> None:
    code, out, _ = invoke("risks", "--format", "json")
    assert code == 0
    risks = json.loads(out)
    assert all(r["inherent"] >= r["residual"] for r in risks)


def test_user_errors_exit_2_without_traceback(workspace: Path) -> None:
    for args in (
        ("summary", "no-such-system"),
        ("attest", "A.99", "--org", "--by", "X", "--document", "d"),
        ("attest", "A.2.2", "--by", "X", "--document", "d"),
        ("status", "--config", str(workspace / "missing.yaml")),
    ):
        code, _, err = invoke(*args)
        assert code == 2, (args, err)
        assert err.startswith("error: "), (args, err)
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


def test_real_subprocess(workspace: Path) -> None:
    env = dict(os.environ)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "aims_mlops.cli",
            "summary",
            "income-classifier",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=workspace,
        env=env,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["system"] == "income-classifier"
    broken = subprocess.run(
        [sys.executable, "-m", "aims_mlops.cli", "summary", "nope"],
        capture_output=True,
        text=True,
        cwd=workspace,
        env=env,
        timeout=120,
    )
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr


def test_demo_ends_with_one_screen(
    isolated_mlflow: str, demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``aims demo`` as a newcomer runs it (a real process, the session's shared demo run): step
    lines on stderr and no MLflow INFO or registry noise, then one screen: score and counts,
    risks above the appetite, the first gaps with their owners, the HTML report it wrote, what
    to open next."""
    from aims_mlops.presentation import SUMMARY_GAPS, percent, risk_movement, status_label

    completed, demo_dir, tmp_path = demo_run.completed, demo_run.folder, demo_run.cwd
    steps = completed.stderr.splitlines()
    assert [line.split("] ", 1)[0].split(" [")[1] for line in steps] == [
        f"{n}/8" for n in range(1, 9)
    ], completed.stderr  # every stderr line is a step line: nothing else was printed
    assert "writing its HTML report" in steps[-1]

    out = completed.stdout
    lines = out.splitlines()
    assert len(lines) <= 30, out  # one screen
    assert lines[0] == "Applicant income classifier (income-classifier)"
    assert "controls:" not in out  # the full listing stays in `aims summary`

    from aims_mlops.judgement import judge

    monkeypatch.chdir(demo_dir)  # the demo's store: ./mlflow.db and ./mlruns
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{demo_dir / 'mlflow.db'}")
    sa = judge(config=demo_dir / "aims.yaml", systems=["income-classifier"]).assessment.systems[
        "income-classifier"
    ]
    counts = sa.counts()
    assert f"conformity: {percent(sa.score)} ({counts['satisfied']} of " in out
    # signed by default: every record signed, the demo's own configuration approved, and no
    # private key outside a folder whose .gitignore covers *.key
    judgement = judge(config=demo_dir / "aims.yaml", systems=["income-classifier"])
    assert judgement.records and all(r.signature for r in judgement.records)
    assert judgement.configuration.approved and not judgement.integrity_findings
    for private in demo_dir.rglob("*.key"):
        assert "*.key" in (private.parent / ".gitignore").read_text().splitlines(), private
        assert private.stat().st_mode & 0o777 == 0o600
    assert "status: " + " · ".join(f"{status_label(s)} {n}" for s, n in counts.items()) in lines
    for risk in sa.risks_above_appetite:
        assert f"  {risk.id} {risk.category}: {risk_movement(risk)}" in lines
    assert sa.gaps and f"gaps: {len(sa.gaps)} (first {SUMMARY_GAPS})" in lines
    shown = [line for line in lines if " — owner " in line]
    assert shown == [
        f"  {g.control} {status_label(g.status)} — owner {g.owner}" for g in sa.gaps[:SUMMARY_GAPS]
    ]
    report = demo_dir / "income-classifier-report.html"
    assert f"report:  {report.relative_to(tmp_path)}  (" in out
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert "aims summary income-classifier" in out
    assert "scripts/voila.sh" in out and "jupyter lab" in out

    # the full listing: every clause and control, the same header
    code, listing, err = invoke("summary", "income-classifier")
    assert code == 0, err
    assert listing.splitlines()[:5] == lines[:5]
    assert "controls:" in listing and all(c.id in listing for c in sa.controls)
