#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries are installed for the tests that run against a real server
# (apps/sync-service starts a throw-away cluster from them). Idempotent: does nothing when a
# /usr/lib/postgresql/<version>/bin/postgres exists. Installs Debian's `postgresql` package
# otherwise (needs root, as on CI). It never starts the distribution's cluster: the tests run
# their own server in a temporary directory. Prints the bin directory on its last line.
set -euo pipefail

find_bin_directory() {
  local newest=""
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/postgres" ] && [ -x "$candidate/initdb" ] || continue
    if [ -z "$newest" ] || [ "$(basename "$(dirname "$candidate")")" -gt "$(basename "$(dirname "$newest")")" ] 2>/dev/null; then
      newest="$candidate"
    fi
  done
  printf '%s' "$newest"
}

bin_directory="$(find_bin_directory)"
if [ -n "$bin_directory" ]; then
  echo "ensure-postgres: PostgreSQL is installed in $bin_directory" >&2
else
  if [ -n "${TEST_DATABASE_URL:-}" ]; then
    echo "ensure-postgres: no local PostgreSQL, but TEST_DATABASE_URL is set: the tests use that server" >&2
    exit 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-postgres: PostgreSQL is not installed and this is not root." >&2
    echo "  Install it (Debian/Ubuntu: sudo apt-get install -y --no-install-recommends postgresql)" >&2
    echo "  or set TEST_DATABASE_URL=postgres://user:password@host:5432/postgres" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Debian's maintainer scripts would start the packaged cluster through invoke-rc.d; a policy-rc.d
  # that answers 101 ("action forbidden") keeps every service stopped during the install.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  echo "ensure-postgres: PostgreSQL is not installed; running apt-get update" >&2
  apt-get update -qq
  echo "ensure-postgres: apt-get install -y --no-install-recommends postgresql" >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bin_directory="$(find_bin_directory)"
  if [ -z "$bin_directory" ]; then
    echo "ensure-postgres: the postgresql package installed no /usr/lib/postgresql/*/bin/postgres" >&2
    exit 1
  fi
  echo "ensure-postgres: installed PostgreSQL in $bin_directory" >&2
fi
echo "$bin_directory"
