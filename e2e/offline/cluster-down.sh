#!/usr/bin/env bash
# Deletes the offline e2e kind cluster (see cluster-up.sh and README.md).
# Keeps every cached build artifact, so the next cluster-up.sh only recreates
# the cluster (about a minute).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"
CLUSTER="${TANDEM_E2E_CLUSTER:-tandem-e2e}"
export KUBECONFIG="${KUBECONFIG:-$E2E_CACHE/kubeconfig}"
KIND="$E2E_CACHE/kind-$KIND_VERSION/kind"
if [ ! -x "$KIND" ]; then log "kind not built; nothing to delete"; exit 0; fi
stage kind-delete env PATH="$HERE/docker-shim:$PATH" "$KIND" delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG" >&2
