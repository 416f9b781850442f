#!/usr/bin/env bash
# make e2e-offline — the Kubernetes e2e suite (every e2e/*.test.ts, one file at a time) on the offline kind cluster,
# with images built here: no registry, no GitHub, no dl.k8s.io. Glue only:
#   1. e2e/offline/cluster-up.sh          the cluster (cached node image; reuses a healthy cluster)
#   2. scripts/install-chart-tools.sh     pinned helm
#   3. scripts/build-image.sh             tandem:dev
#   4. docker/postgres/build.sh           local/postgres:15 (stands in for the official postgres image)
#      docker/redis/build.sh              local/redis:7 (stands in for the official redis image)
#   5. e2e/offline/load-image.sh          the images into the node
#   6. the suite, with POSTGRES_IMAGE=local/postgres:15, REDIS_IMAGE=local/redis:7
#   7. e2e/offline/cluster-down.sh        (always, unless E2E_KEEP=1)
# Prints "==> stage NAME took Ns" per stage.
#
# Env: TANDEM_E2E_CLUSTER, KUBECONFIG, TANDEM_CACHE_DIR (see cluster-up.sh); TANDEM_IMAGE
# (tandem:dev), POSTGRES_IMAGE (local/postgres:15), REDIS_IMAGE (local/redis:7); E2E_KEEP=1 keeps the namespace and the cluster.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

export TANDEM_IMAGE="${TANDEM_IMAGE:-tandem:dev}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-local/postgres:15}"
export REDIS_IMAGE="${REDIS_IMAGE:-local/redis:7}"
export KUBECONFIG="${KUBECONFIG:-${TANDEM_CACHE_DIR:-/var/cache/tandem}/e2e/kubeconfig}"
T_ALL=$(date +%s)

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
    echo "e2e-offline: E2E_KEEP=1, cluster kept (KUBECONFIG=$KUBECONFIG)" >&2
  else
    stage cluster-down "$HERE/cluster-down.sh" || true
  fi
  echo "==> stage e2e-offline-total took $(($(date +%s) - T_ALL))s" >&2
  exit "$rc"
}
trap teardown EXIT

npm_deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}
helm_bin() {
  local dir
  dir="$(scripts/install-chart-tools.sh --print-bin-dir)"
  export PATH="$dir:$PATH"
  helm version --short >&2
}

stage npm-deps npm_deps
stage cluster-up "$HERE/cluster-up.sh" >/dev/null
stage chart-tools helm_bin
stage tandem-image scripts/build-image.sh "$TANDEM_IMAGE"
stage postgres-image docker/postgres/build.sh "$POSTGRES_IMAGE"
stage redis-image docker/redis/build.sh "$REDIS_IMAGE"
stage load-images "$HERE/load-image.sh" "$TANDEM_IMAGE" "$POSTGRES_IMAGE" "$REDIS_IMAGE"
stage suite node --import tsx --test --test-concurrency=1 --test-reporter=spec e2e/*.test.ts
