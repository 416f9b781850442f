#!/usr/bin/env bash
# make compose-test: brings compose.yaml up with locally built images (tandem:dev and
# local/postgres:15 from docker/postgres), waits for readiness, generates a key and looks it up,
# proves on the database side that the lookup ran on the replica, then tears everything down.
# Prints one PASS/FAIL line per check and "N passed, N failed"; exits 1 when a check failed.
#
# Docker Compose v2: `docker compose` when the plugin is installed; otherwise a pinned
# docker/compose v2 built from the Go module proxy and cached in $TANDEM_CACHE_DIR/compose
# (Debian bookworm has only the Python docker-compose v1, which does not read this compose.yaml).
#
# Env: TANDEM_IMAGE (tandem:dev), POSTGRES_IMAGE (local/postgres:15), COMPOSE_VERSION (v2.40.3),
#      KEEP=1 leaves the stack running for inspection.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
CACHE_DIR="${TANDEM_CACHE_DIR:-/var/cache/tandem}"
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
export TANDEM_IMAGE="${TANDEM_IMAGE:-tandem:dev}"
export POSTGRES_IMAGE="${POSTGRES_IMAGE:-local/postgres:15}"

log() { echo "compose-test: $*" >&2; }

# --- Docker Compose v2 ---------------------------------------------------------------------------
install_compose() { # builds docker-compose $COMPOSE_VERSION into $1
  local out="$1" build src dir
  command -v go >/dev/null 2>&1 || {
    log "no 'docker compose' and no Go toolchain to build it: install the docker-compose-plugin package"
    exit 1
  }
  build="$CACHE_DIR/compose/build"
  mkdir -p "$build"
  log "building docker compose $COMPOSE_VERSION from the Go module proxy (a few minutes, once)"
  # `go install` refuses this module (its go.mod has exclude directives): download it and build
  # inside a copy instead, with module and build caches kept apart from the user's.
  export GOMODCACHE="$build/mod" GOCACHE="$build/cache" GOFLAGS="-modcacherw" GOTOOLCHAIN=local
  dir="$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] && [ -d "$dir" ] || {
    log "go mod download github.com/docker/compose/v2@$COMPOSE_VERSION failed"
    exit 1
  }
  src="$(mktemp -d)"
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$out.tmp" ./cmd)
  mv "$out.tmp" "$out"
  rm -rf "$src" "$build" # ~1.5 GB of module and build caches; the binary is what is kept
}

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  bin="$CACHE_DIR/compose/$COMPOSE_VERSION/docker-compose"
  if [ ! -x "$bin" ]; then
    mkdir -p "$(dirname "$bin")"
    exec 9>"$CACHE_DIR/compose/.lock"
    flock 9
    [ -x "$bin" ] || install_compose "$bin"
    exec 9>&-
  fi
  COMPOSE=("$bin")
fi
compose_version=$("${COMPOSE[@]}" version 2>/dev/null || true)
log "using ${compose_version%%$'\n'*}"

# --- images --------------------------------------------------------------------------------------
scripts/ensure-docker.sh
docker image inspect "$TANDEM_IMAGE" >/dev/null 2>&1 || scripts/build-image.sh "$TANDEM_IMAGE"
if [ "$POSTGRES_IMAGE" = local/postgres:15 ]; then docker/postgres/build.sh "$POSTGRES_IMAGE"; fi

# --- the stack -----------------------------------------------------------------------------------
PROJECT="tandem-composetest-$$"
TANDEM_PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
MASTER_KEY="sk-master-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
POSTGRES_PASSWORD="pg-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
POSTGRES_REPLICATION_PASSWORD="repl-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export TANDEM_PORT MASTER_KEY POSTGRES_PASSWORD POSTGRES_REPLICATION_PASSWORD
BASE="http://127.0.0.1:$TANDEM_PORT"
dc() { "${COMPOSE[@]}" -p "$PROJECT" -f "$ROOT/compose.yaml" "$@"; }

passed=0
failed=0
check() { # check <name> <0|1 ok> [detail]
  if [ "$2" = 1 ]; then
    passed=$((passed + 1))
    echo "PASS $1${3:+ — $3}"
  else
    failed=$((failed + 1))
    echo "FAIL $1${3:+ — $3}"
  fi
}
finish() {
  local code=$?
  if [ "$failed" -gt 0 ] || [ "$code" -ne 0 ]; then
    dc ps -a 2>/dev/null || true
    dc logs --no-color --tail 40 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then
    log "KEEP=1: stack $PROJECT left running on $BASE (tear down: ${COMPOSE[*]} -p $PROJECT down -v)"
  else
    dc down -v --remove-orphans --timeout 30 >/dev/null 2>&1 || true
  fi
  [ "$code" -eq 0 ] || check "compose test ran to the end" 0 "exit $code"
  echo "compose-test: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$code" -eq 0 ] || exit 1
}
trap finish EXIT

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v;try{v=JSON.parse(s)}catch{v=undefined}for(const k of process.argv[1].split(".").filter(Boolean))v=v==null?undefined:v[k];console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):String(v))})' "$1"; }
psql_on() { # psql_on <service> <sql>
  dc exec -T "$1" psql -X -q -At -v ON_ERROR_STOP=1 -U tandem -d tandem -c "$2"
}
key_selects() { # SELECTs on the key table that <service> executed
  psql_on "$1" "SELECT coalesce(sum(calls),0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query ~* '^\\s*select' AND query ~* 'tandem_verification_token'"
}

