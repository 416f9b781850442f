#!/usr/bin/env bash
# Builds the kind node image tandem-kind-node:$K8S_VERSION for the offline e2e
# cluster, the registry-less equivalent of kindest/node.
#
# Why: kindest/node and kindest/base cannot be pulled here, and
# `kind build node-image` would still try to pull etcd, coredns, pause,
# kindnetd and local-path images. So the image is assembled the way kind does
# it (pkg/build/nodeimage), from local parts:
#   1. base: a debootstrap bookworm rootfs (build-rootfs.sh node) with Debian's
#      systemd, containerd 1.6, runc and CNI plugins, plus kind v0.32's own
#      node files (entrypoint, systemd units, sysctls) taken from the
#      sigs.k8s.io/kind module, and the local changes in node/ (containerd
#      config, bridge CNI, an entrypoint wrapper for the missing --privileged);
#   2. kubeadm, kubelet, kubectl from build-k8s.sh, /kind/version;
#   3. the control-plane images from build-images.sh imported into the node's
#      containerd (ctr images import --no-unpack), then `docker commit`.
# Only for the registry-less sandbox; see README.md.
#
# Cache: the image is tagged tandem-kind-node:$K8S_VERSION-<key> (key = hash of
# the versions and of every input recipe) and saved to
# $E2E_CACHE/node-image-<key>.tar. A warm machine finds the docker image and
# does nothing; if the docker image store was wiped, it re-loads the tarball.
# Prints the image name on stdout.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/versions.env"
. "$HERE/lib.sh"

KEY="$(cat "$HERE/versions.env" "$0" "$HERE/build-images.sh" "$HERE/build-rootfs.sh" "$HERE"/images/* "$HERE"/node/* \
  | sha256sum | cut -c1-12)"
IMAGE="tandem-kind-node:$K8S_VERSION-$KEY"
ALIAS="tandem-kind-node:$K8S_VERSION"
TARBALL="$E2E_CACHE/node-image-$KEY.tar"

ensure_docker

present() { docker image inspect "$IMAGE" >/dev/null 2>&1; }
finish() {
  docker tag "$IMAGE" "$ALIAS"
  echo "$IMAGE"
}
if present; then log "node image $IMAGE present"; finish; exit 0; fi
exec 5>"$E2E_CACHE/.build-node-image.lock"; flock 5
if present; then finish; exit 0; fi
if [ -s "$TARBALL" ]; then
  log "loading node image from $TARBALL"
  stage node-image-load docker load -q -i "$TARBALL" >&2
  present || die "$TARBALL did not contain $IMAGE"
  finish; exit 0
fi

# ---- inputs -----------------------------------------------------------------
stage k8s-binaries "$HERE/build-k8s.sh"
IMAGES_DIR="$("$HERE/build-images.sh")"
NODE_ROOTFS="$(stage rootfs-node "$HERE/build-rootfs.sh" node)"
K8S_BIN="$E2E_CACHE/k8s-$K8S_VERSION/bin"
go_env
KIND_DIR="$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
KIND_FILES="$KIND_DIR/images/base/files"
[ -f "$KIND_FILES/usr/local/bin/entrypoint" ] || die "kind $KIND_VERSION module has no images/base/files ($KIND_DIR)"

t0=$(date +%s)
CTX="$(mktemp -d "$E2E_CACHE/node-ctx.XXXXXX")"
BUILD_CTR=""
STAGE_IMAGE="tandem-kind-node-stage:$KEY"
cleanup() {
  [ -n "$BUILD_CTR" ] && docker rm -f -v "$BUILD_CTR" >/dev/null 2>&1
  docker rmi "$STAGE_IMAGE" >/dev/null 2>&1
  rm -rf "$CTX"
}
trap cleanup EXIT

# ---- 1+2: base filesystem, node files, kubernetes binaries -----------------
ROOTFS_IMAGE="tandem-kind-rootfs:$(basename "$NODE_ROOTFS" .tar)"
docker image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1 || stage rootfs-import docker import "$NODE_ROOTFS" "$ROOTFS_IMAGE" >/dev/null

