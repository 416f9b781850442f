#!/usr/bin/env bash
# Makes sure redis-server is installed: the fleet integration tests start a
# real one on loopback (app/test-support/redis.ts), as they start Postgres.
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-tool.sh" redis-server redis-server REDIS_SERVER \
  "Install Redis 6+ (or Valkey) or set REDIS_SERVER to its redis-server binary."
