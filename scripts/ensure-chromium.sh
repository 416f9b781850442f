#!/usr/bin/env bash
# Makes sure Chromium is installed: the admin UI's browser tests drive Debian's package headless
# (no browser is downloaded from anywhere else). CHROMIUM_PATH names another build.
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-tool.sh" chromium chromium CHROMIUM_PATH \
  "Install Chromium (Debian: apt-get install chromium) or set CHROMIUM_PATH to it."
