#!/usr/bin/env bash
# Builds local/debian:bookworm from Debian's archive with debootstrap, for
# machines that cannot pull from an image registry. The result is cached as a
# tarball outside the repo so a warm machine only re-imports it.
# Usage: scripts/build-debian-base.sh [image-tag]   (default local/debian:bookworm)
set -euo pipefail

TAG="${1:-local/debian:bookworm}"
CACHE_DIR="${TANDEM_CACHE_DIR:-/var/cache/tandem}"
TARBALL="$CACHE_DIR/debian-bookworm-minbase.tar"

"$(dirname "$0")/ensure-docker.sh"
if docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.debian-base.lock"
flock 9
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  ROOT="$(mktemp -d)"
  trap 'rm -rf "$ROOT"' EXIT
  echo "build-debian-base: debootstrap bookworm (about a minute)" >&2
  debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian >/dev/null
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb
  tar -C "$ROOT" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi
docker image inspect "$TAG" >/dev/null 2>&1 || docker import "$TARBALL" "$TAG" >/dev/null
echo "build-debian-base: $TAG ready" >&2
