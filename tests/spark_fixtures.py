"""Spark fixtures: one local ``local[2]`` SparkSession for the whole test session.

The session is small (shuffle partitions 4, no UI, no console progress bar, 1 GB driver) and
stopped when the test session ends: starting the JVM and the session costs about a minute on a
busy 2-core machine (the largest setup in the slow tier), so every module shares the one.
Tests using it skip when pyspark or Java is missing, unless ``$CI`` is set (CI installs both:
``scripts/setup.sh test`` and ``scripts/java.sh``).

``tests/conftest.py`` imports the fixture; a test asks for ``spark`` by name.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

SKIP_NO_PYSPARK = 'pyspark is not installed (pip install "aims-mlops[spark]"); CI never skips'
SKIP_NO_JAVA = "no java on PATH (run scripts/java.sh); CI never skips"
ERROR_NO_SPARK_IN_CI = "CI is set but {what} is missing: scripts/test.sh installs it"

#: pyspark 4.3 warns on each pandas conversion that it does not "fully support" pandas 3: a Spark
#: test module adds these marks (``pytestmark = [pytest.mark.slow, *QUIET_PYSPARK]``).
QUIET_PYSPARK = (
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
)

#: The session's settings: small, quiet, and deterministic enough for tests.
SPARK_CONF: dict[str, str] = {
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "1g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def _skip_or_fail(reason: str, what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(ERROR_NO_SPARK_IN_CI.format(what=what))
    pytest.skip(reason)


def start_session(app_name: str = "aims-tests", conf: dict[str, str] | None = None) -> Any:
    """A local ``local[2]`` SparkSession with :data:`SPARK_CONF` (skips without pyspark/Java)."""
    if importlib.util.find_spec("pyspark") is None:
        _skip_or_fail(SKIP_NO_PYSPARK, "pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _skip_or_fail(SKIP_NO_JAVA, "java")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession for the test session, stopped at its end (tests must not stop it
    or change its configuration)."""
    session = start_session()
    yield session
    session.stop()
