#!/usr/bin/env bash
# Serve the compliance review (notebooks/03_compliance_review.ipynb) as a read-only Voilà dashboard
# on http://127.0.0.1:8866/ — no token, no browser opened, nothing fetched from the internet for the
# widgets. The first run sets up .venv and fills the demo store (./aims-demo) if it is missing.
#   AIMS_DEMO_DIR   the evidence folder to review (default: aims-demo; holds aims.yaml + mlflow.db)
#   AIMS_VOILA_PORT the port (default: 8866)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import voila" 2>/dev/null; then
  bash scripts/setup.sh notebook
fi
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
DEMO_DIR="${AIMS_DEMO_DIR:-aims-demo}"
if [ ! -f "$DEMO_DIR/mlflow.db" ] || [ ! -f "$DEMO_DIR/aims.yaml" ]; then
  .venv/bin/aims demo --dir "$DEMO_DIR"
fi
AIMS_NOTEBOOK_WORKDIR="$(cd "$DEMO_DIR" && pwd)"
export AIMS_NOTEBOOK_WORKDIR
unset AIMS_CONFIG AIMS_SYSTEM MLFLOW_TRACKING_URI
PORT="${AIMS_VOILA_PORT:-8866}"
echo "compliance dashboard: http://127.0.0.1:${PORT}/   (evidence: ${AIMS_NOTEBOOK_WORKDIR}; Ctrl-C stops)"
# scripts/voila.json: jupyter_server pings websockets every 30,000 ms and tornado reads its default
# timeout (3 pings) as longer than that interval and warns on every start: the timeout is set to
# the interval
exec .venv/bin/voila notebooks/03_compliance_review.ipynb \
  --Voila.config_file_paths="$PWD/scripts" \
  --no-browser \
  --Voila.ip=127.0.0.1 \
  --port="$PORT" \
  --Voila.port_retries=0 \
  --strip_sources=True \
  --show_tracebacks=False
