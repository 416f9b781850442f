#!/usr/bin/env bash
# Builds the container images a kubeadm v1.34 control plane runs, tagged
# exactly as kubeadm asks for them, and saves each as a docker-archive tarball:
#   registry.k8s.io/kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy:$K8S_VERSION
#   registry.k8s.io/etcd:$ETCD_IMAGE_TAG
#   registry.k8s.io/coredns/coredns:$COREDNS_VERSION
#   registry.k8s.io/pause:$PAUSE_VERSION
#
# Why: this sandbox cannot pull from any registry. etcd (wrapper module, since
# etcd's own modules carry replace directives) and coredns are compiled from
# the Go module proxy, pause from images/pause.c; the Kubernetes binaries come
# from build-k8s.sh. Static binaries go into FROM-scratch images; kube-proxy
# needs iptables/conntrack, so its base is a debootstrap rootfs.
# Only for the registry-less sandbox; see README.md.
#
# Output: $E2E_CACHE/images-<key>/<name>.tar (+ .done). Binaries are cached per
# version under $E2E_CACHE, so a warm machine rebuilds nothing.
# Prints the output directory on stdout.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"

KEY="$(cat "$HERE/versions.env" "$0" "$HERE"/images/* | sha256sum | cut -c1-12)"
OUT="$E2E_CACHE/images-$KEY"
echo "$OUT"
[ -f "$OUT/.done" ] && { log "images cached in $OUT"; exit 0; }

exec 6>"$E2E_CACHE/.build-images.lock"; flock 6
[ -f "$OUT/.done" ] && exit 0
ensure_docker
go_env

# ---- binaries ---------------------------------------------------------------
ETCD_DIR="$E2E_CACHE/etcd-$ETCD_VERSION"
build_etcd() {
  [ -x "$ETCD_DIR/bin/etcd" ] && [ -x "$ETCD_DIR/bin/etcdctl" ] && { log "etcd cached"; return 0; }
  local work="$ETCD_DIR.work"; rm -rf "$work"; mkdir -p "$work"
  # etcd's go.mod files replace their sibling modules with ../ paths, so
  # `go install go.etcd.io/etcd/server/v3@...` refuses; a wrapper module does not.
  cat >"$work/go.mod" <<EOM
module tandem.local/etcd-build

go 1.24

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdutl/v3 $ETCD_VERSION
)
EOM
  cat >"$work/tools.go" <<'EOM'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
	_ "go.etcd.io/etcd/server/v3"
)
EOM
  (cd "$work" && GOFLAGS="-mod=mod" go mod tidy >tidy.log 2>&1) || { cat "$work/tidy.log" >&2; return 1; }
  mkdir -p "$work/bin"
  (cd "$work" && CGO_ENABLED=0 nice -n 15 go build -p "$GO_PARALLEL" -trimpath -ldflags "-s -w" \
    -o bin/ go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3)
  mv "$work/bin/server" "$work/bin/etcd"
  grep -q "etcd Version: ${ETCD_VERSION#v}" <<<"$("$work/bin/etcd" --version)" || die "etcd reports wrong version"
  rm -rf "$ETCD_DIR"; mkdir -p "$ETCD_DIR"; mv "$work/bin" "$ETCD_DIR/bin"; rm -rf "$work"
}

COREDNS_DIR="$E2E_CACHE/coredns-$COREDNS_VERSION"
build_coredns() {
  [ -x "$COREDNS_DIR/coredns" ] && { log "coredns cached"; return 0; }
  mkdir -p "$COREDNS_DIR.work"
  CGO_ENABLED=0 GOBIN="$COREDNS_DIR.work" nice -n 15 go install -p "$GO_PARALLEL" -trimpath -ldflags "-s -w" \
    "github.com/coredns/coredns@$COREDNS_VERSION"
  grep -q "CoreDNS-${COREDNS_VERSION#v}" <<<"$("$COREDNS_DIR.work/coredns" -version)" || die "coredns reports wrong version"
  rm -rf "$COREDNS_DIR"; mv "$COREDNS_DIR.work" "$COREDNS_DIR"
}

PAUSE_DIR="$E2E_CACHE/pause-$PAUSE_VERSION-$(sha256sum "$HERE/images/pause.c" | cut -c1-8)"
build_pause() {
  [ -x "$PAUSE_DIR/pause" ] && { log "pause cached"; return 0; }
  mkdir -p "$PAUSE_DIR.work"
  gcc -static -O2 -s -o "$PAUSE_DIR.work/pause" "$HERE/images/pause.c"
  rm -rf "$PAUSE_DIR"; mv "$PAUSE_DIR.work" "$PAUSE_DIR"
}

K8S_BIN="$E2E_CACHE/k8s-$K8S_VERSION/bin"
stage k8s-binaries "$HERE/build-k8s.sh"
stage etcd build_etcd
stage coredns build_coredns
stage pause build_pause
PROXY_ROOTFS="$(stage rootfs-kube-proxy "$HERE/build-rootfs.sh" kube-proxy)"

