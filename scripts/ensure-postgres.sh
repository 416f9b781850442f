#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are
# installed: the local primary + streaming replica of `make run` and the
# integration tests are started from them (app/dev/local-pair.ts).
# Debian/Ubuntu: installs Debian's postgresql package when missing. Elsewhere
# it only says what is missing; set PG_BIN to a bin directory to use another build.
set -euo pipefail

if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/pg_basebackup" ]; then exit 0; fi
if ls /usr/lib/postgresql/*/bin/pg_basebackup >/dev/null 2>&1; then exit 0; fi
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_basebackup" ]; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-postgres: installing Debian's postgresql (server, pg_basebackup, pg_stat_statements)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package starts a cluster of its own on :5432; tandem doesn't use it.
  service postgresql stop >/dev/null 2>&1 || true
  exit 0
fi
echo "ensure-postgres: PostgreSQL server binaries not found. Install PostgreSQL 14+ (with pg_basebackup and pg_stat_statements) or set PG_BIN." >&2
exit 1
