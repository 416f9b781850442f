#!/usr/bin/env bash
# ensure-debian-tool.sh COMMAND PACKAGE OVERRIDE_VAR "how to get it elsewhere"
# Makes sure COMMAND is installed: a binary named by $OVERRIDE_VAR, or one on PATH, or —
# on Debian/Ubuntu as root — Debian's PACKAGE, installed now. Services the package brings
# are stopped (there is no init system here, and the tests start what they need themselves).
# Elsewhere it only says what is missing.
set -euo pipefail
command=$1 package=$2 override=$3 hint=$4

if [ -n "${!override:-}" ] && [ -x "${!override}" ]; then exit 0; fi
if command -v "$command" >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-debian-tool: installing Debian's $package for $command" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$package" >/dev/null
  service "$package" stop >/dev/null 2>&1 || true
  exit 0
fi
echo "ensure-debian-tool: $command not found. $hint" >&2
exit 1
