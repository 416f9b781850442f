#!/usr/bin/env bash
# Installs the proxies `npm run bench:proxy` compares tandem with — Portkey's
# gateway (npm) and LiteLLM Proxy (PyPI) — into a cache directory, and prints
# the variables that enable them:
#   eval "$(scripts/bench-peers.sh)" && npm run bench:proxy
set -euo pipefail
CACHE="${TANDEM_CACHE_DIR:-/var/cache/tandem}/bench-peers"
PORTKEY_VERSION="${PORTKEY_VERSION:-1.15.2}"
LITELLM_VERSION="${LITELLM_VERSION:-}"
mkdir -p "$CACHE/portkey"

portkey="$CACHE/portkey/node_modules/@portkey-ai/gateway/build/start-server.js"
if [ ! -f "$portkey" ]; then
  (cd "$CACHE/portkey" && npm install --silent --no-audit --no-fund --no-save "@portkey-ai/gateway@${PORTKEY_VERSION}" >&2)
fi

litellm="$CACHE/litellm/bin/litellm"
if [ ! -x "$litellm" ]; then
  python3 -m venv "$CACHE/litellm" >&2
  "$CACHE/litellm/bin/pip" install --quiet "litellm[proxy]${LITELLM_VERSION:+==$LITELLM_VERSION}" >&2
fi

echo "export BENCH_PORTKEY=$portkey"
echo "export BENCH_LITELLM=$litellm"
