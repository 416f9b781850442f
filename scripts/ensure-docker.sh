#!/usr/bin/env bash
# Makes sure a Docker engine answers. On CI and dev machines here there is no
# systemd, so when the engine is missing we install Debian's docker.io and
# start dockerd in the background ourselves. Elsewhere (a laptop with Docker
# Desktop, a GitHub runner) the engine is already up and this does nothing.
set -euo pipefail

if docker info >/dev/null 2>&1; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

# Serialize concurrent callers: only one of them starts the daemon.
exec 9>/var/lock/tandem-ensure-docker.lock
flock 9
if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: /var/log/tandem-dockerd.log)" >&2
  # 9>&-: dockerd must not inherit (and so hold forever) the lock.
  nohup dockerd >/var/log/tandem-dockerd.log 2>&1 9>&- &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "ensure-docker: dockerd did not come up; see /var/log/tandem-dockerd.log" >&2; exit 1; }
