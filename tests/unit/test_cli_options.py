"""The ``aims`` group's own options: ``-v/--verbose`` lets MLflow's INFO logging through."""

from __future__ import annotations

import logging
import os

import pytest
from click.testing import CliRunner

from aims_mlops.cli import _options as _main
from aims_mlops.cli import cli


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_main.MLFLOW_LOGGING_LEVEL, raising=False)
    monkeypatch.setattr(_main, "_quieted_mlflow", False)
    level = logging.getLogger("mlflow").level
    yield
    logging.getLogger("mlflow").setLevel(level)


def test_quiet_by_default_verbose_with_v() -> None:
    result = CliRunner().invoke(cli, ["catalog", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert os.environ[_main.MLFLOW_LOGGING_LEVEL] == "WARNING"  # read when mlflow is imported
    result = CliRunner().invoke(cli, ["-v", "catalog", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert _main.MLFLOW_LOGGING_LEVEL not in os.environ  # MLflow's own default (INFO) again


def test_a_level_the_user_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_main.MLFLOW_LOGGING_LEVEL, "DEBUG")
    for args in (["catalog"], ["-v", "catalog"]):
        assert CliRunner().invoke(cli, args).exit_code == 0
        assert os.environ[_main.MLFLOW_LOGGING_LEVEL] == "DEBUG"


def test_verbose_is_in_the_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "-v, --verbose" in result.output
