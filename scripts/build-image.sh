#!/usr/bin/env bash
# Builds the tandem container image (default tag tandem:dev) with BuildKit.
#
#   scripts/build-image.sh [tag]        (make image)
#
# Env:
#   NODE_IMAGE   base image with Node 22 + npm. Unset: node:22-bookworm-slim when it is present or
#                can be pulled, else the local stand-in local/node:22-bookworm-slim, built by
#                scripts/build-node-base.sh (for machines without an image registry).
#   CA_BUNDLE    CA certificates handed to npm inside the build as the optional BuildKit secret
#                `ca_bundle` (default /etc/ssl/certs/ca-certificates.crt when it exists; set it to
#                an empty string to pass none).
#   DOCKER_BUILD_ARGS   extra arguments for the build command (e.g. --no-cache).
set -euo pipefail

TAG="${1:-${IMAGE:-tandem:dev}}"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
OFFICIAL_NODE_IMAGE="node:22-bookworm-slim"
STANDIN_NODE_IMAGE="local/node:22-bookworm-slim"
CA_BUNDLE="${CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"

log() { echo "build-image: $*" >&2; }
major() { local v="${1#v}"; echo "${v%%.*}"; }

"$HERE/ensure-docker.sh"

# --- the base image ----------------------------------------------------------------------------
have() { docker image inspect "$1" >/dev/null 2>&1; }
if [ -n "${NODE_IMAGE:-}" ]; then
  have "$NODE_IMAGE" || docker pull "$NODE_IMAGE" >&2 || {
    log "NODE_IMAGE=$NODE_IMAGE is neither present nor pullable"
    exit 1
  }
elif have "$OFFICIAL_NODE_IMAGE"; then
  NODE_IMAGE="$OFFICIAL_NODE_IMAGE"
elif have "$STANDIN_NODE_IMAGE"; then
  NODE_IMAGE="$STANDIN_NODE_IMAGE"
elif timeout 300 docker pull "$OFFICIAL_NODE_IMAGE" >/dev/null 2>&1; then
  NODE_IMAGE="$OFFICIAL_NODE_IMAGE"
else
  log "$OFFICIAL_NODE_IMAGE cannot be pulled: building the local stand-in $STANDIN_NODE_IMAGE"
  "$HERE/build-node-base.sh" "$STANDIN_NODE_IMAGE"
  NODE_IMAGE="$STANDIN_NODE_IMAGE"
fi
log "base image: $NODE_IMAGE"

# --- a BuildKit-capable build command ----------------------------------------------------------
# Docker >= 23 builds with BuildKit through the buildx plugin. Debian bookworm's docker.io (20.10)
# has BuildKit built in (DOCKER_BUILDKIT=1) and no buildx. A newer CLI without buildx in front of
# a 20.10 engine (as on this project's machines, where /usr/local/bin/docker is a 28.x client)
# cannot use BuildKit, so fall back to the engine's own 20.10 client when it is there.
BUILD=()
if docker buildx version >/dev/null 2>&1; then
  BUILD=(docker buildx build --load)
else
  for cli in docker /usr/bin/docker; do
    command -v "$cli" >/dev/null 2>&1 || continue
    v="$("$cli" version --format '{{.Client.Version}}' 2>/dev/null || true)"
    if [ -n "$v" ] && [ "$(major "$v")" -lt 23 ]; then
      BUILD=(env DOCKER_BUILDKIT=1 "$cli" build)
      break
    fi
  done
fi
if [ "${#BUILD[@]}" -eq 0 ]; then
  log "no BuildKit-capable docker build here: install the buildx plugin (docker-buildx-plugin) and retry"
  exit 1
fi

# --- build -------------------------------------------------------------------------------------
SECRET=()
if [ -n "$CA_BUNDLE" ] && [ -s "$CA_BUNDLE" ]; then
  SECRET=(--secret "id=ca_bundle,src=$CA_BUNDLE")
fi
VERSION="$(node -p 'require(process.argv[1]).version' "$ROOT/package.json" 2>/dev/null ||
  sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json")"
REVISION="$(git -C "$ROOT" rev-parse --verify -q HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null || true)" ]; then REVISION="$REVISION-dirty"; fi
# The commit's time, not the build's: rebuilding an unchanged tree gives the same image.
CREATED="$(TZ=UTC0 git -C "$ROOT" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null ||
  date -u +%Y-%m-%dT%H:%M:%SZ)"

log "${BUILD[*]} -> $TAG"
start=$(date +%s)
# shellcheck disable=SC2086 # DOCKER_BUILD_ARGS is a list of words on purpose
"${BUILD[@]}" \
  --progress=plain \
  --build-arg "NODE_IMAGE=$NODE_IMAGE" \
  --build-arg "VERSION=$VERSION" \
  --build-arg "REVISION=$REVISION" \
  --build-arg "CREATED=$CREATED" \
  "${SECRET[@]}" \
  ${DOCKER_BUILD_ARGS:-} \
  -t "$TAG" \
  -f "$ROOT/Dockerfile" \
  "$ROOT" >&2
elapsed=$(($(date +%s) - start))

size="$(docker image inspect -f '{{.Size}}' "$TAG")"
echo "build-image: $TAG built in ${elapsed}s, size $(awk -v s="$size" 'BEGIN{printf "%.0f MB", s/1e6}') ($size bytes), base $NODE_IMAGE"
