#!/usr/bin/env bash
# The team deployment: one `mlflow server` on PostgreSQL (runs, tags, evidence, model registry)
# with a shared artifact store (evidence artifacts, models, reports). See docs/TEAM.md.
#
#   AIMS_BACKEND_STORE_URI=postgresql+psycopg2://mlflow:PASSWORD@db.internal:5432/mlflow \
#   AIMS_ARTIFACTS_DESTINATION=s3://ml-artifacts/mlflow \
#   AIMS_SERVER_HOST=0.0.0.0 AIMS_ALLOWED_HOSTS=mlflow.example.internal \
#     bash scripts/team-server.sh
#
# Settings (environment):
#   AIMS_BACKEND_STORE_URI      required; a SQLAlchemy URI. Use the explicit driver
#                               postgresql+psycopg2:// (SQLAlchemy 2.1 maps plain postgresql:// to
#                               psycopg 3, which is not installed). For a local try-out:
#                               AIMS_BACKEND_STORE_URI=$(bash scripts/postgres.sh start)
#   AIMS_ARTIFACTS_DESTINATION  where artifacts go: a directory or s3://bucket/prefix, gs://...
#                               (default ./mlartifacts in the current directory). Clients upload
#                               and download through the server (--artifacts-destination).
#   AIMS_SERVER_HOST            interface to bind (default 127.0.0.1; 0.0.0.0 for a team)
#   AIMS_SERVER_PORT            default 5000
#   AIMS_SERVER_WORKERS         uvicorn worker processes (default 4; about 2 per core)
#   AIMS_ALLOWED_HOSTS          Host headers accepted beyond localhost and private IPs
#                               (required when clients use a DNS name, e.g. mlflow.example.internal)
#   AIMS_READ_REPLICA_URI       optional read-only PostgreSQL replica for searches (aims summary /
#                               status read through search_runs)
#   PYTHON                      the interpreter with mlflow and psycopg2 (default: the repo's
#                               .venv/bin/python, else python3)
# Extra arguments are passed to `mlflow server` as they are.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

: "${AIMS_BACKEND_STORE_URI:?set AIMS_BACKEND_STORE_URI=postgresql+psycopg2://USER:PASSWORD@HOST:5432/DB (see docs/TEAM.md)}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
ARTIFACTS="${AIMS_ARTIFACTS_DESTINATION:-./mlartifacts}"
HOST="${AIMS_SERVER_HOST:-127.0.0.1}"
PORT="${AIMS_SERVER_PORT:-5000}"
WORKERS="${AIMS_SERVER_WORKERS:-4}"

case "$AIMS_BACKEND_STORE_URI" in
  postgresql://*|postgres://*)
    if ! "$PYTHON" -c "import psycopg" 2>/dev/null; then
      echo "team-server.sh: plain postgresql:// needs psycopg 3 (SQLAlchemy 2.1's default driver);" \
        "write postgresql+psycopg2://... instead" >&2
      exit 2
    fi ;;
  postgresql+psycopg2://*)
    if ! "$PYTHON" -c "import psycopg2" 2>/dev/null; then
      "$PYTHON" -m pip install --quiet psycopg2-binary
    fi ;;
esac

args=(
  --backend-store-uri "$AIMS_BACKEND_STORE_URI"
  --artifacts-destination "$ARTIFACTS"
  --host "$HOST" --port "$PORT" --workers "$WORKERS"
)
if [ -n "${AIMS_ALLOWED_HOSTS:-}" ]; then
  args+=(--allowed-hosts "$AIMS_ALLOWED_HOSTS")
fi
if [ -n "${AIMS_READ_REPLICA_URI:-}" ]; then
  args+=(--read-replica-backend-store-uri "$AIMS_READ_REPLICA_URI")
fi

export MLFLOW_DISABLE_TELEMETRY="${MLFLOW_DISABLE_TELEMETRY:-true}"
# MLflow's background job runner is not needed for evidence; it doubles the process count
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"
echo "team-server.sh: mlflow server on http://$HOST:$PORT (artifacts: $ARTIFACTS, workers: $WORKERS)" >&2
exec "$PYTHON" -m mlflow server "${args[@]}" "$@"
