#!/usr/bin/env bash
# Builds local/postgres:15 (docker/postgres/Dockerfile) on top of the debootstrap-built
# local/debian:bookworm, for machines that cannot pull images (CI, the offline Kubernetes e2e).
# Usage: docker/postgres/build.sh [tag]    (default local/postgres:15; BASE_IMAGE, PG_MAJOR override)
set -euo pipefail

TAG="${1:-${POSTGRES_IMAGE:-local/postgres:15}}"
BASE_IMAGE="${BASE_IMAGE:-local/debian:bookworm}"
PG_MAJOR="${PG_MAJOR:-15}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SCRIPTS="$(cd "$HERE/../../scripts" && pwd)"

"$SCRIPTS/ensure-docker.sh"
if [ "${REBUILD:-0}" != 1 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "postgres-image: $TAG already present" >&2
  exit 0
fi
if [ "$BASE_IMAGE" = local/debian:bookworm ]; then "$SCRIPTS/build-debian-base.sh" "$BASE_IMAGE"; fi

# This Dockerfile needs no BuildKit feature: buildx when there, else whichever builder the
# docker CLI has (a 28.x CLI without buildx still has the legacy builder).
if docker buildx version >/dev/null 2>&1; then
  BUILD=(docker buildx build --load)
else
  BUILD=(env DOCKER_BUILDKIT=0 docker build)
  v="$(docker version --format '{{.Client.Version}}' 2>/dev/null || echo 0)"
  if [ "${v%%.*}" -lt 23 ]; then BUILD=(env DOCKER_BUILDKIT=1 docker build); fi
fi
echo "postgres-image: building $TAG (PostgreSQL $PG_MAJOR from Debian on $BASE_IMAGE)" >&2
"${BUILD[@]}" -q --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "PG_MAJOR=$PG_MAJOR" -t "$TAG" "$HERE" >/dev/null
echo "postgres-image: $TAG ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
