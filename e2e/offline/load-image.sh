#!/usr/bin/env bash
# Loads local docker images into the offline e2e kind cluster's node, so pods
# can use them without any registry (registry-less sandbox; see README.md).
#   e2e/offline/load-image.sh tandem:e2e [other:tag ...]
# Pods must not try to pull them: use a tag other than :latest, or set
# imagePullPolicy: IfNotPresent (or Never).
# Equivalent to `kind load docker-image --name tandem-e2e IMAGE...`.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 IMAGE [IMAGE...]" >&2; exit 2; }
CLUSTER="${TANDEM_E2E_CLUSTER:-tandem-e2e}"
KIND="$E2E_CACHE/kind-$KIND_VERSION/kind"
[ -x "$KIND" ] || die "kind not built yet: run e2e/offline/cluster-up.sh first"
stage load-image env PATH="$HERE/docker-shim:$PATH" "$KIND" load docker-image --name "$CLUSTER" "$@" >&2
