#!/usr/bin/env bash
# Builds a Debian bookworm root filesystem with debootstrap (minbase + the
# packages named for NAME) and caches it as a tarball.
#   build-rootfs.sh node       -> the kind node base: systemd, Debian's
#                                 containerd 1.6 / runc / CNI plugins, iptables...
#   build-rootfs.sh kube-proxy -> base of the kube-proxy image: iptables, conntrack
#
# Why: kindest/base and registry.k8s.io/kube-proxy's distroless-iptables base
# cannot be pulled here (no image registry), and kindest/base's Dockerfile
# compiles containerd/runc from GitHub, which is unreachable too. Debian's
# archive is reachable, so the node is made of Debian's packages.
# Only for the registry-less sandbox; see README.md.
#
# Prints the tarball path ($E2E_CACHE/rootfs-NAME-<key>.tar) on stdout; reuses
# it when present.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"

NAME="${1:?usage: build-rootfs.sh node|kube-proxy}"
case "$NAME" in
  node) PACKAGES=(systemd dbus containerd runc containernetworking-plugins
          conntrack iptables nftables iproute2 ethtool util-linux mount kmod
          libseccomp2 pigz bash ca-certificates curl jq procps iputils-ping) ;;
  kube-proxy) PACKAGES=(iptables conntrack nftables ipset kmod) ;;
  *) die "unknown rootfs $NAME" ;;
esac
KEY="$(printf '%s\n' "$NAME" "${PACKAGES[@]}" bookworm | sha256sum | cut -c1-12)"
OUT="$E2E_CACHE/rootfs-$NAME-$KEY.tar"
echo "$OUT"   # callers read the path from stdout
[ -s "$OUT" ] && { log "rootfs $NAME cached: $OUT"; exit 0; }

exec 7>"$E2E_CACHE/.rootfs-$NAME.lock"; flock 7
[ -s "$OUT" ] && exit 0
command -v debootstrap >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
ROOT="$(mktemp -d "$E2E_CACHE/rootfs-$NAME.XXXXXX")"
trap 'rm -rf "$ROOT"' EXIT
t0=$(date +%s)
log "debootstrap bookworm minbase + ${PACKAGES[*]}"
include="$(IFS=,; echo "${PACKAGES[*]}")"
debootstrap --variant=minbase --include="$include" bookworm "$ROOT" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$ROOT.log" 2>&1 \
  || { tail -30 "$ROOT.log" >&2; die "debootstrap failed (log $ROOT.log)"; }
rm -f "$ROOT.log"
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
  "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*
tar -C "$ROOT" --numeric-owner -cf "$OUT.tmp" .
mv "$OUT.tmp" "$OUT"
log "rootfs $NAME built in $(( $(date +%s) - t0 ))s -> $OUT ($(du -sh "$OUT" | cut -f1))"
