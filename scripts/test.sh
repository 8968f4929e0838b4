#!/usr/bin/env bash
# Set up and run the whole test suite: the fast unit tier and the slow integration tier (real
# MLflow stores and servers, a real Jupyter kernel, headless Chromium, a local Spark session). Extra arguments go to
# pytest, e.g. `bash scripts/test.sh -m "not slow"` for the unit tier alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
# Debian's chromium for the browser tests (needs root/sudo; skipped outside CI when impossible).
if ! bash scripts/install-browser.sh >/dev/null; then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "test.sh: chromium could not be installed; browser tests will skip" >&2
fi
# Debian's PostgreSQL for the team-deployment tests (the tests start their own throwaway cluster).
if ! bash scripts/postgres.sh >/dev/null; then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "test.sh: PostgreSQL could not be installed; its tests will skip" >&2
fi
# Debian's Java 17 for the Spark tests (a local[2] session; pyspark comes with the test extra).
if ! bash scripts/java.sh >/dev/null; then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "test.sh: Java could not be installed; Spark tests will skip" >&2
fi
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
.venv/bin/ruff check aims_mlops tests benchmarks
# pytest-xdist over the cores, at most 4 (each worker may start its own mlflow server, Spark
# session and PostgreSQL cluster), or AIMS_TEST_WORKERS of them; each test file on one worker
# (its module fixtures built once). `-n 0` after the command runs everything in this process.
WORKERS="${AIMS_TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}"
.venv/bin/python -m pytest -n "$WORKERS" --dist loadfile "$@"
