"""The notebooks in ``notebooks/`` run green in a real kernel, and are committed without outputs.

Each notebook runs with nbclient in a real IPython kernel of this virtual environment, in its own
working folder (``AIMS_NOTEBOOK_WORKDIR``), and its printed results are checked against values
computed here independently (fairlearn on the registered model, the catalog and ``aims.yaml``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DemoRun

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 180
#: The brief is < 60 s on 2 cores; the assertion leaves room for a busy machine.
NOTEBOOK_BUDGET_S = 150
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FALLBACK_KERNEL = "aims-venv"
#: Environment that would leak the caller's store or system into a notebook.
LEAKY_ENV = ("AIMS_CONFIG", "AIMS_SYSTEM", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME")


def _read(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _output_text(cell: Any) -> str:
    """A cell's outputs as text. Consecutive chunks of one stream are joined as they were
    written: the kernel flushes stdout on a timer, so on a loaded machine one ``print`` can
    arrive in two stream outputs (``"fairness:"`` then ``" fail"``), as Jupyter shows them."""
    parts: list[str] = []
    previous_stream: str | None = None
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        stream = output.get("name") if kind == "stream" else None
        if stream is not None:
            text = output.get("text", "")
            if stream == previous_stream:
                parts[-1] += text
            else:
                parts.append(text)
        elif kind in {"execute_result", "display_data"}:
            data = output.get("data", {})
            parts.append(data.get("text/plain", ""))
            parts.append(data.get("text/html", ""))
        elif kind == "error":
            parts.append("\n".join(output.get("traceback", [])))
        previous_stream = stream
    return "\n".join(parts)


def _all_text(nb: Any) -> str:
    return "\n".join(_output_text(cell) for cell in nb.cells if cell.cell_type == "code")


def _stderr(nb: Any) -> str:
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


def _printed_value(text: str, prefix: str) -> Any:
    """The Python literal printed after ``prefix`` on its own line."""
    match = re.search(rf"^{re.escape(prefix)}\s*(.+)$", text, flags=re.MULTILINE)
    assert match, f"no line starting with {prefix!r} in:\n{text[-3000:]}"
    return ast.literal_eval(match.group(1))


# ------------------------------------------------------------------------------------- cleared
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_cleared(path: Path) -> None:
    nb = _read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name} cell {index} has outputs"
        assert cell.get("execution_count") is None, f"{path.name} cell {index} has a count"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_has_no_math(path: Path) -> None:
    """A ``$`` in markdown makes Voilà fetch MathJax from a CDN: the dashboard must stay offline."""
    nb = _read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert "$" not in cell.source, f"{path.name} cell {index}"


def test_the_three_notebooks_exist() -> None:
    """Every notebook in the folder is executed by a test below: a new one needs its own test."""
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_pipeline.ipynb",
        "03_compliance_review.ipynb",
        "04_genai.ipynb",
        "05_certification.ipynb",
        "06_audit_cycle.ipynb",
    ]


# ------------------------------------------------------------------------------------ executed
def _execute(nb: Any, *, kernel_name: str, cwd: Path) -> Any:
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


def _kernel_python(kernel_name: str, cwd: Path) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    probe = new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)")])
    _execute(probe, kernel_name=kernel_name, cwd=cwd)
    nbformat.validate(probe)
    return _output_text(probe.cells[0]).strip()


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``python3`` when it runs this venv's interpreter; else a kernelspec installed for it."""
    cwd = tmp_path_factory.mktemp("kernel-probe")
    expected = Path(sys.executable).resolve()
    if Path(_kernel_python("python3", cwd)).resolve() == expected:
        return "python3"
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", FALLBACK_KERNEL],
        check=True,
        capture_output=True,
    )
    assert Path(_kernel_python(FALLBACK_KERNEL, cwd)).resolve() == expected
    return FALLBACK_KERNEL


