# tandem container image.
#
#   docker build -t tandem .                                   (needs BuildKit, the default builder of Docker >= 23)
#   docker run -e DATABASE_URL=... -e DATABASE_URL_READ_REPLICA=... -e MASTER_KEY=... -p 4000:4000 tandem
#   docker run -e DATABASE_URL=... tandem migrate
#
# Build arguments:
#   NODE_IMAGE   base image with Node 22 and npm (default node:22-bookworm-slim). Machines without
#                a registry build a stand-in with scripts/build-node-base.sh; scripts/build-image.sh
#                does that and passes it here.
#   VERSION, REVISION, CREATED   values for the OCI labels (scripts/build-image.sh fills them in).
# Optional BuildKit secret:
#   --secret id=ca_bundle,src=/etc/ssl/certs/ca-certificates.crt   extra CA certificates for npm
#                (a TLS-intercepting proxy between the build and the npm registry). Without it the
#                build uses Node's built-in CA list.
#
# No "# syntax=" line on purpose: the builder's bundled Dockerfile frontend is used, so nothing is
# pulled (Docker 20.10's BuildKit already supports RUN --mount=type=secret|cache).

ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------------------------------------
# deps: every dependency (dev included), for the build. Install scripts are not run: nothing in
# the tree needs them, and Prisma's would try to download engine binaries.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
ENV CI=true \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca_bundle,target=/run/secrets/ca_bundle \
    --mount=type=cache,id=tandem-npm,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
# build: prisma generate (offline-safe) + tsc + the admin UI (Vite) -> /src/dist, then the server
# bundled into one file (esbuild: the code it runs and nothing else, Prisma's PostgreSQL query
# compiler included) -> /src/dist/tandem.mjs. The runtime needs no node_modules at all.
FROM deps AS build
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-generate.mjs ./scripts/prisma-generate.mjs
COPY app ./app
RUN npm run build \
 && npm run bundle \
 && test -f dist/tandem.mjs && test -f dist/ui/index.html

# ---------------------------------------------------------------------------------------------
# rootfs: the runtime's whole file system, taken from the Debian-based Node image: node, the shared
# libraries it links (ldd), dash as /bin/sh for the entrypoint, the CA bundle, users. No package
# manager, npm, corepack, docs or shell tools: what is not copied here is not in the image.
FROM ${NODE_IMAGE} AS rootfs
RUN set -eu; r=/rootfs; \
    mkdir -p "$r/usr/local/bin" "$r/bin" "$r/etc/ssl/certs" "$r/tmp" "$r/app"; \
    cp /usr/local/bin/node "$r/usr/local/bin/node"; \
    for f in $(ldd /usr/local/bin/node /bin/dash | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do \
      cp -L --parents "$f" "$r/"; \
    done; \
    cp -L /bin/dash "$r/bin/sh"; \
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp -L /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/"; fi; \
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ntandem:x:10001:10001:tandem:/nonexistent:/usr/sbin/nologin\n' >"$r/etc/passwd"; \
    printf 'root:x:0:\ntandem:x:10001:\n' >"$r/etc/group"; \
    printf 'hosts: files dns\n' >"$r/etc/nsswitch.conf"; \
    printf '127.0.0.1 localhost\n::1 localhost\n' >"$r/etc/hosts"; \
    chmod 1777 "$r/tmp"; \
    # Name lookups go through glibc's NSS, built into libc since 2.34 (no libnss_* to copy): prove it.
    chroot "$r" /usr/local/bin/node -e "require('dns').lookup('localhost', (e) => process.exit(e ? 1 : 0))"

# ---------------------------------------------------------------------------------------------
# runtime
FROM scratch AS runtime
ARG NODE_IMAGE
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tandem" \
      org.opencontainers.image.description="LLM API proxy (LiteLLM Proxy-shaped) whose database layer sends reads to a Postgres read replica and writes to the primary" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"

COPY --from=rootfs /rootfs/ /
WORKDIR /app
# Owned by root and not writable by the app user (10001, the Helm chart's securityContext): the app
# never writes into its own tree.
COPY --from=build /src/dist/tandem.mjs ./dist/tandem.mjs
COPY --from=build /src/dist/ui ./dist/ui
COPY package.json ./package.json
COPY prisma/migrations ./prisma/migrations
COPY docker/entrypoint /usr/local/bin/tandem

# A bounded old generation: under load V8 otherwise grows the heap far past
# what is live (measured: peak RSS ×2.4 idle without it, ×2.0–2.2 with it; same req/s).
# Raise it with NODE_OPTIONS (chart: envVars) for very large spend queues.
# glibc's malloc: two arenas and a fixed trim threshold, so memory freed after
# a burst goes back to the system (npm run bench:proxy: RSS 30 s after the
# load ~180 MB instead of ~210 MB; same req/s).
ENV PATH=/usr/local/bin:/bin \
    NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=256 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    PORT=4000 \
    TANDEM_HOME=/app
USER 10001:10001
EXPOSE 4000

# No curl in the image: Node's fetch. Readiness answers 503 only when the writer is unreachable.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/health/readiness').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# `tandem` execs node, so node is PID 1 and receives SIGTERM itself (the app drains and exits 0).
ENTRYPOINT ["tandem"]
CMD ["serve"]
