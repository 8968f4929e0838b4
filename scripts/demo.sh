#!/usr/bin/env bash
# Set up and run the main job end to end: train on the bundled Adult data with capture on, store
# evidence in a local MLflow sqlite store (./aims-demo), write an HTML report there and print
# where the system stands. Installs only what the demo needs (no test tools).
#   AIMS_DEMO_DIR   the folder to use (default: aims-demo)
# `bash scripts/demo.sh -v` also shows MLflow's own logging (quiet by default).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/aims ]; then
  echo "demo: setting up .venv (first run: about two minutes)" >&2
fi
bash scripts/setup.sh
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
VERBOSE=()
FRESH=()
for arg in "$@"; do
  case "$arg" in
    -v|--verbose) VERBOSE=(-v) ;;
    --fresh) FRESH=(--fresh) ;;
    *) echo "demo.sh: unknown argument $arg (only -v/--verbose and --fresh)" >&2; exit 2 ;;
  esac
done
exec .venv/bin/aims "${VERBOSE[@]}" demo --dir "${AIMS_DEMO_DIR:-aims-demo}" "${FRESH[@]}"