mkdir -p "$CTX/kind" "$CTX/tandem" "$CTX/bin"
cp -a "$KIND_FILES/." "$CTX/kind/"
cp -a "$HERE/node/." "$CTX/tandem/"
sed -i "s/@PAUSE_VERSION@/$PAUSE_VERSION/" "$CTX/tandem/containerd-config.toml"
cp "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$CTX/bin/"
echo "$K8S_VERSION" >"$CTX/tandem/version"
cat >"$CTX/Dockerfile" <<EOF
FROM $ROOTFS_IMAGE
# kind's node files (kind $KIND_VERSION images/base/files)
COPY kind/usr/local/bin/entrypoint /usr/local/bin/kind-entrypoint
COPY kind/kind/ /kind/
COPY kind/etc/crictl.yaml /etc/crictl.yaml
COPY kind/etc/default/ /etc/default/
COPY kind/etc/sysctl.d/ /etc/sysctl.d/
COPY kind/etc/systemd/system/ /etc/systemd/system/
# local changes
COPY tandem/entrypoint /usr/local/bin/entrypoint
COPY tandem/containerd-config.toml /etc/containerd/config.toml
COPY tandem/10-tandem-bridge.conflist /etc/cni/net.d/10-tandem-bridge.conflist
COPY tandem/default-cni.yaml /kind/manifests/default-cni.yaml
COPY tandem/version /kind/version
COPY bin/ /usr/bin/
RUN set -eux; \
    chmod 0755 /usr/local/bin/entrypoint /usr/local/bin/kind-entrypoint /kind /kind/bin /kind/bin/* /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl; \
    rm -f /etc/systemd/system/containerd-fuse-overlayfs.service; \
    sed -i -e 's|^ExecStart=/usr/local/bin/containerd|ExecStart=/usr/bin/containerd|' \
           -e '/^OOMScoreAdjust=/d' /etc/systemd/system/containerd.service; \
    rm -f /lib/systemd/system/containerd.service; \
    find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete; \
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
          /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
          /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*; \
    echo "ReadKMsg=no" >> /etc/systemd/journald.conf; \
    ln -sf /usr/lib/systemd/systemd /sbin/init; \
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service; \
    systemctl mask systemd-binfmt.service; \
    mkdir -p /etc/kubernetes/manifests /opt/cni; ln -sfn /usr/lib/cni /opt/cni/bin; \
    ctr oci spec \
      | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
      | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json; \
    containerd --version; runc --version; kubelet --version
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
STOPSIGNAL SIGRTMIN+3
EOF
stage node-base env DOCKER_BUILDKIT=0 docker build -q -t "$STAGE_IMAGE" "$CTX" >/dev/null

# ---- 3: preload the control-plane images into the node's containerd --------
BUILD_CTR="tandem-node-build-$KEY-$$"
docker run -d --name "$BUILD_CTR" --entrypoint=sleep --security-opt seccomp=unconfined "$STAGE_IMAGE" infinity >/dev/null
docker exec "$BUILD_CTR" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
for _ in $(seq 1 30); do docker exec "$BUILD_CTR" ctr version >/dev/null 2>&1 && break; sleep 1; done
docker exec "$BUILD_CTR" ctr version >/dev/null || { docker exec "$BUILD_CTR" cat /tmp/containerd.log >&2; die "containerd did not start in the build container"; }
import_images() {
  local tar
  # Pinned, so kubelet's image garbage collection never removes them (the
  # node could not pull them back).
  local label=() help
  help=$(docker exec "$BUILD_CTR" ctr images import --help 2>&1 || true)
  [[ "$help" == *--label* ]] && label=(--label=io.cri-containerd.pinned=pinned)
  for tar in "$IMAGES_DIR"/*.tar; do
    docker exec -i "$BUILD_CTR" ctr --namespace=k8s.io images import "${label[@]}" --all-platforms --no-unpack --digests - <"$tar" >/dev/null
  done
  local have want
  have="$(docker exec "$BUILD_CTR" ctr --namespace=k8s.io images list -q)"
  while read -r want; do
    grep -qx "$want" <<<"$have" || die "image $want missing in node"
    log "preloaded $want"
  done <"$IMAGES_DIR/images.txt"
}
stage node-preload-images import_images
# Stop containerd cleanly (its metadata DB must be closed before the commit).
# PID 1 of the build container is `sleep`, which reaps nobody: a containerd
# that has exited lingers as a zombie, so look at the process state.
docker exec "$BUILD_CTR" bash -c '
  pkill -x containerd
  for i in $(seq 1 40); do
    alive=0
    for p in $(pgrep -x containerd); do grep -q "^State:[[:space:]]*Z" /proc/$p/status 2>/dev/null || alive=1; done
    [ $alive = 0 ] && exit 0
    sleep 0.5
  done
  exit 1' || die "containerd did not stop in the build container"
docker exec "$BUILD_CTR" rm -rf /tmp/containerd.log
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'CMD []' \
  "$BUILD_CTR" "$IMAGE" >/dev/null
docker rm -f -v "$BUILD_CTR" >/dev/null; BUILD_CTR=""

stage node-image-save docker save -o "$TARBALL.tmp" "$IMAGE"
mv "$TARBALL.tmp" "$TARBALL"
# Older node images/tarballs of other keys are superseded.
find "$E2E_CACHE" -maxdepth 1 -name 'node-image-*.tar' ! -name "node-image-$KEY.tar" -delete
docker images --format '{{.Repository}}:{{.Tag}}' 'tandem-kind-node' | grep -vx -e "$IMAGE" -e "$ALIAS" \
  | xargs -r docker rmi >/dev/null 2>&1 || true
echo "==> stage node-image took $(( $(date +%s) - t0 ))s" >&2
log "node image $IMAGE built ($(du -sh "$TARBALL" | cut -f1) tarball)"
finish
