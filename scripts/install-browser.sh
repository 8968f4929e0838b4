#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the report screenshot test. Idempotent.
# Needs root (or sudo); installs nothing from pip. Used locally and by CI.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/lib/chromium/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-browser.sh: need root or sudo to apt-get install chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
# the binary itself: Debian's wrapper script prints shell errors on some machines (its /dev/shm check)
/usr/lib/chromium/chromium --version 2>/dev/null || /usr/bin/chromium --version 2>/dev/null
