#!/usr/bin/env bash
# Builds local/postgres:15 (docker/postgres/Dockerfile): PostgreSQL from Debian's packages, for
# machines that cannot pull the official postgres image (CI, the offline Kubernetes e2e).
# Usage: docker/postgres/build.sh [tag]    (default local/postgres:15; BASE_IMAGE, PG_MAJOR override)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
exec "$HERE/../build-local-image.sh" "$HERE" "${1:-${POSTGRES_IMAGE:-local/postgres:15}}" "PG_MAJOR=${PG_MAJOR:-15}"
