"""Notebook provenance and the ``%load_ext aims_mlops`` extension.

The order analysis and the provenance record are checked on hand-written notebooks (fast); the
extension in a real ``InteractiveShell`` and, once, in a real Jupyter kernel driven by nbclient
(slow). Hashes are recomputed here with hashlib; git facts with the git command line.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import AimsError
from aims_mlops.capture import get_session, reset_session
from aims_mlops.catalog import load_catalog
from aims_mlops.collectors import _notebook
from aims_mlops.collectors._notebook import (
    ERROR_NO_NOTEBOOK,
    ORDER_CELL_IDS,
    ORDER_COUNTS_ONLY,
    ORDER_SOURCES,
    CellExecution,
    KernelInfo,
    NotebookLocation,
    NotebookTracker,
    analyse_order,
    notebook_cells,
    notebook_provenance_record,
)

CONFIG = """
version: 1
organization: {name: Test Org, aims_scope: Credit models, policy_owner: CRO}
systems:
  - id: credit
    name: Credit scoring
    owner: Alice
    intended_use: Score loan applicants
  - id: churn
    name: Churn
    owner: Bob
    intended_use: Predict churn
    in_scope: {churn_in_scope}
    scope_reason: not yet in production
"""
SOURCES = ["import math", "x = math.sqrt(16)", "y = x + 1", "print(y)"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_notebook(path: Path, sources: list[str], *, ids: bool = True) -> Path:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title"], "id": "md0"}
    ]
    for i, source in enumerate(sources):
        cell: dict[str, Any] = {
            "cell_type": "code",
            "metadata": {},
            "source": source.splitlines(keepends=True),
            "outputs": [],
            "execution_count": None,
        }
        if ids:
            cell["id"] = f"cell-{i}"
        cells.append(cell)
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def runs(*pairs: tuple[int, str], ids: dict[str, str] | None = None) -> list[CellExecution]:
    return [
        CellExecution(
            execution_count=count,
            source_sha256=sha(source),
            cell_id=(ids or {}).get(source),
        )
        for count, source in pairs
    ]


# ------------------------------------------------------------------------- order analysis
def test_top_to_bottom_run_is_recognised(tmp_path: Path) -> None:
    cells = notebook_cells(write_notebook(tmp_path / "nb.ipynb", SOURCES))
    assert cells is not None and [c.position for c in cells] == [0, 1, 2, 3]
    order = analyse_order(runs(*enumerate(SOURCES, start=1)), cells)
    assert order.top_to_bottom
    assert order.monotonic and order.re_executions == 0 and order.out_of_order == 0
    assert order.order_basis == ORDER_SOURCES
    assert order.positions == (0, 1, 2, 3)
    assert order.skipped_cells == 0


def test_re_executed_out_of_order_and_skipped_cells(tmp_path: Path) -> None:
    cells = notebook_cells(write_notebook(tmp_path / "nb.ipynb", SOURCES))
    # ran cell 0, cell 2 (skipping 1), then cell 1 (above: out of order), then cell 2 again
    executions = runs((1, SOURCES[0]), (2, SOURCES[2]), (3, SOURCES[1]), (4, SOURCES[2]))
    order = analyse_order(executions, cells)
    assert order.monotonic  # counts 1..4: one kernel, nothing missing
    assert order.re_executions == 1
    assert order.out_of_order == 1
    assert not order.top_to_bottom
    assert order.positions == (0, 2, 1, 2)


def test_cell_ids_take_precedence_over_sources(tmp_path: Path) -> None:
    # two cells with the same source: only their ids tell them apart
    sources = ["a = 1", "print(a)", "print(a)"]
    cells = notebook_cells(write_notebook(tmp_path / "nb.ipynb", sources))
    executions = [
        CellExecution(execution_count=1, source_sha256=sha("a = 1"), cell_id="cell-0"),
        CellExecution(execution_count=2, source_sha256=sha("print(a)"), cell_id="cell-2"),
        CellExecution(execution_count=3, source_sha256=sha("print(a)"), cell_id="cell-1"),
    ]
    order = analyse_order(executions, cells)
    assert order.order_basis == ORDER_CELL_IDS
    assert order.positions == (0, 2, 1)
    assert order.out_of_order == 1 and order.re_executions == 0


def test_gaps_in_execution_counts_are_not_monotonic() -> None:
    order = analyse_order(runs((1, "a = 1"), (3, "b = 2")), None)
    assert not order.monotonic and not order.top_to_bottom
    assert order.out_of_order is None and order.order_basis == ORDER_COUNTS_ONLY
    same_source_twice = analyse_order(runs((1, "a = 1"), (2, "a = 1")), None)
    assert same_source_twice.re_executions == 1


# ------------------------------------------------------------------------- where the notebook is
def test_notebook_location_from_what_the_kernel_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    nb = write_notebook(tmp_path / "train.ipynb", SOURCES)
    vsc = write_notebook(tmp_path / "vsc.ipynb", SOURCES)
    env = {"JPY_SESSION_NAME": str(nb)}
    found = NotebookLocation.find({}, env)
    assert (found.path, found.name, found.source, found.exists) == (
        str(nb.resolve()),
        "train.ipynb",
        "JPY_SESSION_NAME",
        True,
    )
    assert NotebookLocation.find({"__session__": "train.ipynb"}, {}).path == str(nb.resolve())
    assert NotebookLocation.find(
        {"__vsc_ipynb_file__": str(vsc), "__session__": str(nb)}, env
    ).name == ("vsc.ipynb")
    # a server path relative to another root: found by name in the working directory
    assert NotebookLocation.find({"__session__": "projects/x/train.ipynb"}, {}).exists
    missing = NotebookLocation.find({}, {"JPY_SESSION_NAME": "/nowhere/gone.ipynb"})
    assert (missing.path, missing.name, missing.exists) == (
        "/nowhere/gone.ipynb",
        "gone.ipynb",
        False,
    )
    assert NotebookLocation.find({}, {}).path is None


def test_kernel_id_and_name_from_the_connection_file(tmp_path: Path) -> None:
    path = tmp_path / "kernel-1b2c3d4e-aaaa-bbbb-cccc-000000000000.json"
    path.write_text(json.dumps({"kernel_name": "python3", "shell_port": 1}), encoding="utf-8")
    info = KernelInfo.from_connection_file(str(path))
    assert (info.id, info.name) == ("1b2c3d4e-aaaa-bbbb-cccc-000000000000", "python3")
    assert KernelInfo.from_connection_file(str(tmp_path / "other.json")).id is None


# ------------------------------------------------------------------------- the record
@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command line")
def test_provenance_record_has_hashes_never_sources(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    nb = write_notebook(repo / "train.ipynb", SOURCES)

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    git("add", "train.ipynb")
    git("commit", "-q", "-m", "notebook")
    head = git("rev-parse", "HEAD")

    tracker = NotebookTracker(
        system="credit",
        kernel=KernelInfo(id="k-1", name="python3", connection_file=None),
        user_ns={"__session__": str(nb)},
    )
    for count, source in enumerate(SOURCES, start=1):
        tracker.record_cell(count, source, success=count != 3)
    record = notebook_provenance_record("r" * 32, system="credit", tracker=tracker)

    assert record.kind == "notebook.provenance" and record.outcome == "info"
    assert record.controls == load_catalog().controls_for_kind("notebook.provenance")
    assert record.subject.run_id == "r" * 32
    text = record.to_json()
    for source in SOURCES:
        assert json.dumps(source)[1:-1] not in text  # never the source text
    details = record.details
    assert [c["source_sha256"] for c in details["cells"]] == [sha(s) for s in SOURCES]
    assert details["cells_sha256"] == sha(
        "".join(f"{i}:{sha(s)}\n" for i, s in enumerate(SOURCES, start=1))
    )
    assert details["notebook"]["file_sha256"] == hashlib.sha256(nb.read_bytes()).hexdigest()
    assert details["notebook"]["code_cells"] == len(SOURCES)
    assert details["kernel"]["id"] == "k-1" and details["kernel"]["name"] == "python3"
    assert details["git"]["commit"] == head and details["git"]["branch"] == "main"
    assert details["git"]["dirty"] is False
    execution = details["execution"]
    assert execution["top_to_bottom"] is True and execution["failed_cells"] == 1
    assert record.metrics["cells_executed"] == 4 and record.metrics["top_to_bottom"] == 1.0
    record.verify()

    nb.write_text(nb.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # edit: dirty
    again = notebook_provenance_record(None, system="credit", tracker=tracker)
    assert again.details["git"]["dirty"] is True


def test_record_needs_a_tracked_notebook() -> None:
    assert _notebook.current() is None
    with pytest.raises(AimsError) as caught:
        notebook_provenance_record("r", system="credit")
    assert str(caught.value) == ERROR_NO_NOTEBOOK
    assert _notebook.notebook_tasks("r", system="credit") == []


def test_cell_list_is_bounded_but_fully_hashed() -> None:
    tracker = NotebookTracker(kernel=KernelInfo(id=None, name=None, connection_file=None))
    for count in range(1, 261):
        tracker.record_cell(count, f"x = {count}")
    details, metrics = tracker.details()
    assert len(details["cells"]) == _notebook.MAX_LISTED_CELLS
    assert details["cells"][-1]["execution_count"] == 260
    assert details["cells_total"] == 260 and metrics["cells_executed"] == 260
    assert details["cells_sha256"] == sha(
        "".join(f"{i}:{sha(f'x = {i}')}\n" for i in range(1, 261))
    )


# ------------------------------------------------------------------------- the IPython extension
@pytest.fixture
def project(isolated_mlflow: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("AIMS_SYSTEM", raising=False)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    path = tmp_path / "aims.yaml"
    path.write_text(CONFIG.replace("{churn_in_scope}", "false"), encoding="utf-8")
    reset_session()
    return path


@pytest.fixture
def shell(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from aims_mlops.capture import _autolog

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance(config=config)
    try:
        yield ip
    finally:
        if "aims_mlops" in ip.extension_manager.loaded:
            ip.run_line_magic("unload_ext", "aims_mlops")
        _autolog.disable()
        _notebook.stop()
        reset_session()
        InteractiveShell.clear_instance()


def run(ip: Any, source: str) -> Any:
    result = ip.run_cell(source, store_history=True)
    return result


@pytest.mark.slow
def test_load_ext_binds_the_only_in_scope_system_and_tracks_cells(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from aims_mlops.capture import _autolog
    from aims_mlops.integrations import ipython

    assert not _autolog.is_enabled()
    run(shell, "a = 1")
    assert run(shell, "%load_ext aims_mlops").success
    assert "bound to AI system 'credit'" in capsys.readouterr().out
    assert get_session().system == "credit"
    assert _autolog.is_enabled()
    tracker = _notebook.current()
    assert tracker is not None and tracker is ipython.tracker()
    assert tracker.post_run_cell in shell.events.callbacks["post_run_cell"]
    assert tracker.pre_run_cell in shell.events.callbacks["pre_run_cell"]

    run(shell, "b = a + 1")
    run(shell, "1 / 0")
    run(shell, "c = b * 2")
    sources = ["a = 1", "%load_ext aims_mlops", "b = a + 1", "1 / 0", "c = b * 2"]
    assert [e.execution_count for e in tracker.executions] == [1, 2, 3, 4, 5]
    assert [e.source_sha256 for e in tracker.executions] == [sha(s) for s in sources]
    assert [e.success for e in tracker.executions] == [True, True, True, False, True]
    details, _ = tracker.details()
    assert details["execution"]["top_to_bottom"] is True
    assert details["execution"]["order_basis"] == ORDER_COUNTS_ONLY  # no notebook file known

    capsys.readouterr()
    run(shell, "%aims status")
    out = capsys.readouterr().out
    import aims_mlops

    summary = aims_mlops.summary("credit")
    counts = summary["counts"]
    applicable = sum(counts.values()) - counts["not_applicable"]
    assert out.startswith("Credit scoring (credit)\n")
    assert f"conformity: {round(counts['satisfied'] / applicable, 4) * 100:.1f} %" in out
    run(shell, "%aims provenance")
    assert "cells executed: 7 " in capsys.readouterr().out  # itself included, still running

    shell.run_line_magic("unload_ext", "aims_mlops")
    assert tracker.post_run_cell not in shell.events.callbacks["post_run_cell"]
    assert tracker.pre_run_cell not in shell.events.callbacks["pre_run_cell"]
    assert "aims" not in shell.magics_manager.magics["line"]
    assert _notebook.current() is None
    assert not _autolog.is_enabled()  # it was off before loading


@pytest.mark.slow
def test_binding_from_the_environment_and_rebinding(
    shell: Any, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_text(CONFIG.replace("{churn_in_scope}", "true"), encoding="utf-8")
    run(shell, "%load_ext aims_mlops")
    out = capsys.readouterr().out
    assert "no AI system is bound" in out and "credit, churn" in out
    assert get_session().system is None
    run(shell, "%aims status")  # nothing bound: one line per system
    import aims_mlops

    lines = capsys.readouterr().out.splitlines()
    rows = aims_mlops.status(config=project)
    assert [line.split()[0] for line in lines] == [r["system"] for r in rows]
    for line, row in zip(lines, rows, strict=True):
        assert line.endswith(
            f"risks above appetite {row['risks_above_appetite']}  gaps {row['gaps']}"
        )
    run(shell, "%aims dashboard")
    assert "no AI system is bound to this notebook" in capsys.readouterr().out
    run(shell, "%aims system churn")
    assert get_session().system == "churn"
    assert _notebook.current() is not None and _notebook.current().system == "churn"
    run(shell, "%aims bogus")
    assert "unknown %aims command 'bogus'" in capsys.readouterr().out
    run(shell, "%aims dashboard")  # a plain shell displays the widget's text form
    assert capsys.readouterr().out.startswith("Dashboard(system='churn', score=")
    shell.run_line_magic("unload_ext", "aims_mlops")

    monkeypatch.setenv("AIMS_SYSTEM", "credit")
    reset_session()
    run(shell, "%load_ext aims_mlops")
    assert get_session().system == "credit"


@pytest.mark.slow
def test_a_run_ending_in_the_notebook_gets_a_provenance_record(shell: Any) -> None:
    run(shell, "%load_ext aims_mlops")
    result = run(
        shell,
        "import mlflow\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_param('C', 1.0)\n"
        "run_id = run.info.run_id",
    )
    assert result.success, result.error_in_exec
    run_id = shell.user_ns["run_id"]
    records = get_session().store.records(system="credit", run_ids=[run_id])
    provenance = [r for r in records if r.kind == "notebook.provenance"]
    assert len(provenance) == 1
    record = provenance[0]
    assert record.subject.run_id == run_id
    assert record.controls == load_catalog().controls_for_kind("notebook.provenance")
    # the cell that ended the run was still running: it is listed, its success not yet known
    cells = record.details["cells"]
    assert [c["execution_count"] for c in cells] == [1, 2]
    assert cells[0]["source_sha256"] == sha("%load_ext aims_mlops")
    assert cells[1]["source_sha256"] == sha(shell.user_ns["In"][2])
    assert "mlflow.start_run()" in shell.user_ns["In"][2]
    assert [c["success"] for c in cells] == [True, None]
    assert record.details["execution"]["top_to_bottom"] is True


@pytest.mark.slow
def test_real_kernel_records_provenance(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    sources = [
        "%load_ext aims_mlops",
        "import mlflow\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_param('C', 1.0)\n"
        "run_id = run.info.run_id",
        "import json\n"
        "from aims_mlops.collectors._notebook import current\n"
        "details, metrics = current().details()\n"
        "print(json.dumps({'run_id': run_id, **details}))",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / "train.ipynb"
    nbformat.write(notebook, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))

    client = nbclient.NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    output = "".join(
        o.get("text", "") for o in notebook.cells[2].outputs if o.get("output_type") == "stream"
    )
    facts = json.loads(output.strip().splitlines()[-1])

    assert facts["notebook"]["path"] == str(path.resolve())
    assert facts["notebook"]["found_via"] == "__session__"  # ipykernel's copy of JPY_SESSION_NAME
    # nbclient's connection file is a temporary name (no kernel id): the session id tells
    # kernels apart; a Jupyter server's kernel-<id>.json gives the id (tested above)
    assert facts["kernel"]["name"] == "python3"
    assert facts["kernel"]["id"] is None and len(facts["kernel"]["session"]) >= 32
    execution = facts["execution"]
    assert execution["top_to_bottom"] is True
    assert execution["order_basis"] == ORDER_SOURCES  # nbclient sends no cell ids
    assert execution["out_of_order"] == 0 and execution["re_executions"] == 0
    # the cell printing the facts is running: listed, success unknown
    assert [c["source_sha256"] for c in facts["cells"]] == [sha(s) for s in sources]
    assert [c["position"] for c in facts["cells"]] == [0, 1, 2]
    assert [c["success"] for c in facts["cells"]] == [True, True, None]

    from aims_mlops.store import EvidenceStore

    store = EvidenceStore(spool_dir=tmp_path / ".aims" / "spool")
    kinds = {r.kind for r in store.records(system="credit", run_ids=[facts["run_id"]])}
    assert "notebook.provenance" in kinds
