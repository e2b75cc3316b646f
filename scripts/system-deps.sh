#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when they are missing.
# Headless Chromium renders the governance report; PostgreSQL 15 backs the server tests
# (tests/servers.py starts its own throw-away cluster on loopback, as the `postgres` user,
# since PostgreSQL refuses to run as root and CI runs as root).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  # PostgreSQL 15 is Debian 12's; a later Debian offers only its own major version, which the
  # harness also accepts.
  if apt-cache show postgresql-15 >/dev/null 2>&1; then need+=(postgresql-15); else need+=(postgresql); fi
fi
if [ "$(id -u)" != 0 ]; then
  if [ ${#need[@]} -gt 0 ]; then
    echo "takehold: please install ${need[*]} (Debian packages) for the browser and server tests" >&2
  fi
  exit 0
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "takehold: installing ${need[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  if [[ " ${need[*]} " == *" postgresql"* ]]; then
    # The tests start their own cluster: no system-wide cluster listening on port 5432
    # (the same step as the official postgres container image).
    apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
    sed -ri 's/^#?\s*(create_main_cluster)\s*=.*$/\1 = false/' /etc/postgresql-common/createcluster.conf
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package creates the postgres user; binaries copied in without it need one.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! id -u postgres >/dev/null 2>&1; then
  echo "takehold: creating the postgres system user ..."
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
fi
