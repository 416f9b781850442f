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

# The image is rebuilt when its inputs change (a label carries their hash), not only when missing.
HASH="$(cat "$HERE/Dockerfile" "$HERE/entrypoint.sh" | sha256sum | cut -c1-16)-$BASE_IMAGE-$PG_MAJOR"

"$SCRIPTS/ensure-docker.sh"
if [ "${REBUILD:-0}" != 1 ] &&
  [ "$(docker image inspect -f '{{index .Config.Labels "dev.tandem.build-inputs"}}' "$TAG" 2>/dev/null || true)" = "$HASH" ]; then
  echo "postgres-image: $TAG up to date" >&2
  exit 0
fi
if [ "$BASE_IMAGE" = local/debian:bookworm ]; then "$SCRIPTS/build-debian-base.sh" "$BASE_IMAGE"; fi

# This Dockerfile needs no BuildKit feature; BuildKit is preferred where there is one (buildx, or a
# docker CLI older than 23 with its built-in BuildKit, such as Debian's docker.io 20.10 in
# /usr/bin/docker behind a newer CLI without buildx), else the legacy builder.
BUILD=(env DOCKER_BUILDKIT=0 docker build)
if docker buildx version >/dev/null 2>&1; then
  BUILD=(docker buildx build --load)
else
  for cli in docker /usr/bin/docker; do
    v="$("$cli" version --format '{{.Client.Version}}' 2>/dev/null || true)"
    if [ -n "$v" ] && [ "${v%%.*}" -lt 23 ]; then
      BUILD=(env DOCKER_BUILDKIT=1 "$cli" build)
      break
    fi
  done
fi
echo "postgres-image: building $TAG (PostgreSQL $PG_MAJOR from Debian on $BASE_IMAGE)" >&2
"${BUILD[@]}" -q --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "PG_MAJOR=$PG_MAJOR" \
  --label "dev.tandem.build-inputs=$HASH" -t "$TAG" "$HERE" >/dev/null
echo "postgres-image: $TAG ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
