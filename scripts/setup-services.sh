#!/usr/bin/env bash
# Installs and starts what the tests need beyond npm, when missing: Debian's PostgreSQL (for the
# storage tests against PostgreSQL), Chromium (browser tests) and ffmpeg (non-WAV speech uploads). Safe to run again; never fatal:
# tests that need a missing piece skip with a message saying so.
set -u
have_pg() { command -v pg_isready >/dev/null 2>&1 && pg_isready -h 127.0.0.1 -p 5432 -q; }
installed_pg=0
SUDO=""; [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if ! have_pg; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "setup: installing PostgreSQL (Debian package)…"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null && installed_pg=1; } || echo "setup: could not install PostgreSQL; its tests will skip"
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start 2>/dev/null || true
  fi
fi
# A cluster this script just installed (a fresh CI machine): let the tests in as in the dev
# environment — trust for loopback TCP and a database "test" (server tests create and drop their
# own databases from there; MOODLENS_TEST_PG overrides the URL).
if [ "$installed_pg" = 1 ] && have_pg; then
  v="$(ls /etc/postgresql | head -1)"; hba="/etc/postgresql/$v/main/pg_hba.conf"
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba" 2>/dev/null; then
    echo 'host all all 127.0.0.1/32 trust' | $SUDO sh -c "cat - '$hba' > '$hba.new' && mv '$hba.new' '$hba'" && $SUDO pg_ctlcluster --skip-systemctl-redirect "$v" main reload 2>/dev/null || true
  fi
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" 2>/dev/null | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null 2>&1 || true
fi
have_pg && echo "setup: PostgreSQL is up on 127.0.0.1:5432" || echo "setup: PostgreSQL not available; its tests will skip"
# Chromium for the browser tests (test/web: playwright-core drives Debian's chromium).
if ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing Chromium (Debian package)…"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; } || echo "setup: could not install Chromium; the browser tests will skip"
fi
command -v chromium >/dev/null 2>&1 && echo "setup: Chromium at $(command -v chromium)" || echo "setup: Chromium not available; browser tests will skip"
# ffmpeg for the server's decoding of speech uploads that are not WAV (serve --ffmpeg; test/server/speech-decode).
if ! command -v ffmpeg >/dev/null 2>&1; then
  echo "setup: installing ffmpeg (Debian package)…"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null; } || echo "setup: could not install ffmpeg; the speech decode tests will skip"
fi
command -v ffmpeg >/dev/null 2>&1 && echo "setup: ffmpeg at $(command -v ffmpeg)" || echo "setup: ffmpeg not available; speech decode tests will skip"
exit 0
