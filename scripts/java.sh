#!/usr/bin/env bash
# Java for the Spark tests and local Spark jobs (pyspark 4 needs Java 17 or newer). Idempotent.
#
#   bash scripts/java.sh     Debian's openjdk-17-jre-headless when no java 17+ is on PATH, and
#                            pyspark in .venv (the `spark` extra) when .venv exists. Starts nothing:
#                            the tests start their own local[2] session (tests/spark_fixtures.py).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="openjdk-17-jre-headless"

java_major() {
  # "17.0.15" -> 17 (also "1.8.0_402" -> 1, which is too old anyway)
  command -v java >/dev/null || return 1
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "java.sh: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

major="$(java_major || true)"
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  echo "java.sh: installing Debian's $PACKAGE" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
  major="$(java_major || true)"
fi
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  echo "java.sh: no java 17 or newer on PATH after installing $PACKAGE" >&2
  exit 1
fi
if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import pyspark, grpc" 2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "pyspark[connect]>=4,<5"
fi
echo "java.sh: java $major at $(readlink -f "$(command -v java)")" >&2
