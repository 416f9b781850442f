# Shared helpers for the offline e2e cluster scripts (sourced, not run).
# Only for the registry-less sandbox: see README.md in this directory.

TANDEM_CACHE_DIR="${TANDEM_CACHE_DIR:-/var/cache/tandem}"
E2E_CACHE="${E2E_CACHE:-$TANDEM_CACHE_DIR/e2e}"
mkdir -p "$E2E_CACHE"
OFFLINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$OFFLINE_DIR/../.." && pwd)"
GO_PARALLEL="${GO_PARALLEL:-2}"

log() { echo "[$(date +%H:%M:%S)] ${0##*/}: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Go caches live under the tandem cache so that they survive between runs and
# are shared by every build here.
go_env() {
  export GOCACHE="${GOCACHE_OVERRIDE:-$TANDEM_CACHE_DIR/go-build}"
  export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$TANDEM_CACHE_DIR/gomod}"
  export GOMAXPROCS="${GOMAXPROCS:-2}"
  export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
  export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  mkdir -p "$GOCACHE" "$GOMODCACHE"
}

# stage NAME CMD... : runs CMD and prints "==> stage NAME took Ns".
stage() {
  local name="$1"; shift
  local t0 rc=0; t0=$(date +%s)
  "$@" || rc=$?
  echo "==> stage $name took $(( $(date +%s) - t0 ))s" >&2
  return $rc
}

# ensure_docker: a docker engine that answers. Waits (up to 2 min) while a
# dockerd process exists but does not answer yet (someone is restarting it);
# otherwise defers to scripts/ensure-docker.sh (installs/starts it), bounded
# by a timeout so that a stuck helper cannot hang a CI run forever.
ensure_docker() {
  local i
  for i in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    pgrep -x dockerd >/dev/null 2>&1 || break
    [ "$i" = 1 ] && log "docker does not answer yet; waiting"
    sleep 2
  done
  # (our lock fds are closed so that a dockerd started from there cannot inherit them)
  timeout 300 "$REPO_ROOT/scripts/ensure-docker.sh" 4>&- 5>&- 6>&- 7>&- 8>&-
}
