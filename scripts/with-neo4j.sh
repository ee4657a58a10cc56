#!/usr/bin/env bash
# with-neo4j.sh CMD...: start the local Neo4j if needed, then exec CMD with NEO4J_URI and
# SECTWIN_NEO4J_URI pointing at it. `make run` and `make bench` use it. A NEO4J_URI already set
# in the environment is used as it is, and no local Neo4j is started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -z "${NEO4J_URI:-}" ]]; then
  line="$(scripts/neo4j-local.sh start | grep '^NEO4J_URI=')"
  NEO4J_URI="${line#NEO4J_URI=}"
fi
export NEO4J_URI SECTWIN_NEO4J_URI="${SECTWIN_NEO4J_URI:-$NEO4J_URI}"
exec "$@"
