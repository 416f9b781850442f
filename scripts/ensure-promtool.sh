#!/usr/bin/env bash
# Makes sure promtool is installed: the chart tests check tandem's alert rules with it.
# Debian/Ubuntu as root: installs Debian's prometheus package for its promtool (the
# daemon is never started: there is no init system here, and nothing needs it).
# Elsewhere it only says what is missing; PROMTOOL may name a binary.
set -euo pipefail

if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then exit 0; fi
if command -v promtool >/dev/null 2>&1; then exit 0; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-promtool: installing Debian's prometheus package for promtool" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  service prometheus stop >/dev/null 2>&1 || true
  exit 0
fi
echo "ensure-promtool: promtool not found. Install Prometheus's promtool or set PROMTOOL to it." >&2
exit 1
