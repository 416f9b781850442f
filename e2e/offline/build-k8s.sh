#!/usr/bin/env bash
# Builds the Kubernetes server binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, kube-proxy, kubelet, kubeadm) and kubectl from the Go module
# proxy.
#
# Why: this sandbox reaches no image registry, no GitHub and no dl.k8s.io, so
# the release tarballs and kindest/node images cannot be downloaded. The Go
# module proxy does serve k8s.io/kubernetes, but its go.mod replaces ~30
# k8s.io/* staging modules with ./staging/... paths that are not in the module
# zip, so `go install k8s.io/kubernetes/cmd/...@v1.34.N` refuses. A throw-away
# wrapper module that requires k8s.io/kubernetes and replaces every staging
# module with its published v0.34.N release builds fine.
# Only for this registry-less sandbox; anywhere else use the official releases.
#
# Output: $TANDEM_CACHE_DIR/e2e/k8s-$K8S_VERSION/bin/{binaries}. Skipped when
# already there (a warm machine rebuilds nothing).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$HERE/versions.env"
. "$HERE/lib.sh"

OUT="$E2E_CACHE/k8s-$K8S_VERSION"
BINS=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl)

have_all() { for b in "${BINS[@]}"; do [ -x "$OUT/bin/$b" ] || return 1; done; }
if have_all; then log "k8s $K8S_VERSION binaries cached in $OUT/bin"; exit 0; fi

exec 8>"$E2E_CACHE/.build-k8s.lock"
flock 8
if have_all; then exit 0; fi

go_env
WORK="$E2E_CACHE/k8s-$K8S_VERSION.work"
rm -rf "$WORK"; mkdir -p "$WORK"
cd "$WORK"

# The staging modules k8s.io/kubernetes declares at v0.0.0.
STAGING=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
  cloud-provider cluster-bootstrap code-generator component-base component-helpers
  controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
  endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
  kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
  sample-apiserver)
{
  echo "module tandem.local/k8s-build"
  echo
  # Same language version and GODEBUG defaults as upstream's own go.mod.
  echo "go 1.24.0"
  echo
  echo "godebug default=go1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  for m in "${STAGING[@]}"; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING_VERSION"; done
  echo ")"
} > go.mod
cat > tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
EOF

t0=$(date +%s)
log "resolving modules for k8s.io/kubernetes $K8S_VERSION"
GOFLAGS="-mod=mod" go mod tidy -e >"$WORK/tidy.log" 2>&1 || { cat "$WORK/tidy.log" >&2; exit 1; }

# Version stamping, as hack/lib/version.sh does it. kubeadm reads this to pick
# the control-plane image tags, and refuses to work with an unset version.
COMMIT="$(sed -n 's/.*"Hash":"\([0-9a-f]*\)".*/\1/p' "$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info" 2>/dev/null || true)"
COMMIT="${COMMIT:-0000000000000000000000000000000000000000}"
MAJOR="${K8S_VERSION#v}"; MAJOR="${MAJOR%%.*}"
MINOR="${K8S_VERSION#v*.}"; MINOR="${MINOR%%.*}"
BUILD_DATE="$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)"
LDF=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitCommit=$COMMIT -X $pkg.gitTreeState=clean"
  LDF+=" -X $pkg.buildDate=$BUILD_DATE -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
done

mkdir -p "$WORK/bin"
pkgs=(); for b in "${BINS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
log "compiling ${BINS[*]} (nice 15, -p $GO_PARALLEL; 20-40 min cold on 2 cores)"
CGO_ENABLED=0 nice -n 15 go build -p "$GO_PARALLEL" -trimpath \
  -tags 'selinux,notest' \
  -ldflags "-s -w $LDF" -o "$WORK/bin/" "${pkgs[@]}"

[ "$("$WORK/bin/kubeadm" version -o short)" = "$K8S_VERSION" ] || die "kubeadm reports wrong version"
rm -rf "$OUT"; mkdir -p "$OUT"
mv "$WORK/bin" "$OUT/bin"
echo "$K8S_VERSION" > "$OUT/version"
rm -rf "$WORK"
log "k8s $K8S_VERSION binaries built in $(( $(date +%s) - t0 ))s -> $OUT/bin"
