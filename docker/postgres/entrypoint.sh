#!/usr/bin/env bash
# tandem-pg-entrypoint — runs PostgreSQL as a primary or as a streaming read replica.
#
# Works in the official postgres images (Debian variants) and in tandem's local/postgres:15:
# Compose mounts this file and runs it with bash, the local image has it as its ENTRYPOINT.
#
# Environment
#   POSTGRES_REPLICATION_MODE      primary (default) | replica
#   POSTGRES_USER                  superuser to create on the primary (default postgres)
#   POSTGRES_PASSWORD              its password (required on the primary)
#   POSTGRES_DB                    database to create on the primary (default $POSTGRES_USER)
#   POSTGRES_INITDB_ARGS           extra initdb arguments (default: -E UTF8 --locale=C)
#   POSTGRES_REPLICATION_USER      role the replica streams with (default replicator)
#   POSTGRES_REPLICATION_PASSWORD  its password (required: primary creates it, replica uses it)
#   POSTGRES_PRIMARY_HOST          replica only: the primary's host name (required)
#   POSTGRES_PRIMARY_PORT          replica only: the primary's port (default 5432)
#   POSTGRES_PRIMARY_WAIT_SECONDS  replica only: how long to wait for the primary (default 300)
#   PGDATA                         data directory (default /var/lib/postgresql/data)
#
# First start of a primary (empty PGDATA): initdb (scram-sha-256 over TCP), replication settings,
# the replication role, POSTGRES_DB, then /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh.
# First start of a replica (PGDATA without standby.signal): wait for the primary, then
# pg_basebackup -R -X stream. A replica's data directory is a disposable copy: an incomplete
# one is wiped and copied again. Then both exec `postgres "$@"` (a leading "postgres" argument
# is dropped, so `command: postgres -c ...` works as with the official image).
set -Eeuo pipefail

log() { echo "tandem-pg-entrypoint: $*" >&2; }
die() {
  log "$*"
  exit 1
}

MODE="${POSTGRES_REPLICATION_MODE:-primary}"
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
REPL_USER="${POSTGRES_REPLICATION_USER:-replicator}"
SOCKET_DIR=/var/run/postgresql

case "$MODE" in
  primary | replica) ;;
  *) die "POSTGRES_REPLICATION_MODE must be primary or replica, not '$MODE'" ;;
esac

# The server binaries: on PATH in the official image and in local/postgres, else Debian's layout.
if ! command -v postgres >/dev/null 2>&1; then
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$bin" ] || die "PostgreSQL server binaries not found"
  export PATH="$bin:$PATH"
fi

# Started as root: prepare the directories, then continue as postgres.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" "$SOCKET_DIR"
  chown postgres:postgres "$PGDATA" "$SOCKET_DIR"
  chmod 0700 "$PGDATA"
  chmod 2777 "$SOCKET_DIR"
  find "$PGDATA" -mindepth 1 \! -user postgres -exec chown postgres:postgres '{}' + 2>/dev/null || true
  if command -v setpriv >/dev/null 2>&1; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups bash "${BASH_SOURCE[0]}" "$@"
  elif command -v gosu >/dev/null 2>&1; then
    exec gosu postgres bash "${BASH_SOURCE[0]}" "$@"
  elif command -v su-exec >/dev/null 2>&1; then # Alpine variants of the official image
    exec su-exec postgres bash "${BASH_SOURCE[0]}" "$@"
  else
    die "running as root and none of setpriv, gosu, su-exec is available to drop to the postgres user"
  fi
fi

[ -w "$SOCKET_DIR" ] || SOCKET_DIR=/tmp

# Arguments: `postgres -c a=b ...` or just `-c a=b ...`; anything else is run as a command.
if [ "${1:-}" = postgres ]; then shift; fi
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then exec "$@"; fi

require() { [ -n "${!1:-}" ] || die "$1 must be set (POSTGRES_REPLICATION_MODE=$MODE)"; }

init_primary() {
  require POSTGRES_PASSWORD
  require POSTGRES_REPLICATION_PASSWORD
  [ -z "$(ls -A "$PGDATA")" ] || die "PGDATA ($PGDATA) is not empty but has no PG_VERSION: refusing to initialize over it"
  log "initializing a primary in $PGDATA"
  local pwfile
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    ${POSTGRES_INITDB_ARGS:--E UTF8 --locale=C} >/dev/null
  rm -f "$pwfile"

  cat >>"$PGDATA/postgresql.conf" <<EOF

# --- tandem-pg-entrypoint: primary with streaming replicas ---
listen_addresses = '*'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
wal_keep_size = '512MB'
hot_standby = on
password_encryption = 'scram-sha-256'
EOF
  cat >>"$PGDATA/pg_hba.conf" <<EOF

# --- tandem-pg-entrypoint ---
host    replication     $REPL_USER      all     scram-sha-256
host    all             all             all     scram-sha-256
EOF

  # A temporary server on the Unix socket only: nothing on the network sees a half-initialized
  # primary (so a replica's or a health check's TCP connection waits for the real start).
  pg_ctl -D "$PGDATA" -w -t 60 -o "-c listen_addresses='' -k $SOCKET_DIR" start >/dev/null
  local psql=(psql -v ON_ERROR_STOP=1 -X -q -h "$SOCKET_DIR" -U "$POSTGRES_USER")
  "${psql[@]}" -d postgres --set u="$REPL_USER" --set p="$POSTGRES_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"u" WITH REPLICATION LOGIN PASSWORD :'p';
SQL
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" -d postgres --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        log "running $f"
        # shellcheck disable=SC1090
        . "$f"
        ;;
      *.sql)
        log "running $f"
        "${psql[@]}" -d "$POSTGRES_DB" -f "$f"
        ;;
      *.sql.gz)
        log "running $f"
        gunzip -c "$f" | "${psql[@]}" -d "$POSTGRES_DB"
        ;;
      *) log "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "primary initialized"
}

init_replica() {
  require POSTGRES_PRIMARY_HOST
  require POSTGRES_REPLICATION_PASSWORD
  local host="$POSTGRES_PRIMARY_HOST" port="${POSTGRES_PRIMARY_PORT:-5432}"
  local deadline=$((SECONDS + ${POSTGRES_PRIMARY_WAIT_SECONDS:-300}))
  log "waiting for the primary at $host:$port"
  until pg_isready -q -h "$host" -p "$port" -t 2; do
    [ "$SECONDS" -lt "$deadline" ] || die "primary $host:$port not ready after ${POSTGRES_PRIMARY_WAIT_SECONDS:-300}s"
    sleep 1
  done
  export PGPASSWORD="$POSTGRES_REPLICATION_PASSWORD"
  until
    find "$PGDATA" -mindepth 1 -delete
    log "pg_basebackup from $host:$port as $REPL_USER"
    pg_basebackup -h "$host" -p "$port" -U "$REPL_USER" -D "$PGDATA" -R -X stream -c fast
  do
    [ "$SECONDS" -lt "$deadline" ] || die "pg_basebackup from $host:$port kept failing"
    sleep 2
  done
  unset PGPASSWORD
  chmod 0700 "$PGDATA"
  log "replica initialized: streaming from $host:$port"
}

if [ "$MODE" = primary ]; then
  [ -s "$PGDATA/PG_VERSION" ] || init_primary
else
  { [ -s "$PGDATA/PG_VERSION" ] && [ -e "$PGDATA/standby.signal" ]; } || init_replica
fi

exec postgres -D "$PGDATA" -k "$SOCKET_DIR" "$@"
