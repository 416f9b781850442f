# tandem — developer entry points. Every target installs what it is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NPM_INSTALLED := node_modules/.package-lock.json

.PHONY: help run-deps deps run test typecheck lint unit chart-test image container-test compose-test e2e e2e-offline bench bench-ryw bench-analytics bench-spend-logs bench-fleet bench-proxy clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(NPM_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

run-deps: $(NPM_INSTALLED) ## what running needs: node dependencies, Postgres if missing, the Prisma client, the admin UI
	@scripts/ensure-postgres.sh
	npm run --silent generate
	npm run --silent build:ui

deps: run-deps ## what testing needs besides: Redis (fleet tests) and Chromium (UI tests) if missing
	@scripts/ensure-redis.sh
	@scripts/ensure-chromium.sh

run: run-deps ## start a local primary + streaming replica, migrate, serve on :4000
	npm run --silent dev

typecheck: deps ## tsc --noEmit over app, e2e and scripts
	npm run --silent typecheck

lint: deps ## eslint + prettier --check
	npm run --silent lint

unit: deps ## unit + integration tests (real primary/replica pair)
	npm test

test: typecheck lint unit chart-test ## everything quick that CI checks

chart-test: ## helm lint --strict + helm-unittest for charts/tandem
	scripts/chart-test.sh

image: ## build the container image tandem:dev (builds a local base image when no registry is reachable)
	scripts/build-image.sh

container-test: ## run the image against a local primary/replica pair
	scripts/container-test.sh

compose-test: ## bring the Compose example up with local images and check a key lookup on the reader
	scripts/compose-test.sh

e2e: ## Kubernetes end-to-end suite on a kind cluster (needs Docker and internet)
	e2e/run-kind.sh

e2e-offline: ## the same suite on a kind cluster built entirely from local images (CI)
	e2e/offline/run.sh

bench: deps ## routing overhead and reader failover benchmarks against a local pair
	npm run --silent bench

bench-ryw: deps ## read-your-writes on demand: create-then-read rounds, reads the writer answers with the replay check off and on
	npm run --silent bench:ryw

bench-analytics: deps ## Usage page and spend reports over 5M spend rows (daily aggregates vs summing the rows)
	npm run --silent bench:analytics

bench-spend-logs: deps ## spend rows at 3M (ROWS=30000000 for 30M) over 90 days: bytes per row, /spend/logs latencies, a day dropped, WAL and writer CPU per 1,000 completions
	npm run --silent bench:spend-logs

bench-fleet: deps ## three pods on one Redis vs one pod without: req/s, Redis commands and CPU per request, each pod's CPU per request
	npm run --silent bench:fleet

bench-proxy: deps ## proxy throughput benchmark (tandem vs the upstream, and Portkey/LiteLLM when installable)
	eval "$$(scripts/bench-peers.sh)" && npm run --silent bench:proxy

clean:
	rm -rf dist app/generated
