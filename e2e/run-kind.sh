#!/usr/bin/env bash
# make e2e — the Kubernetes e2e suite (every e2e/*.test.ts, one file at a time) on a throw-away kind cluster, for a
# machine with Docker and internet access (a laptop, a GitHub runner):
#   1. kind create cluster (kind's official node image for its version, or KIND_NODE_IMAGE)
#   2. make image (tandem:dev), docker pull postgres:16 and redis:7 (when not present)
#   3. kind load docker-image of both
#   4. the suite against the cluster (its own kubeconfig; your current context is not touched)
#   5. kind delete cluster (always, unless E2E_KEEP=1)
# Prints "==> stage NAME took Ns" per stage.
#
# Needs: docker, kind (on PATH, or built with `go install` when Go is there), helm (on PATH, or
# the pinned one from scripts/install-chart-tools.sh), Node >= 20.19 + npm.
# Env: KIND_CLUSTER (tandem-e2e-kind), KIND_NODE_IMAGE, KIND (kind), TANDEM_IMAGE (tandem:dev),
# POSTGRES_IMAGE (postgres:16), REDIS_IMAGE (redis:7), E2E_KEEP=1 keeps the cluster and the test namespace.
# Registry-less machines: use `make e2e-offline` (e2e/offline/run.sh) instead.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

KIND_VERSION=v0.32.0
CLUSTER="${KIND_CLUSTER:-tandem-e2e-kind}"
export TANDEM_IMAGE="${TANDEM_IMAGE:-tandem:dev}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-postgres:16}"
export REDIS_IMAGE="${REDIS_IMAGE:-redis:7}"
KUBECONFIG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tandem-e2e-kind.XXXXXX")"
export KUBECONFIG="$KUBECONFIG_DIR/kubeconfig"
T_ALL=$(date +%s)
CREATED=0

stage() {
  local name="$1" t0 rc=0
  shift
  t0=$(date +%s)
  echo "==> stage $name" >&2
  "$@" || rc=$?
  echo "==> stage $name took $(($(date +%s) - t0))s$([ "$rc" = 0 ] || echo " (FAILED, exit $rc)")" >&2
  return "$rc"
}

teardown() {
  local rc=$?
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    echo "e2e: E2E_KEEP=1, kind cluster $CLUSTER kept (KUBECONFIG=$KUBECONFIG)" >&2
  elif [ "$CREATED" = 1 ]; then
    stage kind-delete "$KIND" delete cluster --name "$CLUSTER" || true
    rm -rf "$KUBECONFIG_DIR"
  fi
  echo "==> stage e2e-total took $(($(date +%s) - T_ALL))s" >&2
  exit "$rc"
}
trap teardown EXIT

tools() {
  command -v docker >/dev/null || { echo "e2e: docker is required" >&2; return 1; }
  docker info >/dev/null 2>&1 || { echo "e2e: the Docker engine does not answer" >&2; return 1; }
  KIND="${KIND:-kind}"
  if ! command -v "$KIND" >/dev/null; then
    command -v go >/dev/null || { echo "e2e: kind is required (https://kind.sigs.k8s.io), or Go to build it" >&2; return 1; }
    local bin="${TANDEM_CACHE_DIR:-$HOME/.cache/tandem}/kind-$KIND_VERSION"
    [ -x "$bin/kind" ] || GOBIN="$bin" CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION"
    KIND="$bin/kind"
  fi
  if ! command -v helm >/dev/null; then
    PATH="$(scripts/install-chart-tools.sh --print-bin-dir):$PATH"
    export PATH
  fi
  "$KIND" version >&2
  helm version --short >&2
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}

create_cluster() {
  local clusters
  clusters=$("$KIND" get clusters 2>/dev/null || true)
  if grep -qx "$CLUSTER" <<<"$clusters"; then
    echo "e2e: reusing the existing kind cluster $CLUSTER" >&2
    "$KIND" export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG" >&2
    return 0
  fi
  CREATED=1
  "$KIND" create cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG" --wait 180s ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} >&2
}

database_images() {
  docker image inspect "$POSTGRES_IMAGE" >/dev/null 2>&1 || docker pull -q "$POSTGRES_IMAGE"
  docker image inspect "$REDIS_IMAGE" >/dev/null 2>&1 || docker pull -q "$REDIS_IMAGE"
}

KIND="${KIND:-kind}"
stage tools tools
stage kind-create create_cluster
stage tandem-image scripts/build-image.sh "$TANDEM_IMAGE"
stage database-images database_images
stage load-images "$KIND" load docker-image --name "$CLUSTER" "$TANDEM_IMAGE" "$POSTGRES_IMAGE" "$REDIS_IMAGE"
stage suite node --import tsx --test --test-concurrency=1 --test-reporter=spec e2e/*.test.ts
