#!/usr/bin/env bash
# Installs and starts what the tests need beyond npm, when missing: Debian's PostgreSQL (for the
# storage tests against PostgreSQL) and Chromium (browser tests). Safe to run again; never fatal:
# tests that need a missing piece skip with a message saying so.
set -u
have_pg() { command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; }
SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if ! have_pg; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL (Debian package)…"
    ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null) || echo "setup: could not install PostgreSQL; its tests will skip"
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
  fi
fi
have_pg && echo "setup: PostgreSQL is up on 127.0.0.1:5432" || echo "setup: PostgreSQL not available; its tests will skip"
exit 0
