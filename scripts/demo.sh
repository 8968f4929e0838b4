#!/usr/bin/env bash
# Set up and run the main job end to end: train on the bundled Adult data with capture on,
# store evidence in a local MLflow sqlite store (./aims-demo), print the conformity summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export MLFLOW_DISABLE_TELEMETRY=true
.venv/bin/aims demo --dir "${AIMS_DEMO_DIR:-aims-demo}"
