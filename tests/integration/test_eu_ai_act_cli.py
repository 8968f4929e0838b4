"""EU AI Act end to end: a real training run with capture into a local MLflow store, then the
real CLI (CliRunner): Annex IV dossier, CycloneDX BOM, obligations, serious incidents."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from tests.conftest import TrainedStore, copy_store

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"


@pytest.fixture(scope="module")
def trained(trained_store: TrainedStore) -> Iterator[tuple[Path, str]]:
    """A copy of the session's demo training run (registered, aliased) shared by the tests of
    this module, which record incidents into it."""
    copy = copy_store(trained_store.folder)
    yield copy, f"sqlite:///{copy / 'mlflow.db'}"
    shutil.rmtree(copy.parent, ignore_errors=True)


@pytest.fixture
def workspace(trained: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Path:
    root, uri = trained
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def summary() -> dict:
    code, out, err = invoke("summary", SYSTEM, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def a84(data: dict) -> dict:
    from aims_mlops.catalog import load_catalog

    (entry,) = load_catalog().controls_for_kind("incident")
    return next(c for c in data["controls"] if c["id"] == entry)


def test_annex_iv_json_cites_the_evidence_the_summary_cites(workspace: Path) -> None:
    code, out, err = invoke("annex-iv", SYSTEM, "--format", "json", "-o", "annex.json")
    assert code == 0, err
    assert out.strip() == "wrote annex.json"
    dossier = json.loads((workspace / "annex.json").read_text(encoding="utf-8"))
    assert dossier["system"] == SYSTEM and dossier["model"]["version"] == "1"
    assert len(dossier["sections"]) == 9
    cited = {e for c in summary()["controls"] for e in c["evidence"]}
    records = set()
    for section in dossier["sections"]:
        assert section["status"] in ("complete", "partial", "missing")
        records |= {e for e in section["evidence"] if not e.startswith("config:")}
    assert records and records <= cited
    tests = {s["id"]: s for s in dossier["sections"]}["development-process"]["tables"][
        "test logs and reports"
    ]["rows"]
    assert {"performance", "fairness", "data_quality"} <= {t["kind"] for t in tests}
    assert all(len(t["content_hash"]) == 64 and t["signer"] for t in tests)


def test_annex_iv_html_has_no_external_reference(workspace: Path) -> None:
    code, _, err = invoke("annex-iv", SYSTEM, "--format", "html", "-o", "annex.html")
    assert code == 0, err
    html = (workspace / "annex.html").read_text(encoding="utf-8")
    assert html.count("<section ") == 9
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert "<script" not in html


def test_cyclonedx_export_validates_and_names_model_and_datasets(workspace: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    code, _, err = invoke("export", "--format", "cyclonedx", "-o", "bom.json")
    assert code == 0, err
    text = (workspace / "bom.json").read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    models = [c for c in bom["components"] if c["type"] == "machine-learning-model"]
    assert [(m["name"], m["version"]) for m in models] == [(SYSTEM, "1")]
    data = {c["name"]: c for c in bom["components"] if c["type"] == "data"}
    assert set(data) == {"adult-train", "adult-test"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", d["hashes"][0]["content"]) for d in data.values())
    assert any(c["name"] == "scikit-learn" for c in bom["components"])


def test_catalog_and_status_by_framework(workspace: Path) -> None:
    code, out, err = invoke("catalog", "--framework", "eu-ai-act", "--format", "json")
    assert code == 0, err
    articles = {row["id"]: row for row in json.loads(out)}
    assert {"Art. 9", "Art. 73", "Art. 50", "Art. 53"} <= set(articles)
    assert articles["Art. 9"]["maps_to"] and articles["Art. 9"]["title"]
    code, out, err = invoke("catalog", "--framework", "nist-ai-rmf", "--format", "json")
    assert code == 0 and json.loads(out)[0]["id"] == "GOVERN 1.1"
    code, out, err = invoke("status", "--framework", "eu-ai-act", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert {r["id"] for r in rows} == {f"Art. {n}" for n in (9, 10, 11, 12, 13, 14, 15, 17, 72, 73)}
    assert all(r["system"] == SYSTEM for r in rows)
    code, out, err = invoke("catalog", "--framework", "iso-27001")
    assert code == 2 and err.count("\n") == 1 and "unknown framework" in err


def test_an_incident_past_its_deadline_fails_until_reported(workspace: Path) -> None:
    aware = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    code, out, err = invoke(
        "record",
        "incident",
        SYSTEM,
        "--kind",
        "death",
        "--severity",
        "critical",
        "--summary",
        "An applicant came to serious harm",
        "--aware-on",
        aware,
    )
    assert code == 0, err
    incident_id = re.search(r"recorded incident ([0-9a-f]{32})", out).group(1)  # type: ignore[union-attr]
    deadline = (dt.date.fromisoformat(aware) + dt.timedelta(days=10)).isoformat()
    assert f"report by {deadline}" in out
    failing = a84(summary())
    assert failing["status"] == "failing" and incident_id in failing["evidence"]
    code, out, err = invoke("annex-iv", SYSTEM, "--format", "json")
    assert code == 0, err
    post = json.loads(out)["sections"][8]
    assert [i["id"] for i in post["tables"]["serious incidents"]["rows"]] == [incident_id]
    code, out, err = invoke("review-pack", "--format", "json")
    assert code == 0, err
    assert [i["state"] for i in json.loads(out)["incidents"]] == ["overdue"]
    code, out, err = invoke("record", "incident-report", incident_id[:10], "--on", deadline)
    assert code == 0, err
    assert a84(summary())["status"] != "failing"
    code, out, err = invoke("record", "incident-report", incident_id, "--on", deadline)
    assert code == 2 and "already reported" in err and "Traceback" not in err
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    code, _, err = invoke(
        "record",
        "incident",
        SYSTEM,
        "--kind",
        "other",
        "--severity",
        "low",
        "--summary",
        "x",
        "--aware-on",
        future,
    )
    assert code == 2 and err.count("\n") == 1
