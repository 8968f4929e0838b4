"""``import aims_mlops`` stays cheap: no heavy library is loaded until it is used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "mlflow", "great_expectations", "fairlearn", "sklearn", "ipywidgets", "pandas", "scipy",
    "pyspark",
)  # fmt: skip


def loaded_after(statement: str) -> list[str]:
    code = (
        f"import sys, json; {statement}; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_library() -> None:
    assert loaded_after("import aims_mlops") == []


def test_pure_core_loads_no_heavy_library() -> None:
    statement = (
        "import aims_mlops.evidence, aims_mlops.catalog, aims_mlops.config, aims_mlops.engine; "
        "aims_mlops.catalog.load_catalog()"
    )
    assert loaded_after(statement) == []


def test_public_api_is_listed_and_resolves() -> None:
    import aims_mlops

    for name in ("init", "summary", "attest", "check_data", "assess_fairness", "monitor"):
        assert name in dir(aims_mlops)
        assert callable(getattr(aims_mlops, name))


def test_unknown_attribute_is_an_attribute_error() -> None:
    import aims_mlops

    try:
        aims_mlops.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_presentation_is_light() -> None:
    assert loaded_after("import aims_mlops.presentation") == []


def test_demo_and_cli_do_not_import_each_other() -> None:
    """The demo prints with the presentation module, never through the CLI; the CLI loads the
    demo's module but none of its heavy libraries until ``aims demo`` runs."""

    def modules_after(statement: str) -> set[str]:
        code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return set(json.loads(out.stdout.strip().splitlines()[-1]))

    assert "aims_mlops.cli" not in modules_after("import aims_mlops.demo")
    loaded = modules_after("import aims_mlops.cli")
    assert not {"sklearn", "mlflow", "pandas", "fairlearn", "great_expectations"} & loaded


def test_validate_on_the_example_loads_no_heavy_library(tmp_path: Path) -> None:
    """``aims validate`` on the example (expectations declared, a supplier exclusion, no store
    yet) checks everything without MLflow, Great Expectations or pandas."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "AIMS_CONFIG")}
    subprocess.run(
        [sys.executable, "-m", "aims_mlops.cli", "init"], cwd=tmp_path, env=env, check=True,
        capture_output=True,
    )  # fmt: skip
    code = (
        "import sys, json\n"
        "from aims_mlops.cli import cli\n"
        "try:\n    cli(['validate'], prog_name='aims')\nexcept SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "valid (" in out.stdout
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".aims", "aims.yaml"]  # nothing created


def test_tracking_uri_told_without_mlflow_is_mlflows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the store can be told without importing MLflow, it is the URI MLflow resolves."""
    import mlflow
    from mlflow.tracking import _tracking_service

    from aims_mlops.store._connection import tracking_uri_without_mlflow

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(_tracking_service.utils, "_tracking_uri", None)
    with monkeypatch.context() as unimported:
        unimported.delitem(sys.modules, "mlflow")  # as in a process that has not imported it
        default = tracking_uri_without_mlflow(None)
        unimported.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
        from_env = tracking_uri_without_mlflow(None)
        unimported.delenv("MLFLOW_TRACKING_URI")
        (tmp_path / "mlruns").mkdir()  # a file store may be there: only MLflow can tell
        assert tracking_uri_without_mlflow(None) is None
        (tmp_path / "mlruns").rmdir()
    assert default == mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert from_env == mlflow.get_tracking_uri()
    # once MLflow is imported, set_tracking_uri may have been called: MLflow tells
    assert tracking_uri_without_mlflow(None) is None
    assert tracking_uri_without_mlflow("sqlite:///x.db") == "sqlite:///x.db"
