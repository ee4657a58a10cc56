#!/usr/bin/env bash
# neo4j-local.sh start|stop|status|uri
#
# Runs the real Neo4j 5.26 LTS Community, embedded in tools/neo4j-launcher, with Bolt on 127.0.0.1.
# No Docker needed: Java 17+ and Maven build the launcher once (Maven Central the first time), then
# runs are offline. Data lives in $NEO4J_HOME (default .neo4j/, gitignored) and survives restarts.
#
# Settings (environment):
#   NEO4J_HOME            data, logs, pid and ready files   (default: <repo>/.neo4j)
#   NEO4J_BOLT_PORT       Bolt port on 127.0.0.1             (default: 7687)
#   NEO4J_HEAP            JVM heap, -Xms and -Xmx            (default: 1g)
#   NEO4J_PAGECACHE       page cache size                     (default: 512m)
#   NEO4J_READY_TIMEOUT   seconds to wait for Bolt            (default: 120)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAUNCHER="$ROOT/tools/neo4j-launcher"
HOME_DIR="${NEO4J_HOME:-$ROOT/.neo4j}"
PORT="${NEO4J_BOLT_PORT:-7687}"
HEAP="${NEO4J_HEAP:-1g}"
PAGECACHE="${NEO4J_PAGECACHE:-512m}"
READY_TIMEOUT="${NEO4J_READY_TIMEOUT:-120}"
PID_FILE="$HOME_DIR/pid"
READY_FILE="$HOME_DIR/ready"
LOG_FILE="$HOME_DIR/launcher.log"
URI="bolt://127.0.0.1:$PORT"

say() { echo "neo4j-local: $*" >&2; }
die() { say "$*"; exit 1; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

bolt_answers() {
  # bash's /dev/tcp: no nc or curl needed.
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

require_tools() {
  command -v java >/dev/null || die "java not found: install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless)"
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8+ (Debian: apt-get install maven)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  [[ "${major%%.*}" -ge 17 ]] 2>/dev/null || die "Java $major found, Neo4j 5.26 needs Java 17 or newer"
}

build_launcher() {
  local stamp="$LAUNCHER/target/.built"
  if [[ -f "$stamp" && "$stamp" -nt "$LAUNCHER/pom.xml" && -z "$(find "$LAUNCHER/src" -newer "$stamp" -print -quit)" ]]; then
    return 0
  fi
  say "building tools/neo4j-launcher with Maven (the first build downloads ~180 MB into ~/.m2)"
  rm -rf "$LAUNCHER/target/lib"
  MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.passthrough=false -Djansi.strip=true" \
    mvn -q -B -Dstyle.color=never -f "$LAUNCHER/pom.xml" package >&2 || die "Maven build failed: check network access to Maven Central, or run 'mvn -B -f tools/neo4j-launcher/pom.xml package' to see why"
  touch "$stamp"
}

write_conf() {
  mkdir -p "$HOME_DIR/plugins"
  cat >"$HOME_DIR/neo4j-dev.conf" <<EOF
# Written by scripts/neo4j-local.sh on every start; edit the script, not this file.
server.memory.pagecache.size=$PAGECACHE
db.tx_log.preallocate=false
db.tx_log.rotation.retention_policy=false
db.tx_log.rotation.size=64M
dbms.memory.transaction.total.max=512m
dbms.security.procedures.unrestricted=apoc.*
EOF
  # APOC must be both on the classpath (its extension factories load from the app class loader) and
  # alone in the plugin dir, or Neo4j scans every jar of lib/ as a plugin.
  rm -f "$HOME_DIR"/plugins/apoc-*.jar
  cp "$LAUNCHER"/target/lib/apoc-core-*.jar "$HOME_DIR/plugins/"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if bolt_answers; then
      say "already running (pid $pid)"
      echo "NEO4J_URI=$URI"
      return 0
    fi
    die "a launcher (pid $pid) holds $HOME_DIR but Bolt on port $PORT does not answer; see $LOG_FILE, or run '$0 stop'"
  fi
  rm -f "$PID_FILE" "$READY_FILE"
  if bolt_answers; then
    die "port $PORT is in use by another process; stop it, or pick another port with NEO4J_BOLT_PORT=7688"
  fi
  require_tools
  build_launcher
  write_conf

  say "starting Neo4j (home $HOME_DIR, Bolt $URI, heap $HEAP, page cache $PAGECACHE)"
  local t0=$SECONDS
  # setsid: the launcher outlives this shell and is not hit by the caller's Ctrl-C.
  setsid nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED -Dio.netty.tryReflectionSetAccessible=true \
    -cp "$LAUNCHER/target/classes:$LAUNCHER/target/lib/*" sectwin.launcher.Main \
    --home "$HOME_DIR" --bolt "127.0.0.1:$PORT" --plugins "$HOME_DIR/plugins" \
    --conf "$HOME_DIR/neo4j-dev.conf" --ready "$READY_FILE" \
    >"$LOG_FILE" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  while (( SECONDS - t0 < READY_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      say "Neo4j exited during start-up. Last lines of $LOG_FILE:"
      tail -n 25 "$LOG_FILE" >&2 || true
      [[ -f "$HOME_DIR/logs/debug.log" ]] && { say "last lines of $HOME_DIR/logs/debug.log:"; tail -n 15 "$HOME_DIR/logs/debug.log" >&2; }
      exit 1
    fi
    if [[ -f "$READY_FILE" ]] && bolt_answers; then
      say "ready in $((SECONDS - t0)) s (pid $pid); stop with '$0 stop'"
      echo "NEO4J_URI=$URI"
      return 0
    fi
    sleep 0.5
  done
  say "Bolt did not answer within ${READY_TIMEOUT}s; stopping. Last lines of $LOG_FILE:"
  tail -n 25 "$LOG_FILE" >&2 || true
  cmd_stop || true
  exit 1
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE" "$READY_FILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid"
  # The shutdown hook checkpoints and closes the store; give it time before anything harsher.
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE" "$READY_FILE"; say "stopped"; return 0; }
    sleep 0.5
  done
  say "pid $pid did not stop within 60 s; killing it (the store recovers on next start)"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE" "$READY_FILE"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && bolt_answers; then
    echo "running pid=$pid NEO4J_URI=$URI"
    return 0
  fi
  if pid="$(running_pid)"; then
    echo "starting or unhealthy pid=$pid (Bolt on $PORT does not answer)"
    return 1
  fi
  echo "stopped"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  uri) echo "NEO4J_URI=$URI" ;;
  *) echo "usage: $0 start|stop|status|uri" >&2; exit 2 ;;
esac
