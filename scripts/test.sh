#!/usr/bin/env bash
# Set up and run the whole test suite (fast unit tests and the slow integration tier).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
.venv/bin/ruff check aims_mlops tests benchmarks hooks
.venv/bin/python -m pytest "$@"
