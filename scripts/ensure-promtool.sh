#!/usr/bin/env bash
# Makes sure promtool is installed: the chart tests check tandem's alert rules with it
# (Debian's prometheus package brings it; its daemon is never started).
set -euo pipefail
exec "$(dirname "$0")/ensure-debian-tool.sh" promtool prometheus PROMTOOL \
  "Install Prometheus's promtool or set PROMTOOL to it."
