"""The example notebooks' quiet setup (``aims_mlops.demo.quiet_mlflow`` / ``quiet_registry``):
MLflow's known advice left out where it is issued, everything else still shown."""

from __future__ import annotations

import io
import logging
import os
import sys
import warnings
from collections.abc import Iterator

import pytest

from aims_mlops.demo import KNOWN_MLFLOW_LOGS, _KnownLogsLeftOut, quiet_mlflow, quiet_registry

PICKLE_CAUTION = (
    "Saving scikit-learn models in the pickle or cloudpickle format requires exercising caution "
    "because these formats rely on Python's object serialization mechanism"
)


@pytest.fixture
def sklearn_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """MLflow's ``mlflow.sklearn`` logger writing into a buffer; its filters and the process's
    warning filters and MLflow level restored afterwards."""
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", os.environ.get("MLFLOW_LOGGING_LEVEL", "WARNING"))
    logger = logging.getLogger("mlflow.sklearn")
    filters, level = list(logger.filters), logging.getLogger("mlflow").level
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            yield logger, buffer
    finally:
        logger.removeHandler(handler)
        logger.filters[:] = filters
        logging.getLogger("mlflow").setLevel(level)


def test_the_pickle_caution_is_left_out_and_other_warnings_pass(
    sklearn_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = sklearn_logger
    quiet_mlflow()
    quiet_mlflow()  # again: one filter, not two
    assert sum(isinstance(f, _KnownLogsLeftOut) for f in logger.filters) == 1
    logger.warning(PICKLE_CAUTION)
    logger.warning("Model was missing function: predict")
    assert buffer.getvalue() == "Model was missing function: predict\n"
    assert {name for name, _ in KNOWN_MLFLOW_LOGS} == {"mlflow.sklearn"}


def test_registry_notices_are_left_out_and_other_lines_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with quiet_registry():
        print("Successfully registered model 'income-classifier'.", file=sys.stderr)
        print("Created version '2' of model 'income-classifier'.", file=sys.stderr)
        print("something else went wrong", file=sys.stderr)
    assert err.getvalue() == "something else went wrong\n"
