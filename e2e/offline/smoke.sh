#!/usr/bin/env bash
# Proves the offline e2e kind cluster works (registry-less sandbox; see
# README.md). Run after cluster-up.sh:
#   1. builds a local image (local/debian:bookworm + a static Go test binary)
#      and loads it into the node — no registry involved;
#   2. a 2-replica Deployment + ClusterIP Service in a namespace that enforces
#      the "restricted" Pod Security Standard, with the securityContext the
#      product's chart uses (runAsNonRoot, readOnlyRootFilesystem, drop ALL,
#      seccomp RuntimeDefault, no privilege escalation);
#   3. a client Job: cluster DNS (service name, FQDN, kubernetes.default),
#      HTTP through the Service and straight to each pod IP;
#   4. kubectl exec and logs, kubectl port-forward from the host, an emptyDir
#      and a dynamically provisioned PVC (kind's "standard" StorageClass).
# Leaves nothing behind (deletes its namespace) unless SMOKE_KEEP=1.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"

export KUBECONFIG="${KUBECONFIG:-$E2E_CACHE/kubeconfig}"
K="$E2E_CACHE/bin/kubectl"
[ -x "$K" ] || die "run e2e/offline/cluster-up.sh first"
NS=tandem-smoke
T_START=$(date +%s)

# ---- 1. image ----------------------------------------------------------------
IMG="tandem-e2e-smoke:$(sha256sum "$HERE/smoke/main.go" | cut -c1-10)"
build_image() {
  if docker image inspect "$IMG" >/dev/null 2>&1; then return 0; fi
  "$REPO_ROOT/scripts/build-debian-base.sh" >&2
  go_env
  local d; d="$(mktemp -d)"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$d/smoke" "$HERE/smoke/main.go"
  printf 'FROM local/debian:bookworm\nCOPY smoke /usr/local/bin/smoke\nUSER 65532:65532\nENTRYPOINT ["/usr/local/bin/smoke"]\n' >"$d/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$IMG" "$d" >/dev/null 2>"$d/log" || { cat "$d/log" >&2; return 1; }
  rm -rf "$d"
}
stage smoke-image build_image
stage smoke-load "$HERE/load-image.sh" "$IMG"

# ---- 2. workload -------------------------------------------------------------
"$K" delete namespace "$NS" "$NS-pvc" --ignore-not-found --wait=true >/dev/null
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    log "FAILED; state of $NS:"
    "$K" -n "$NS" get all,pvc,events -o wide >&2 || true
    "$K" -n "$NS" logs -l app=smoke-client --tail=50 >&2 || true
  fi
  [ -n "${PF_PID:-}" ] && kill "$PF_PID" 2>/dev/null
  if [ "${SMOKE_KEEP:-0}" != 1 ]; then "$K" delete namespace "$NS" "$NS-pvc" --ignore-not-found --wait=false >/dev/null 2>&1 || true; fi
  exit $rc
}
trap cleanup EXIT

# secctx INDENT: the restricted container securityContext, indented for YAML.
secctx() {
  local pad; pad="$(printf '%*s' "$1" '')"
  printf '\n%ssecurityContext:' "$pad"
  printf '\n%s  %s' "$pad" 'runAsNonRoot: true' "$pad" 'runAsUser: 65532' "$pad" 'runAsGroup: 65532' \
    "$pad" 'readOnlyRootFilesystem: true' "$pad" 'allowPrivilegeEscalation: false' \
    "$pad" 'capabilities: { drop: [ALL] }' "$pad" 'seccompProfile: { type: RuntimeDefault }'
}
SECCTX="$(secctx 8)"

"$K" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $NS
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: $NS }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      automountServiceAccountToken: false
      containers:
      - name: web
        image: $IMG
        imagePullPolicy: Never
        args: [serve, ":8080"]
        ports: [{ containerPort: 8080, name: http }]
        readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 2 }
        volumeMounts: [{ name: tmp, mountPath: /tmp }]$SECCTX
      volumes: [{ name: tmp, emptyDir: {} }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: $NS }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: http }]
EOF
stage smoke-deployment "$K" -n "$NS" rollout status deployment/web --timeout=180s >&2

