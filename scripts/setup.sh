#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install aims_mlops into it, with the extras named as arguments:
#   bash scripts/setup.sh            what `aims` and the demo need (no test tools)
#   bash scripts/setup.sh test       plus the test tools (scripts/test.sh; pyspark included)
#   bash scripts/setup.sh spark      plus pyspark (Spark DataFrames; Java 17: scripts/java.sh)
#   bash scripts/setup.sh notebook   plus JupyterLab and Voilà (scripts/voila.sh)
# Idempotent. pip runs quietly; its warnings that a configured --find-links location does not
# exist and the build backend's Python warnings are left out; errors are shown.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
EXTRAS="$(IFS=,; echo "$*")"
TARGET="."
if [ -n "$EXTRAS" ]; then
  TARGET=".[${EXTRAS}]"
fi
pip_quietly() {
  # stderr through a filter that drops only pip's "Location '...' is ignored" warnings;
  # pip's exit status is kept (pipefail). PYTHONWARNINGS reaches the build backend, whose
  # advice on editable installs is not for the person running the demo; errors still show.
  PYTHONWARNINGS=ignore .venv/bin/python -m pip --disable-pip-version-check --no-input "$@" \
    2> >(grep -v -E "^WARNING: Location '.*' is ignored" >&2)
}
pip_quietly install --quiet --upgrade pip
pip_quietly install --quiet --no-warn-script-location -e "$TARGET"
# JupyterLab in .venv saves the widgets' state with each notebook, so a saved or exported notebook
# shows its dashboards (JupyterLab's default saves none: the dashboard is blank in an export)
if .venv/bin/python -c "import jupyterlab" 2>/dev/null; then
  .venv/bin/python scripts/lab_settings.py .venv/share/jupyter/lab/settings/overrides.json
fi
