#!/usr/bin/env bash
# Makes sure redis-server is installed: the fleet integration tests start a
# real one on loopback (app/test-support/redis.ts), as they start Postgres.
# Debian/Ubuntu as root: installs Debian's redis-server when missing (apt does
# not start it here: there is no init system, and the tests run their own).
# Elsewhere it only says what is missing; REDIS_SERVER may name a binary.
set -euo pipefail

if [ -n "${REDIS_SERVER:-}" ] && [ -x "$REDIS_SERVER" ]; then exit 0; fi
if command -v redis-server >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-redis: installing Debian's redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  service redis-server stop >/dev/null 2>&1 || true
  exit 0
fi
echo "ensure-redis: redis-server not found. Install Redis 6+ (or Valkey) or set REDIS_SERVER to its redis-server binary." >&2
exit 1