# ---- 3. DNS + HTTP between pods ---------------------------------------------
POD_IPS=($("$K" -n "$NS" get pods -l app=web -o jsonpath='{.items[*].status.podIP}'))
[ ${#POD_IPS[@]} -eq 2 ] || die "expected 2 web pod IPs, got: ${POD_IPS[*]}"
POD_URLS=""; for ip in "${POD_IPS[@]}"; do POD_URLS+="\"http://$ip:8080/\", "; done
"$K" apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata: { name: client, namespace: $NS }
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 180
  template:
    metadata: { labels: { app: smoke-client } }
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      initContainers:
      - name: dns
        image: $IMG
        imagePullPolicy: Never
        args: [lookup, web, web.$NS, web.$NS.svc.cluster.local, kubernetes.default.svc.cluster.local]$SECCTX
      containers:
      - name: http
        image: $IMG
        imagePullPolicy: Never
        args: [get, "http://web/", "http://web.$NS.svc.cluster.local/", ${POD_URLS%, }]$SECCTX
EOF
if ! stage smoke-client "$K" -n "$NS" wait --for=condition=complete job/client --timeout=180s >/dev/null; then
  die "client job did not complete"
fi
"$K" -n "$NS" logs job/client -c dns >&2
"$K" -n "$NS" logs job/client -c http >&2

# ---- 4. exec, port-forward, storage -----------------------------------------
WEB_POD="$("$K" -n "$NS" get pods -l app=web -o jsonpath='{.items[0].metadata.name}')"
"$K" -n "$NS" exec "$WEB_POD" -- /usr/local/bin/smoke write /tmp/probe emptydir-ok >&2
if "$K" -n "$NS" exec "$WEB_POD" -- sh -c 'echo x > /var/tmp/rootfs-write-test' 2>/dev/null; then
  die "root filesystem is writable despite readOnlyRootFilesystem"
fi
[ "$("$K" -n "$NS" exec "$WEB_POD" -- id -u)" = 65532 ] || die "web pod does not run as uid 65532"

port_forward() {
  local port=18080 out="$E2E_CACHE/smoke-port-forward.log"
  "$K" -n "$NS" port-forward svc/web "$port:80" >"$out" 2>&1 &
  PF_PID=$!
  local i
  for i in $(seq 1 30); do
    if curl -fs --max-time 3 "http://127.0.0.1:$port/" >&2; then kill "$PF_PID"; PF_PID=""; return 0; fi
    sleep 1
  done
  cat "$out" >&2
  return 1
}
stage smoke-port-forward port_forward

# kind's default StorageClass "standard" is the kubernetes.io/host-path
# provisioner: the volume is a root-owned 0755 directory under the node's
# /tmp/hostpath_pv, which fsGroup does not change. So this check runs as root
# in its own namespace (the restricted one would refuse that); non-root pods
# need emptyDir (what the e2e suite uses) or a chown init container.
"$K" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: { name: $NS-pvc }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: $NS-pvc }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
---
apiVersion: v1
kind: Pod
metadata: { name: pvc-writer, namespace: $NS-pvc }
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  containers:
  - name: w
    image: $IMG
    imagePullPolicy: Never
    args: [write, /data/probe, pvc-ok]
    securityContext: { runAsUser: 0, runAsGroup: 0 }
    volumeMounts: [{ name: data, mountPath: /data }]
  volumes: [{ name: data, persistentVolumeClaim: { claimName: data } }]
EOF
pvc_ok() {
  local i phase
  for i in $(seq 1 90); do
    phase="$("$K" -n "$NS-pvc" get pod pvc-writer -o jsonpath='{.status.phase}')"
    case "$phase" in
      Succeeded) "$K" -n "$NS-pvc" logs pvc-writer >&2; return 0 ;;
      Failed) "$K" -n "$NS-pvc" logs pvc-writer >&2; return 1 ;;
    esac
    sleep 2
  done
  return 1
}
if ! stage smoke-pvc pvc_ok; then
  log "WARN: PVC check failed (not needed by the e2e suite, which uses emptyDir)"
  "$K" -n "$NS-pvc" describe pvc/data pod/pvc-writer 2>&1 | tail -30 >&2 || true
  PVC_FAILED=1
fi

echo "==> stage smoke-total took $(( $(date +%s) - T_START ))s" >&2
log "smoke test passed${PVC_FAILED:+ (except the optional PVC check)}"