start=$(date +%s)
log "docker compose up ($PROJECT, postgres $POSTGRES_IMAGE, tandem $TANDEM_IMAGE, port $TANDEM_PORT)"
if dc up -d --no-build --pull missing --quiet-pull >/tmp/"$PROJECT".up.log 2>&1; then
  check "docker compose up -d" 1
else
  check "docker compose up -d" 0 "$(tail -n 5 /tmp/"$PROJECT".up.log | tr '\n' ' ')"
  exit 1
fi
rm -f /tmp/"$PROJECT".up.log

ready=""
for _ in $(seq 1 180); do
  ready="$(curl -s -m 3 "$BASE/health/readiness" || true)"
  [ "$(printf '%s' "$ready" | json db.reader)" = connected ] && break
  sleep 1
done
check "readiness 200 with writer and reader connected" \
  "$([ "$(printf '%s' "$ready" | json status)" = healthy ] && [ "$(printf '%s' "$ready" | json db.reader)" = connected ] && echo 1 || echo 0)" \
  "$ready after $(($(date +%s) - start)) s"
[ "$(printf '%s' "$ready" | json db.reader)" = connected ] || exit 1

migrate_state="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$(dc ps -a -q migrate)")"
check "migrate service completed with exit 0" "$([ "$migrate_state" = "exited 0" ] && echo 1 || echo 0)" "$migrate_state"

replication="$(psql_on db-primary "SELECT state FROM pg_stat_replication" | tr '\n' ' ')"
in_recovery="$(psql_on db-replica "SELECT pg_is_in_recovery()")"
check "db-replica streams from db-primary (pg_stat_replication, pg_is_in_recovery)" \
  "$([[ "$replication" == *streaming* ]] && [ "$in_recovery" = t ] && echo 1 || echo 0)" "primary sees: ${replication:-nothing}; replica in recovery: $in_recovery"

alias="compose-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
generated="$(curl -s -m 10 -X POST "$BASE/key/generate" -H "Authorization: Bearer $MASTER_KEY" -H 'content-type: application/json' \
  -d "{\"key_alias\":\"$alias\",\"max_budget\":5}")"
key="$(printf '%s' "$generated" | json key)"
check "POST /key/generate" "$([[ "$key" == sk-* ]] && echo 1 || echo 0)" "${generated:0:160}"
[[ "$key" == sk-* ]] || exit 1

# Wait until the replica has the new key (asynchronous streaming), then look it up.
for _ in $(seq 1 100); do
  [ "$(psql_on db-replica "SELECT count(*) FROM tandem_verification_token WHERE key_alias = '$alias'")" = 1 ] && break
  sleep 0.1
done
# tandem reads a key it has just written from the writer (read-your-writes) until its health cycle
# has seen the replica replay it: wait for that event, then prove where the lookup runs.
for _ in $(seq 1 60); do
  before="$(key_selects db-replica)"
  curl -s -m 10 -o /dev/null "$BASE/key/info?key=$key" -H "Authorization: Bearer $MASTER_KEY"
  [ "$(key_selects db-replica)" -gt "$before" ] && break
  sleep 0.5
done
reader_before="$(key_selects db-replica)"
writer_before="$(key_selects db-primary)"
info="$(curl -s -m 10 "$BASE/key/info?key=$key" -H "Authorization: Bearer $MASTER_KEY")"
reader_after="$(key_selects db-replica)"
writer_after="$(key_selects db-primary)"
check "GET /key/info returns the key" "$([ "$(printf '%s' "$info" | json info.key_alias)" = "$alias" ] && echo 1 || echo 0)" "${info:0:160}"
check "the lookup ran on the replica (pg_stat_statements: replica +1 or more, primary +0)" \
  "$([ $((reader_after - reader_before)) -ge 1 ] && [ "$writer_after" = "$writer_before" ] && echo 1 || echo 0)" \
  "replica +$((reader_after - reader_before)), primary +$((writer_after - writer_before)) key SELECTs"
apps_replica="$(psql_on db-replica "SELECT string_agg(DISTINCT application_name, ',') FROM pg_stat_activity WHERE application_name LIKE 'tandem-%'")"
apps_primary="$(psql_on db-primary "SELECT string_agg(DISTINCT application_name, ',') FROM pg_stat_activity WHERE application_name LIKE 'tandem-%'")"
check "pg_stat_activity: tandem-reader on the replica, tandem-writer on the primary" \
  "$([ "$apps_replica" = tandem-reader ] && [[ "$apps_primary" == *tandem-writer* ]] && echo 1 || echo 0)" \
  "replica: ${apps_replica:-none}; primary: ${apps_primary:-none}"

health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$(dc ps -q tandem)")"
for _ in $(seq 1 30); do
  [ "$health" = healthy ] && break
  sleep 1
  health="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$(dc ps -q tandem)")"
done
check "tandem container healthy (image HEALTHCHECK)" "$([ "$health" = healthy ] && echo 1 || echo 0)" "$health"

stop_start=$(date +%s)
dc stop -t 30 tandem >/dev/null 2>&1
tandem_exit="$(docker inspect -f '{{.State.ExitCode}}' "$(dc ps -a -q tandem)")"
check "docker compose stop tandem -> exit 0" "$([ "$tandem_exit" = 0 ] && echo 1 || echo 0)" "exit $tandem_exit after $(($(date +%s) - stop_start)) s"
log "$(($(date +%s) - start)) s"
