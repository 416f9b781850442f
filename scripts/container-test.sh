#!/usr/bin/env bash
# make container-test: the image against a real primary + streaming replica on loopback.
# Builds tandem:dev only when it is missing (scripts/build-image.sh), installs PostgreSQL and the
# node dependencies when missing, then runs scripts/container-test.ts (one PASS/FAIL line per
# check, "N passed, N failed" at the end, non-zero exit on failure).
# Env: IMAGE (tandem:dev); REBUILD=1 rebuilds the image first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export IMAGE="${IMAGE:-tandem:dev}"

scripts/ensure-docker.sh
if [ "${REBUILD:-0}" = 1 ] || ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  scripts/build-image.sh "$IMAGE"
fi

# PostgreSQL server binaries for the local pair (Debian's postgresql 15).
if [ -x scripts/ensure-postgres.sh ]; then
  scripts/ensure-postgres.sh
elif ! ls /usr/lib/postgresql/*/bin/pg_basebackup >/dev/null 2>&1; then
  echo "container-test: installing postgresql" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
[ -d node_modules/tsx ] || npm ci --no-audit --no-fund

exec node --import tsx scripts/container-test.ts