# ---- images -----------------------------------------------------------------
CTX="$(mktemp -d "$E2E_CACHE/images-ctx.XXXXXX")"
trap 'rm -rf "$CTX"' EXIT
# Minimal filesystem for the FROM-scratch images (like distroless/static):
# users, nsswitch, a writable /tmp.
mkdir -p "$CTX/static/etc" "$CTX/static/tmp" "$CTX/static/var/run"
chmod 1777 "$CTX/static/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$CTX/static/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$CTX/static/etc/group"
printf 'hosts: files dns\n' >"$CTX/static/etc/nsswitch.conf"

# scratch_image TAG ENTRYPOINT-JSON USER FILE...
scratch_image() {
  local tag="$1" entry="$2" user="$3"; shift 3
  local d; d="$(mktemp -d "$CTX/img.XXXXXX")"
  cp -a "$CTX/static" "$d/static"
  mkdir -p "$d/bin"; cp "$@" "$d/bin/"
  {
    echo "FROM scratch"
    echo "COPY static/ /"
    echo "COPY bin/ /usr/local/bin/"
    echo "ENV PATH=/usr/local/bin:/usr/bin:/bin"
    [ -n "$entry" ] && echo "ENTRYPOINT $entry"
    [ -n "$user" ] && echo "USER $user"
  } >"$d/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$d" >/dev/null 2>"$d/build.log" || { cat "$d/build.log" >&2; return 1; }
}

build_all_images() {
  scratch_image "registry.k8s.io/kube-apiserver:$K8S_VERSION" '["/usr/local/bin/kube-apiserver"]' "" "$K8S_BIN/kube-apiserver"
  scratch_image "registry.k8s.io/kube-controller-manager:$K8S_VERSION" '["/usr/local/bin/kube-controller-manager"]' "" "$K8S_BIN/kube-controller-manager"
  scratch_image "registry.k8s.io/kube-scheduler:$K8S_VERSION" '["/usr/local/bin/kube-scheduler"]' "" "$K8S_BIN/kube-scheduler"
  scratch_image "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" '["/usr/local/bin/etcd"]' "" "$ETCD_DIR"/bin/*
  scratch_image "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" '["/usr/local/bin/coredns"]' "" "$COREDNS_DIR/coredns"
  scratch_image "registry.k8s.io/pause:$PAUSE_VERSION" '["/usr/local/bin/pause"]' "65535:65535" "$PAUSE_DIR/pause"

  # kube-proxy: Debian rootfs with iptables/conntrack. kubeadm runs
  # /usr/local/bin/kube-proxy; that is a small wrapper which first picks the
  # iptables backend (legacy or nft) already in use on the node, like
  # upstream's iptables-wrapper, then execs the real binary.
  local base="tandem-kube-proxy-base:$(basename "$PROXY_ROOTFS" .tar)"
  docker image inspect "$base" >/dev/null 2>&1 || docker import "$PROXY_ROOTFS" "$base" >/dev/null
  local d="$CTX/kube-proxy"; mkdir -p "$d"
  cp "$K8S_BIN/kube-proxy" "$d/kube-proxy.real"
  cp "$HERE/images/kube-proxy-wrapper.sh" "$d/kube-proxy"
  cat >"$d/Dockerfile" <<EOM
FROM $base
COPY kube-proxy.real kube-proxy /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/kube-proxy"]
EOM
  DOCKER_BUILDKIT=0 docker build -q -t "registry.k8s.io/kube-proxy:$K8S_VERSION" "$d" >/dev/null 2>"$d/build.log" || { cat "$d/build.log" >&2; return 1; }

  rm -rf "$OUT" "$OUT.tmp"; mkdir -p "$OUT.tmp"
  local img name
  for img in "registry.k8s.io/kube-apiserver:$K8S_VERSION" "registry.k8s.io/kube-controller-manager:$K8S_VERSION" \
    "registry.k8s.io/kube-scheduler:$K8S_VERSION" "registry.k8s.io/kube-proxy:$K8S_VERSION" \
    "registry.k8s.io/etcd:$ETCD_IMAGE_TAG" "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" \
    "registry.k8s.io/pause:$PAUSE_VERSION"; do
    name="${img##*/}"; name="${name%%:*}"
    docker save -o "$OUT.tmp/$name.tar" "$img"
    echo "$img" >>"$OUT.tmp/images.txt"
  done
  touch "$OUT.tmp/.done"
  mv "$OUT.tmp" "$OUT"
}
stage images build_all_images >&2
# Image sets of other keys (older versions or recipes) are superseded.
find "$E2E_CACHE" -maxdepth 1 -type d -name 'images-*' ! -name "images-$KEY" ! -name 'images-ctx.*' -exec rm -rf {} +
log "images -> $OUT ($(du -sh "$OUT" | cut -f1))"
