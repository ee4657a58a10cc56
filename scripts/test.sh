#!/usr/bin/env bash
# scripts/test.sh: what `make test` runs. Starts Neo4j if none is running (and stops it again),
# checks formatting, vet and generated code, then runs every test with the race detector against
# the real Neo4j and an embedded NATS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=0
cleanup() { if [[ $started == 1 ]]; then scripts/neo4j-local.sh stop; fi; }
trap cleanup EXIT

if [[ -z "${NEO4J_URI:-}" ]]; then
  if ! scripts/neo4j-local.sh status >/dev/null 2>&1; then
    scripts/neo4j-local.sh start >/dev/null
    started=1
  fi
  NEO4J_URI="$(scripts/neo4j-local.sh uri | cut -d= -f2)"
  export NEO4J_URI
fi
echo "test: Neo4j at $NEO4J_URI"

# The edge collector's MQTT tests run against Debian's mosquitto. CI machines start without it:
# install it there (as root); elsewhere the tests say how to get it.
if ! command -v mosquitto >/dev/null 2>&1 && [[ ! -x /usr/sbin/mosquitto ]]; then
  if [[ "${CI:-}" == "true" && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing mosquitto"
    apt-get install -y -q mosquitto >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q mosquitto >/dev/null; }
  fi
fi

echo "test: gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' | grep -v '^tools/') 2>/dev/null || true)"
if [[ -n "$unformatted" ]]; then
  echo "gofmt would change these files; run 'gofmt -w' on them:" >&2
  echo "$unformatted" >&2
  exit 1
fi

echo "test: go vet"
go vet ./...

echo "test: generated GraphQL code is current"
scripts/check-generated.sh

echo "test: go test -race ./... (one line per test; the full log is in .test-output/go-test.log)"
mkdir -p .test-output
# testreport writes the whole log to the file, a line per finished test here, and repeats each
# failure's own output at the end, where CI's shortened output still shows it.
go build -o .test-output/testreport ./internal/testenv/testreport
if ! go test -race -count=1 -json "$@" ./... 2>&1 | .test-output/testreport -log .test-output/go-test.log; then
  echo "test: FAILED; the whole log is in .test-output/go-test.log" >&2
  exit 1
fi
