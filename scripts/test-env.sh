#!/usr/bin/env bash
# Makes sure what the tests need is on this machine, idempotently: PostgreSQL running.
set -euo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "test-env: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
# slapd and ldap-utils for the LDAP tests (installed once; test helpers start private instances).
bash "$(dirname "$0")/ldap-test-server.sh" install
# Chromium for the browser tests, a VNC desktop (Xvfb, x11vnc) for the HTML5 tests, and the
# reference bridges of the benchmarks (scripts/debian-packages.sh lists them).
bash "$(dirname "$0")/debian-packages.sh"
