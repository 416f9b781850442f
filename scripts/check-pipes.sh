#!/usr/bin/env bash
# Fails on a pipe that ends in a reader which may exit early (grep -q, grep -m,
# head) in the project's shell scripts. Under `set -o pipefail` the writer is
# then killed by SIGPIPE on its next write and the pipeline fails at random;
# capture the output first and match the captured string instead.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\|[[:space:]]*(grep[[:space:]]+(-[a-zA-Z]*[qm]|--quiet|--max-count)|head)\b'
files=$(git ls-files -- '*.sh' 'scripts/*' 'e2e/**' '.ci/*' 'docker/*' 'Makefile' 'e2e/offline/docker-shim/*' ':!scripts/check-pipes.sh')
# Comments may name the pattern; code may not.
hits=$(grep -nHE "$pattern" $files | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#' || true)
if [[ -n "$hits" ]]; then
  echo "check-pipes: a pipe into grep -q/-m or head fails at random under pipefail; capture the output first:" >&2
  echo "$hits" >&2
  exit 1
fi
