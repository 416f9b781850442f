#!/usr/bin/env bash
# Builds one of the stand-in images in docker/<name>/ on top of the debootstrap-built
# local/debian:bookworm, for machines that cannot pull images (CI, the offline Kubernetes e2e).
# Usage: docker/build-local-image.sh DIR TAG [BUILD_ARG=VALUE ...]   (BASE_IMAGE overrides the base)
# The image is rebuilt when its inputs change (a label carries their hash), not only when missing.
set -euo pipefail

DIR="$(cd "$1" && pwd)"
TAG="$2"
shift 2
BASE_IMAGE="${BASE_IMAGE:-local/debian:bookworm}"
SCRIPTS="$(cd "$(dirname "$0")/../scripts" && pwd)"
NAME="$(basename "$DIR")"

ARGS=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
for arg in "$@"; do ARGS+=(--build-arg "$arg"); done
HASH="$(find "$DIR" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)-$BASE_IMAGE-$*"

"$SCRIPTS/ensure-docker.sh"
if [ "${REBUILD:-0}" != 1 ] &&
  [ "$(docker image inspect -f '{{index .Config.Labels "dev.tandem.build-inputs"}}' "$TAG" 2>/dev/null || true)" = "$HASH" ]; then
  echo "$NAME-image: $TAG up to date" >&2
  exit 0
fi
if [ "$BASE_IMAGE" = local/debian:bookworm ]; then "$SCRIPTS/build-debian-base.sh" "$BASE_IMAGE"; fi

# These Dockerfiles need no BuildKit feature; BuildKit is preferred where there is one (buildx, or
# a docker CLI older than 23 with its built-in BuildKit, such as Debian's docker.io 20.10 in
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
echo "$NAME-image: building $TAG on $BASE_IMAGE" >&2
"${BUILD[@]}" -q "${ARGS[@]}" --label "dev.tandem.build-inputs=$HASH" -t "$TAG" "$DIR" >/dev/null
echo "$NAME-image: $TAG ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
