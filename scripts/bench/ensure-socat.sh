#!/usr/bin/env bash
# Makes sure socat (the Debian package) is installed, for scripts/bench/gateway.ts.
# Idempotent: does nothing when socat is already on PATH.
set -euo pipefail
if command -v socat >/dev/null 2>&1; then
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "ensure-socat: socat is missing and this user cannot install it; run: apt-get install socat" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-socat: socat is missing and apt-get is not available; install socat by hand" >&2
  exit 1
fi
echo "ensure-socat: installing socat" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get install -y --no-install-recommends socat >/dev/null; then
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y --no-install-recommends socat >/dev/null
fi
command -v socat >/dev/null
