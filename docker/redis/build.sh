#!/usr/bin/env bash
# Builds local/redis:7 (docker/redis/Dockerfile): Debian's redis-server, for machines that cannot
# pull the official redis image (CI, the offline Kubernetes e2e).
# Usage: docker/redis/build.sh [tag]    (default local/redis:7; BASE_IMAGE overrides the base)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
exec "$HERE/../build-local-image.sh" "$HERE" "${1:-${REDIS_IMAGE:-local/redis:7}}"