@pytest.fixture
def notebook_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working folder for one notebook; the kernel inherits this environment."""
    workdir = tmp_path / "work"
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIMS_NOTEBOOK_WORKDIR", str(workdir))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    before = sorted(p.name for p in NOTEBOOK_DIR.iterdir())
    yield workdir
    after = sorted(p.name for p in NOTEBOOK_DIR.iterdir())
    assert after == before, "a notebook wrote into the repo"


def _run(
    name: str, kernel_name: str, *, budget_s: float = NOTEBOOK_BUDGET_S
) -> tuple[Any, str, float]:
    nb = _read(NOTEBOOK_DIR / name)
    started = time.monotonic()
    _execute(nb, kernel_name=kernel_name, cwd=NOTEBOOK_DIR)
    elapsed = time.monotonic() - started
    assert elapsed < budget_s, f"{name} took {elapsed:.0f} s"
    return nb, _all_text(nb), elapsed


def _widget_outputs(nb: Any) -> list[dict[str, Any]]:
    return [
        output["data"][WIDGET_VIEW]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]


@pytest.mark.slow
def test_kernel_runs_this_venv(kernel_name: str, tmp_path: Path) -> None:
    assert Path(_kernel_python(kernel_name, tmp_path)).resolve() == Path(sys.executable).resolve()


@pytest.mark.slow
def test_quickstart(kernel_name: str, notebook_env: Path) -> None:
    import mlflow
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference

    from aims_mlops.datasets import load_adult
    from aims_mlops.demo import FEATURES_CATEGORICAL, FEATURES_NUMERIC

    nb, text, _ = _run("01_quickstart.ipynb", kernel_name)
    workdir = notebook_env
    assert f"working folder: {workdir.resolve()}" in text
    assert (workdir / "aims.yaml").is_file() and (workdir / "mlflow.db").is_file()

    # the fairness record's metrics equal fairlearn's, on the model the notebook registered
    printed = _printed_value(text, "fairness metrics:")
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    try:
        model = mlflow.sklearn.load_model("models:/income-classifier@champion")
    finally:
        mlflow.set_tracking_uri(None)
    test = load_adult("test")
    predictions = model.predict(test[[*FEATURES_NUMERIC, *FEATURES_CATEGORICAL]])
    sensitive = test[["sex", "race"]]
    dpd = demographic_parity_difference(test["label"], predictions, sensitive_features=sensitive)
    eod = equalized_odds_difference(test["label"], predictions, sensitive_features=sensitive)
    assert printed["demographic_parity_difference"] == pytest.approx(dpd, abs=1e-12)
    assert printed["equalized_odds_difference"] == pytest.approx(eod, abs=1e-12)
    # the declared limits in the example aims.yaml are max 0.1 for both
    expected_outcome = "pass" if dpd <= 0.1 and eod <= 0.1 else "fail"
    said = [line for line in text.splitlines() if "fairness" in line or "aims_mlops:" in line]
    assert f"fairness: {expected_outcome}" in text, said

    # quiet: no MLflow INFO line and no warning in the outputs; init said once what it bound
    stderr = _stderr(nb)
    assert " INFO mlflow" not in stderr, stderr
    assert "Warning" not in stderr, stderr
    assert stderr.count("aims_mlops: system income-classifier · config ") == 1, stderr

    # the dashboard is a live widget, and %aims status names the system
    views = _widget_outputs(nb)
    assert views, "aims.dashboard(...) displayed no widget"
    # the saved notebook holds the widgets' state: an export shows the dashboard, not a blank
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert all(view["model_id"] in state for view in views)
    status_cell = next(c for c in nb.cells if c.cell_type == "code" and "%aims status" in c.source)
    assert "income-classifier" in _output_text(status_cell)


@pytest.mark.slow
def test_pipeline(kernel_name: str, notebook_env: Path) -> None:
    _, text, _ = _run("02_pipeline.ipynb", kernel_name)
    assert "capturing evidence for: income-classifier" in text
    assert re.search(r"^system: income-classifier\s+model version: 1\b", text, re.MULTILINE)
    statuses = dict(re.findall(r"^  (A\.\d+(?:\.\d+)*)\s+(\w+)$", text, flags=re.MULTILINE))
    assert set(statuses) == {"A.5.4", "A.7.4", "A.6.2.4"}
    above = re.search(r"^risks above appetite: (.+)$", text, flags=re.MULTILINE)
    assert above
    gate_should_pass = set(statuses.values()) == {"satisfied"} and above.group(1) == "none"
    assert ("GATE: PASS" in text) == gate_should_pass
    assert ("GATE: FAIL" in text) != gate_should_pass
    monitoring = _printed_value(text, "monitoring metrics:")
    assert isinstance(monitoring, dict) and monitoring
    assert re.search(r"^monitoring: (pass|fail|info)$", text, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def demo_store(demo_run: DemoRun) -> Path:
    """The demo's evidence folder (``aims demo``, built once per session: tests/conftest.py)."""
    return demo_run.folder


