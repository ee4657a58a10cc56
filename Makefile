# sectwin: `make run` serves the API on :8080 from nothing; `make test` runs every test against
# the real Neo4j and NATS. See README.md.
SHELL := bash
.DEFAULT_GOAL := help
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: help run test build generate check-generated neo4j-start neo4j-stop neo4j-status migrate bench docker-build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: build ## start Neo4j (building its launcher on first use), then serve on :8080 in dev mode
	@scripts/with-neo4j.sh bin/sectwin serve --dev

test: ## gofmt, go vet, generated-code check and go test -race against real Neo4j and NATS
	scripts/test.sh

build: ## build bin/sectwin
	go build -ldflags "$(LDFLAGS)" -o bin/sectwin ./cmd/sectwin

generate: ## regenerate gqlgen code from schema/*.graphqls
	go tool gqlgen generate

check-generated: ## fail if generated gqlgen code is stale
	scripts/check-generated.sh

neo4j-start: ## start the local Neo4j (no Docker needed)
	scripts/neo4j-local.sh start

neo4j-stop: ## stop the local Neo4j; data stays in .neo4j/
	scripts/neo4j-local.sh stop

neo4j-status: ## is the local Neo4j running?
	scripts/neo4j-local.sh status

migrate: build ## apply migrations to the local Neo4j (starting it if needed)
	@scripts/with-neo4j.sh bin/sectwin migrate

bench: ## run the benchmarks; prints name=value lines
	@scripts/with-neo4j.sh go run ./bench/http

.PHONY: bench-ingest
bench-ingest: ## the ingest pipeline against a raw UNWIND write of the same rows; prints ingest_vs_raw_ratio
	@scripts/with-neo4j.sh go run ./bench/ingest $(BENCH_INGEST_FLAGS)

.PHONY: bench-graphql
bench-graphql: ## GraphQL vs hand-written Cypher latency on a synthetic twin; flags in BENCH_GRAPHQL_FLAGS
	@scripts/with-neo4j.sh go run ./bench/graphql $(BENCH_GRAPHQL_FLAGS)

.PHONY: bench-edge
bench-edge: ## the edge record pipeline over 10^6 events against a bare decode→encode passthrough; prints edge_vs_passthrough_ratio
	@go run ./bench/edge $(BENCH_EDGE_FLAGS)

.PHONY: bench-attackpaths
bench-attackpaths: ## attack paths at 100k and 1M nodes: projection, top-10 via engine and GraphQL, report run; flags in BENCH_ATTACKPATHS_FLAGS
	@NEO4J_HEAP=$${NEO4J_HEAP:-2g} NEO4J_PAGECACHE=$${NEO4J_PAGECACHE:-3g} scripts/with-neo4j.sh go run ./bench/attackpaths $(BENCH_ATTACKPATHS_FLAGS)

.PHONY: bench-assurance
bench-assurance: ## a new CVE ingested to its UNDERMINED event, 10 000-element case on a 100k-node twin; prints assurance_reeval_ms; flags in BENCH_ASSURANCE_FLAGS
	@scripts/with-neo4j.sh go run ./bench/assurance $(BENCH_ASSURANCE_FLAGS)

.PHONY: bench-telemetry
bench-telemetry: ## 10^6 telemetry events over NATS into the live-state worker; prints telemetry_events_per_sec and last telemetry_p99_visible_ms; flags in BENCH_TELEMETRY_FLAGS
	@scripts/with-neo4j.sh go run ./bench/telemetry $(BENCH_TELEMETRY_FLAGS)

docker-build: ## build the sectwin image (needs a Docker engine)
	docker build -t sectwin:$(VERSION) .

clean: ## remove build output (keeps Neo4j and sectwin data)
	rm -rf bin tools/neo4j-launcher/target
