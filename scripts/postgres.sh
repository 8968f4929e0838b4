#!/usr/bin/env bash
# PostgreSQL for tests and local development. Idempotent.
#
#   bash scripts/postgres.sh                    install only (what scripts/test.sh and CI run):
#                                               Debian's postgresql package when initdb/postgres/
#                                               pg_ctl are missing, and psycopg2-binary in .venv.
#                                               No system service is started: the tests start a
#                                               throwaway cluster of their own (tests/postgres_fixtures.py).
#   bash scripts/postgres.sh start [DIR] [PORT] a local development cluster in DIR (default
#                                               .aims/postgres, port 5433) on 127.0.0.1 with a
#                                               database "mlflow"; prints the backend-store URI
#                                               for scripts/team-server.sh.
#   bash scripts/postgres.sh stop [DIR]         stop that cluster (its data stays in DIR).
#
# PostgreSQL refuses to run as root: as root the cluster runs as the 'postgres' system user.
set -euo pipefail
cd "$(dirname "$0")/.."

ACTION="${1:-install}"

find_bindir() {
  if command -v initdb >/dev/null && command -v postgres >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "postgres.sh: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

install() {
  if ! find_bindir >/dev/null; then
    echo "postgres.sh: installing Debian's postgresql package" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  if ! find_bindir >/dev/null; then
    echo "postgres.sh: initdb/postgres/pg_ctl still not found after installing" >&2
    exit 1
  fi
  # the package creates the 'postgres' user; make sure it exists (root runs the cluster as it)
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import psycopg2" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet psycopg2-binary
  fi
  echo "postgres.sh: PostgreSQL binaries in $(find_bindir)" >&2
}

# run a PostgreSQL binary as the postgres user when we are root
pg() {
  local bin
  bin="$(find_bindir)/$1"
  shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$bin" "$@"; else "$bin" "$@"; fi
}

start() {
  local dir port
  dir="$(mkdir -p "${1:-.aims/postgres}" && cd "${1:-.aims/postgres}" && pwd)"
  port="${2:-5433}"
  install
  if [ "$(id -u)" -eq 0 ]; then
    # the postgres user must reach the directory: keep the cluster outside root-only folders
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "postgres.sh: user postgres cannot write $dir; pick a DIR under /tmp or /srv" >&2
      exit 1
    fi
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg initdb -D "$dir/data" -U aims --auth=trust -E UTF8 --no-locale >/dev/null
  fi
  if pg pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
    echo "postgres.sh: already running in $dir" >&2
  else
    pg pg_ctl -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -h 127.0.0.1 -k $dir" start >/dev/null
  fi
  if ! pg psql -h 127.0.0.1 -p "$port" -U aims -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'mlflow'" | grep -q 1; then
    pg createdb -h 127.0.0.1 -p "$port" -U aims mlflow
  fi
  echo "postgresql+psycopg2://aims@127.0.0.1:$port/mlflow"
}

stop() {
  local dir="${1:-.aims/postgres}"
  if [ -f "$dir/data/PG_VERSION" ] && pg pg_ctl -D "$dir/data" status >/dev/null 2>&1; then
    pg pg_ctl -D "$dir/data" -m fast -w stop >/dev/null
    echo "postgres.sh: stopped the cluster in $dir" >&2
  fi
}

case "$ACTION" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 [install | start [DIR] [PORT] | stop [DIR]]" >&2; exit 2 ;;
esac