@pytest.fixture
def review_env(demo_store: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the demo store, named by ``AIMS_NOTEBOOK_WORKDIR`` as scripts/voila.sh does."""
    from aims_mlops.demo import scratch_copy

    copy = scratch_copy(demo_store, prefix="aims-review-test-")
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIMS_NOTEBOOK_WORKDIR", str(copy))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    yield copy
    shutil.rmtree(copy.parent, ignore_errors=True)


def folder_state(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (spool and hidden files included) and its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stored_records(folder: Path) -> list[str]:
    """The content hashes of every evidence record in the folder's store, sorted."""
    from aims_mlops.store import EvidenceStore

    store = EvidenceStore(
        tracking_uri=f"sqlite:///{folder / 'mlflow.db'}", spool_dir=folder / ".aims" / "spool"
    )
    return sorted(r.content_hash for r in store.records())


@pytest.mark.slow
def test_compliance_review_served_twice_reads_only(kernel_name: str, review_env: Path) -> None:
    """The review shows what the store holds; and what scripts/voila.sh serves only reads: two
    page loads (two executions, as Voila runs the notebook per load) change no file of the
    evidence folder and no record of its store."""
    import yaml

    files, records = folder_state(review_env), stored_records(review_env)
    assert records and "mlflow.db" in files
    nb, text, _ = _run("03_compliance_review.ipynb", kernel_name)
    assert folder_state(review_env) == files
    assert stored_records(review_env) == records
    assert f"evidence folder: {review_env.resolve()}" in text
    catalog = yaml.safe_load(
        (REPO_ROOT / "aims_mlops" / "catalog" / "iso42001.yaml").read_text(encoding="utf-8")
    )
    annex_a = [entry["id"] for entry in catalog["entries"] if entry["id"].startswith("A.")]
    config = yaml.safe_load((review_env / "aims.yaml").read_text(encoding="utf-8"))
    soa_cell = next(
        c for c in nb.cells if c.cell_type == "code" and c.source.startswith('table(\n    soa[["')
    )
    soa_html = _output_text(soa_cell)
    for control in annex_a:
        assert re.search(rf">{re.escape(control)}\s*</td>", soa_html), control
    excluded = [d["control"] for d in config["soa"] if d["applicable"] is False]
    assert excluded
    for control in excluded:
        row = re.search(rf">{re.escape(control)}\s*</td>(.*?)</tr>", soa_html, flags=re.DOTALL)
        # excluded (words, not False), or (A.10.3 while the lineage shows the third-party
        # census data) an exclusion the evidence refuses: judged like any applicable control
        assert row and (
            re.search(r">no\s*</td>", row.group(1))
            or re.search(r": (missing|failing|stale|satisfied)", row.group(1))
        ), control
    # the risk register lists every declared risk with its owner
    for risk in config["risks"]:
        assert re.search(rf">{risk['id']}\s*</td>", text) and risk["owner"] in text, risk["id"]
    # gaps carry owners, and the portfolio is a widget
    assert re.search(r"^\d+ gaps$", text, flags=re.MULTILINE)
    assert config["organization"]["policy_owner"] in text
    # texts are escaped, not read as HTML: the placeholders of the attest commands survive
    assert "--by &quot;&lt;name&gt;&quot;" in text
    # commands show as code, not between literal backticks; no pandas repr, one percent format
    assert "<code>aims attest " in text and "`aims attest" not in text
    assert "dtype" not in text and ">True<" not in text
    assert re.search(r"^overall readiness: \d+\.\d %$", text, flags=re.MULTILINE)
    assert _widget_outputs(nb), "aims.portfolio() displayed no widget"
    # the auditor's sample is drawn and the verdict re-performed in the past; nothing recorded
    assert re.search(r"seed 20261201, \d+ records in the population", text)
    assert "approximated: " in text
    assert "overall readiness:" in text
    assert "may not audit" not in text
    assert not re.search(r"^(internal audit|management review) [0-9a-f]{8}", text, re.MULTILINE)

    _run("03_compliance_review.ipynb", kernel_name)  # the second page load
    assert folder_state(review_env) == files
    assert stored_records(review_env) == records


@pytest.mark.slow
def test_audit_cycle_works_on_a_copy(
    kernel_name: str,
    demo_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    # the demo's own folder: it holds the people's private keys the acts are signed with (a
    # scratch copy holds public keys only); the notebook copies it and only reads it
    for name in LEAKY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIMS_NOTEBOOK_WORKDIR", str(demo_store))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    review_env = demo_store
    files, records = folder_state(review_env), stored_records(review_env)
    _, text, _ = _run("06_audit_cycle.ipynb", kernel_name)
    copy = Path(re.search(r"^working on the copy: (\S+)", text, re.MULTILINE).group(1))
    # the notebook's scratch copy (a folder of its own under the temporary directory) goes
    # when the test ends, whatever it finds
    request.addfinalizer(functools.partial(shutil.rmtree, copy.parent, ignore_errors=True))
    assert copy.parent.name.startswith("aims-audit-cycle-"), copy
    assert f"evidence copied from: {review_env.resolve()}" in text
    # the audit cycle ran end to end on the copy: the owner's self-audit was refused, an
    # independent audit and a management review were recorded and lifted the 9.2 / 9.3
    # blockers, the finding's nonconformity was planned and verified, the verdict re-performed
    assert "refused: " in text and "may not audit" in text
    assert re.search(r"no longer blocking certification: .*9\.2\.1.*9\.3\.3", text)
    assert "approximated: " in text
    assert len(stored_records(copy)) > len(records)
    # ... and the store it copied is as it was
    assert folder_state(review_env) == files
    assert stored_records(review_env) == records


@pytest.mark.slow
def test_genai(kernel_name: str, notebook_env: Path) -> None:
    nb, text, _ = _run("04_genai.ipynb", kernel_name)
    assert "genai evaluation: fail" in text and "genai evaluation: pass" in text
    assert re.search(r"^A\.6\.2\.4 before: failing$", text, flags=re.MULTILINE), text[-3000:]
    assert re.search(r"^A\.6\.2\.4 after: satisfied$", text, flags=re.MULTILINE), text[-3000:]
    before, after = re.findall(r"^rates: (.+)$", text, flags=re.MULTILINE)
    assert ast.literal_eval(before)["injection_success_rate"] > 0
    assert ast.literal_eval(after) | {"groundedness": 1} == {
        "injection_success_rate": 0,
        "pii_leak_rate": 0,
        "refusal_rate": 0,
        "groundedness": 1,
    }
    assert "Red-team breakdown by category" in text
    assert "trace monitoring: pass" in text and "A.6.2.8: satisfied" in text
    assert _widget_outputs(nb), "aims.dashboard(...) displayed no widget"
    # no e-mail address of the questions reached the store
    for path in notebook_env.rglob("*"):
        if path.is_file() and path.name != "aims.yaml":
            assert b"jane.doe@example.com" not in path.read_bytes(), path


#: The whole journey trains two models and judges the store after every phase.
CERTIFICATION_BUDGET_S = 420


@pytest.mark.slow
def test_certification(kernel_name: str, notebook_env: Path) -> None:
    """init to ready: the lifecycle printed after each phase, every count re-checked here from
    the notebook's own store. The fairness objectives are judged per attribute by top
    management's approved decision (the test split's smallest intersections hold 3 and 5
    positives); the first model fails them, the mitigated one meets them, and the record of the
    production version keeps the intersectional values it is not judged on."""
    from aims_mlops.judgement import judge
    from aims_mlops.reports import readiness_report

    _, text, _ = _run("05_certification.ipynb", kernel_name, budget_s=CERTIFICATION_BUDGET_S)
    assert _printed_value(text, "DOCUMENTS") == 27
    estimate = _printed_value(text, "ESTIMATE")
    assert estimate["implementation"] > 0 and set(estimate) == {
        "leadership", "scope", "risk", "treatment", "implementation", "evaluation", "readiness",
    }  # fmt: skip
    # the lifecycle moves forward phase by phase: leadership done after its phase
    after = text.split("after leadership:", 1)[1]
    assert re.search(r"Leadership commitment and roles\s+6/6\s+done", after)
    # A.5.4 is the fairness assessment done; its failing result fails A.6.2.4 (main's rules)
    assert re.search(r"^FIRST MODEL A\.5\.4 satisfied$", text, flags=re.MULTILINE)
    assert re.search(r"^FIRST MODEL A\.6\.2\.4 failing", text, flags=re.MULTILINE)
    # the objectives were set before training: per attribute, a loosening config status names
    assert any("LOOSENS" in line for line in _printed_value(text, "CONFIG STATUS"))
    assert "(fairness_groups: each)" in _printed_value(text, "OBJECTIVES SAY")[0]
    first, mitigated = (_printed_value(text, f"{m} FAIRNESS") for m in ("FIRST MODEL", "MITIGATED"))
    assert first["measured"] == mitigated["measured"] == "each"
    assert max(first["sex"]) > 0.1  # the unmitigated model fails per attribute too
    assert max(mitigated["sex"] + mitigated["race"]) <= 0.1
    assert max(mitigated["sex x race (not judged)"]) > 0.1  # reported, as decided
    assert re.search(r"^MITIGATED A\.6\.2\.4 satisfied", text, flags=re.MULTILINE)
    steps = _printed_value(text, "STEPS")
    assert steps > 100 and _printed_value(text, "AIMS COMMANDS") > 50
    # the training script is committed before it runs: the lineage holds the commit
    committed = r"^CODE A\.6\.2\.3 satisfied \| commit [0-9a-f]{12}$"
    assert re.search(committed, text, flags=re.MULTILINE)
    # the supplier register drafted again from lineage names the census data's source
    assert _printed_value(text, "SUPPLIERS") == ["doi.org/10.24432/C5XW20"]
    positives = _printed_value(text, "TEST POSITIVES BY GROUP")
    assert min(positives.values()) == 3 and sorted(positives.values())[1] == 5
    # what the notebook printed is what the store says, judged here independently
    previous = Path.cwd()
    os.chdir(notebook_env)
    try:
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{notebook_env / 'mlflow.db'}"
        judged = judge(config=notebook_env / "aims.yaml")
        report = readiness_report(judged)
    finally:
        os.chdir(previous)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert _printed_value(text, "READY") is report["ready"]
    assert sorted(_printed_value(text, "BLOCKERS")) == sorted(
        f"{b['id']}: {b['reason']}" for b in report["blockers"]
    )
    # ready: every entry satisfied, with the approved configuration and no integrity finding
    assert report["ready"] is True and report["blockers"] == []
    assert judged.configuration is not None and not judged.configuration.draft
    assert not judged.integrity_findings
    system = judged.assessment.systems["income-classifier"]
    assert judged.config.system("income-classifier").fairness_groups == "each"
    # the production version's fairness record measured each attribute and kept the
    # intersectional values
    behind = set(system.control("A.6.2.4").evidence)
    fairness = [r for r in judged.records if r.kind == "fairness" and r.id in behind]
    assert fairness and all(r.outcome == "pass" for r in fairness)
    for record in fairness:
        assert record.details["fairness_groups"] == "each"
        assert set(record.details["by_feature"]) == {"sex", "race"}
        assert record.details["intersectional"]["demographic_parity_difference"] > 0.1
    for entry in ("A.10.2", "A.10.3", "A.6.2.3", "A.7.6", "7.2", "7.3"):
        assert system.control(entry).status == "satisfied", (entry, system.control(entry).reasons)
    assert "doi.org/10.24432/C5XW20" in " ".join(system.control("A.10.3").reasons)
    # training and acknowledgement: each signed by the person it names, with their own key
    people_keys = judged.trust.people
    acts = [r for r in judged.records if r.kind in ("training", "acknowledgement")]
    assert len(acts) == 2 * len(judged.config.people)
    for record in acts:
        key_id = record.signature.split(":")[1]
        assert people_keys[key_id].name == record.details["person"]
