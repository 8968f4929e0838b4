#!/bin/sh
# aims_mlops CI gate: fail the pipeline unless an AI system meets its ISO/IEC 42001 gate.
#
# Runs `aims gate "$AIMS_SYSTEM" --min-score "${AIMS_MIN_SCORE:-0.8}" ...` and exits with its
# status: 0 the gate passed, 1 it failed (one line per failure), 2 a usage or config problem.
# Environment:
#   AIMS_SYSTEM          the system id in aims.yaml (required)
#   AIMS_MIN_SCORE       lowest acceptable conformity score, 0..1 (default 0.8)
#   AIMS_CONFIG          aims.yaml to use (default ./aims.yaml; read by aims itself)
#   AIMS_MODEL_VERSION   gate this registered model version (default: the alias holder)
#   AIMS_REQUIRE         comma-separated controls that must be satisfied, e.g. A.5.4,A.7.4
#   AIMS_PROMOTE         1/true: on pass, move the alias to the version (recorded either way)
#   AIMS_ALIAS           alias to promote to (default: the system's mlflow.alias)
#   AIMS_APPROVER        who approves the promotion (default: $USER)
#   AIMS_ALLOW_UNSIGNED  1/true: let unsigned evidence pass (aims.yaml trust: {unsigned: true})
#   AIMS_TRUSTED_KEYS    public key files (:-separated) the approval chain's root must match
#                        (read by aims itself; pin the fingerprint `aims config approve` printed)
#   AIMS_CLI             command that runs the aims CLI (default: aims)
#   MLFLOW_TRACKING_URI  the MLflow server holding the evidence, unless aims.yaml names one
# Extra arguments are passed on to `aims gate`, e.g. `hooks/ci-gate.sh --format json`.
set -u

if [ -z "${AIMS_SYSTEM:-}" ]; then
    echo "ci-gate.sh: set AIMS_SYSTEM to the id of the AI system to gate" >&2
    exit 2
fi
set -- gate "$AIMS_SYSTEM" --min-score "${AIMS_MIN_SCORE:-0.8}" "$@"
if [ -n "${AIMS_MODEL_VERSION:-}" ]; then set -- "$@" --model-version "$AIMS_MODEL_VERSION"; fi
if [ -n "${AIMS_REQUIRE:-}" ]; then set -- "$@" --require "$AIMS_REQUIRE"; fi
case "${AIMS_PROMOTE:-}" in
    1 | true | TRUE | yes | YES) set -- "$@" --promote ;;
esac
if [ -n "${AIMS_ALIAS:-}" ]; then set -- "$@" --alias "$AIMS_ALIAS"; fi
if [ -n "${AIMS_APPROVER:-}" ]; then set -- "$@" --approver "$AIMS_APPROVER"; fi
case "${AIMS_ALLOW_UNSIGNED:-}" in
    1 | true | TRUE | yes | YES) set -- "$@" --allow-unsigned ;;
esac
export MLFLOW_DISABLE_TELEMETRY="${MLFLOW_DISABLE_TELEMETRY:-true}"
# word splitting of AIMS_CLI is intended: it may be "python -m aims_mlops.cli"
exec ${AIMS_CLI:-aims} "$@"
