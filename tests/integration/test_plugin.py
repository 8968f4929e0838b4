"""The MLflow run-context plugin, loaded through its entry point by a real ``import mlflow``."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import aims_mlops
from aims_mlops import AimsWarning
from aims_mlops.capture import reset_session
from aims_mlops.integrations import mlflow_plugin
from aims_mlops.integrations.mlflow_plugin import AimsRunContextProvider, reset_plugin_state

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh(isolated_mlflow: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh sqlite store and session; no system bound unless the test binds one."""
    for name in ("AIMS_SYSTEM", "AIMS_CONFIG", "AIMS_STRICT", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    reset_session()
    reset_plugin_state()
    yield isolated_mlflow
    reset_session()
    reset_plugin_state()


def _run_tags(**start_kwargs: object) -> dict[str, str]:
    import mlflow

    with mlflow.start_run(**start_kwargs) as run:
        pass
    return dict(mlflow.MlflowClient().get_run(run.info.run_id).data.tags)


def test_entry_point_registers_the_provider_without_importing_mlflow_early() -> None:
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('always')\n"
        "import aims_mlops.integrations.mlflow_plugin\n"
        "print('mlflow' in sys.modules)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    import mlflow\n"
        "from mlflow.tracking.context.registry import _run_context_provider_registry as r\n"
        "print(sum(type(p).__name__ == 'AimsRunContextProvider' for p in r))\n"
        "print(sum('aims_mlops' in str(w.message) for w in caught))\n"
    )
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "1", "0"]


def test_run_is_tagged_with_the_system_from_the_environment(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("AIMS_SYSTEM", "credit-scoring")
    mlflow.set_experiment("plugin-env")
    tags = _run_tags()
    assert tags["aims.system"] == "credit-scoring"
    assert "aims.config_digest" not in tags  # no aims.yaml here
    assert tags["mlflow.user"]  # MLflow's own providers still ran


def test_run_without_a_system_is_not_tagged(fresh: str) -> None:
    import mlflow

    mlflow.set_experiment("plugin-none")
    provider = AimsRunContextProvider()
    assert provider.in_context() is False
    assert provider.tags() == {}
    assert not [key for key in _run_tags() if key.startswith("aims.")]


def test_session_system_wins_over_the_environment(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("AIMS_SYSTEM", "from-env")
    with pytest.warns(aims_mlops.AimsWarning, match="no aims.yaml"):
        aims_mlops.init(system="from-init", autolog=False)
    mlflow.set_experiment("plugin-session")
    assert _run_tags()["aims.system"] == "from-init"


def test_experiment_mapping_and_config_digest_follow_the_file(
    fresh: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from aims_mlops.config import config_digest, example_config_text, load_config

    config_path = tmp_path / "aims.yaml"
    config_path.write_text(example_config_text(), encoding="utf-8")
    config = load_config(config_path)
    [system] = [s for s in config.systems if s.mlflow.experiment]
    mlflow.set_experiment(system.mlflow.experiment)
    tags = _run_tags()
    assert tags["aims.system"] == system.id
    assert tags["aims.config_digest"] == config_digest(config)

    # an edited file is re-read (cached by path and modification time)
    edited = example_config_text().replace("appetite: 6", "appetite: 8", 1)
    assert edited != example_config_text()
    config_path.write_text(edited, encoding="utf-8")
    stamp = config_path.stat().st_mtime + 5
    os.utime(config_path, (stamp, stamp))
    new_digest = config_digest(load_config(config_path))
    assert new_digest != config_digest(config)
    assert _run_tags()["aims.config_digest"] == new_digest

    mlflow.set_experiment("not-bound-to-a-system")
    assert "aims.system" not in _run_tags()


def _broken_tags() -> dict[str, str]:
    raise RuntimeError("plugin exploded")


def test_plugin_failure_never_reaches_mlflow_and_warns_once(
    fresh: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("AIMS_SYSTEM", "credit-scoring")
    monkeypatch.setattr(mlflow_plugin, "run_context_tags", _broken_tags)
    mlflow.set_experiment("plugin-broken")
    with pytest.warns(AimsWarning, match="plugin exploded"):
        first = _run_tags()
    assert "aims.system" not in first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = _run_tags()
    assert not [w for w in caught if issubclass(w.category, AimsWarning)]
    assert "aims.system" not in second
    assert mlflow.active_run() is None
