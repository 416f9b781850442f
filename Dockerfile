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
# build: prisma generate (offline-safe) + tsc -> /src/dist
FROM deps AS build
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/prisma-generate.mjs ./scripts/prisma-generate.mjs
COPY app ./app
RUN npm run build \
 && test -f dist/app/cli.js && test -f dist/ui/index.html

# ---------------------------------------------------------------------------------------------
# prod-deps: runtime dependencies only (the npm cache mount is shared with the deps stage).
#  --omit=optional as well: @prisma/client's optional peers `prisma` and `typescript` are marked
#  devOptional in the lockfile, and npm keeps devOptional packages unless both dev and optional
#  are omitted. That pair would bring the Prisma CLI, @prisma/engines and TypeScript (~250 MB).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /src
ENV CI=true npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca_bundle,target=/run/secrets/ca_bundle \
    --mount=type=cache,id=tandem-npm,target=/root/.npm,sharing=locked \
    if [ -s /run/secrets/ca_bundle ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca_bundle; fi; \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --prefer-offline \
 # The generated client (dist/app/generated/prisma) loads only the PostgreSQL query compiler;
 # @prisma/client ships one for every provider (~55 MB).
 && find node_modules/@prisma/client/runtime -maxdepth 1 -type f \
      \( -name '*.sqlite.*' -o -name '*.mysql.*' -o -name '*.sqlserver.*' -o -name '*.cockroachdb.*' \) -delete \
 && rm -rf node_modules/.cache \
 # Guard: no Prisma CLI, engine binaries, TypeScript or other dev tooling in the runtime tree.
 && for p in prisma @prisma/engines @prisma/fetch-engine @prisma/dev typescript tsx esbuild eslint prettier; do \
      if [ -e "node_modules/$p" ]; then echo "unexpected runtime dependency: $p" >&2; exit 1; fi; \
    done \
 && if find node_modules \( -name '*query_engine*' -o -name '*schema-engine*' -o -name '*.so.node' \) | grep .; then \
      echo "Prisma engine binaries found in the runtime tree" >&2; exit 1; \
    fi

# ---------------------------------------------------------------------------------------------
# runtime
FROM ${NODE_IMAGE} AS runtime
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

# A fixed non-root user (the Helm chart's securityContext uses the same ids). The package
# managers that come with the Node base image are not needed at run time: remove them.
RUN groupadd --gid 10001 tandem \
 && useradd --uid 10001 --gid 10001 --no-create-home --no-log-init --home-dir /nonexistent --shell /usr/sbin/nologin tandem \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
           /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
           /tmp/* /root/.npm

WORKDIR /app
# Owned by root and not writable by the app user: the app never writes into its own tree.
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./package.json
COPY prisma/migrations ./prisma/migrations
COPY docker/entrypoint /usr/local/bin/tandem

# A bounded old generation: under load V8 otherwise grows the heap far past
# what is live (measured: peak RSS ×2.4 idle without it, ×2.0–2.2 with it; same req/s).
# Raise it with NODE_OPTIONS (chart: envVars) for very large spend queues.
# glibc's malloc: two arenas and a fixed trim threshold, so memory freed after
# a burst goes back to the system (npm run bench:proxy: RSS 30 s after the
# load ~180 MB instead of ~210 MB; same req/s).
ENV NODE_ENV=production \
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
