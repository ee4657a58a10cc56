#!/usr/bin/env bash
# Fails when resolvers/generated or resolvers/model differ from what `make generate` produces
# from schema/*.graphqls. It regenerates in place, so after a failure the tree holds the fresh code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
before="$(mktemp -d)"
trap 'rm -rf "$before"' EXIT
cp -r resolvers "$before/"
go tool gqlgen generate
if ! diff -r "$before/resolvers" resolvers >/dev/null; then
  diff -r "$before/resolvers" resolvers | head -40 >&2 || true
  echo "generated GraphQL code was stale: it has now been regenerated; review and commit resolvers/" >&2
  exit 1
fi
