"""What a new user meets in the first hour: init says what it bound, errors read as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

import aims_mlops
from aims_mlops.capture import reset_session
from aims_mlops.capture._api import WARNING_NO_CONFIG
from aims_mlops.config import example_config_text


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with no aims.yaml, no $AIMS_CONFIG and no bound session."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIMS_CONFIG", raising=False)
    monkeypatch.delenv("AIMS_SYSTEM", raising=False)
    reset_session()
    yield tmp_path
    reset_session()


def test_init_without_aims_yaml_warns_naming_where_it_looked_and_aims_init(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{elsewhere / 'mlflow.db'}"
    with pytest.warns(aims_mlops.AimsWarning) as caught:
        session = aims_mlops.init(system="scorer", tracking_uri=uri, autolog=False)
    (warning,) = caught
    assert str(warning.message) == WARNING_NO_CONFIG.format(
        path=elsewhere / "aims.yaml", cwd=elsewhere
    )
    assert "`aims init`" in str(warning.message)
    assert session.config is None
    # one line on stderr says what it bound; stdout (the user's script output) is untouched
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"aims_mlops: system scorer · config none (no aims.yaml found) · tracking store {uri}"
    ]


def test_init_without_aims_yaml_raises_in_strict_mode(elsewhere: Path) -> None:
    with pytest.raises(aims_mlops.ConfigError) as caught:
        aims_mlops.init(system="scorer", strict=True, autolog=False)
    assert caught.value.problems == [
        WARNING_NO_CONFIG.format(path=elsewhere / "aims.yaml", cwd=elsewhere)
    ]


def test_init_says_which_config_and_store_it_bound(
    elsewhere: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (elsewhere / "aims.yaml").write_text(example_config_text(), encoding="utf-8")
    aims_mlops.init(system="income-classifier", tracking_uri="sqlite:///rel.db", autolog=False)
    assert capsys.readouterr().err.splitlines() == [
        "aims_mlops: system income-classifier · config "
        f"{elsewhere / 'aims.yaml'} · tracking store sqlite:///{elsewhere / 'rel.db'}"
    ]
    aims_mlops.init(
        system="income-classifier", tracking_uri="sqlite:///rel.db", autolog=False, quiet=True
    )
    assert capsys.readouterr().err == ""


def test_an_error_a_notebook_user_causes_is_one_line_not_a_traceback(
    elsewhere: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    (elsewhere / "aims.yaml").write_text(example_config_text(), encoding="utf-8")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        capsys.readouterr()
        result = shell.run_cell(
            "import aims_mlops\naims_mlops.init(system='income-clasifier', autolog=False)"
        )
        out = capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()
    assert isinstance(result.error_in_exec, aims_mlops.ConfigError)
    assert "Traceback" not in out
    assert [line for line in out.splitlines() if line.strip()] == [
        "ConfigError: unknown system 'income-clasifier'; known systems: income-classifier, "
        "marketing-propensity"
    ]


def test_the_demo_on_a_folder_it_used_before_says_what_it_will_do(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aims_mlops.cli import cli
    from aims_mlops.demo import STEP_AGAIN, STEP_FRESH, STEPS, prepare_workdir

    folder = tmp_path / "aims-demo"
    assert prepare_workdir(folder) == STEPS[0].format(workdir=folder)
    (folder / "mlruns" / "1").mkdir(parents=True)
    (folder / "mlflow.db").write_bytes(b"store")
    (folder / "aims.yaml").write_text("kept", encoding="utf-8")
    # again: a new model version in the same store, and how to start afresh instead
    said = prepare_workdir(folder)
    assert said == STEP_AGAIN.format(workdir=folder)
    assert "new version" in said and "--fresh" in said
    assert (folder / "mlflow.db").exists()
    # --fresh removes the store it wrote, and only that
    said = prepare_workdir(folder, fresh=True)
    assert said == STEP_FRESH.format(workdir=folder, removed="mlflow.db, mlruns")
    assert sorted(p.name for p in folder.iterdir()) == ["aims.yaml"]
    assert "--fresh" in CliRunner().invoke(cli, ["demo", "--help"]).output


def test_a_run_with_no_parameters_says_exactly_what_to_log() -> None:
    """A script that logs no parameters leaves A.6.2.3 missing: the reason says what to log."""
    from tests.unit.test_verdicts import run_of, system_of

    hashed = run_of("lineage.code", details={"git": None, "source_sha256": "ab" * 32})
    empty = run_of("lineage.params", details={"params": {}, "params_source": None})
    reason = system_of([hashed, empty]).control("A.6.2.3").reasons[0]
    assert reason.endswith(
        "does not hold what the control needs: params: log the training parameters in the run, "
        "mlflow.log_params({...}) or a flavour's autolog (mlflow.sklearn.autolog()), or log the "
        "model with mlflow.sklearn.log_model (its get_params() are taken when the run logged "
        "none) or log_model(params={...})"
    )


def test_jupyterlab_in_the_venv_saves_widget_state_with_the_notebook(tmp_path: Path) -> None:
    """A notebook saved from JupyterLab keeps its dashboards (exports are blank otherwise)."""
    import json
    import runpy

    root = Path(__file__).resolve().parents[2]
    setup = (root / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "scripts/lab_settings.py .venv/share/jupyter/lab/settings/overrides.json" in setup
    overrides = tmp_path / "settings" / "overrides.json"
    overrides.parent.mkdir()
    overrides.write_text('{"@jupyterlab/apputils-extension:themes": {"theme": "x"}}')
    module = runpy.run_path(str(root / "scripts" / "lab_settings.py"))
    module["save_widget_state"](overrides)
    module["save_widget_state"](overrides)  # idempotent
    assert json.loads(overrides.read_text()) == {
        "@jupyterlab/apputils-extension:themes": {"theme": "x"},
        "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    }
