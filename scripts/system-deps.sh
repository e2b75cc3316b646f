#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
# Headless Chromium renders the governance report; PostgreSQL 15 backs the server tests.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "takehold: please install ${need[*]} (Debian packages) for the browser and server tests" >&2
  exit 0
fi
echo "takehold: installing ${need[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
