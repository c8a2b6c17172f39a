#!/usr/bin/env bash
# Soak: mixed traffic through mproxy to Redis, PostgreSQL, MySQL (MariaDB) and MongoDB
# (mongo-java-server) for a bounded time while backends are restarted and the configuration is
# reloaded; reports requests sent, answered (ok / error by kind) and LOST, which must be 0.
#
#   bench/soak.sh                    # 120 s, 2 clients per protocol, a fault every 10 s
#   bench/soak.sh -t 600 -c 4 -f 5   # 10 min, 4 clients per protocol, a fault every 5 s
#   bench/soak.sh --timeout-ms 5000  # a request unanswered after 5 s counts as lost (default 10 s)
#
# Faults, in turn: Redis SIGKILL + restart, config file rewritten (the daemon watches it),
# PostgreSQL restart, POST /api/reload. Clients: Lettuce, pgjdbc, MariaDB Connector/J, the
# MongoDB sync driver, each request tallied as ok, error (protocol code, "refused" for mproxy's
# own refusals, "connection" for a closed connection) or lost. Exit status 0 when nothing was
# lost. Needs redis-server, PostgreSQL 15 and mariadb-server (see docs/reliability.md); the
# daemon's log goes to mproxy-server/target/soak.log.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

for arg in "$@"; do
  case $arg in
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "bench/soak.sh: building mproxy-server test classes" >&2
./mvnw -B -q -pl mproxy-server -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >&2

classes=""
for module in mproxy-testkit mproxy-core mproxy-protocol-redis mproxy-protocol-postgres mproxy-protocol-mysql \
    mproxy-protocol-mongo mproxy-protocol-cassandra mproxy-gossip mproxy-sim mproxy-server; do
  classes="$classes:$root/$module/target/classes"
done
cp="$root/mproxy-server/target/test-classes$classes:$(cat "$work/cp.txt")"
log="$root/mproxy-server/target/soak.log"

status=0
java -Xmx1g -Dio.netty.leakDetection.level=disabled -cp "$cp" io.mproxy.server.soak.Soak "$@" 2>"$log" || status=$?
if [ "$status" -ne 0 ]; then
  echo "bench/soak.sh: exit $status; last lines of $log:" >&2
  tail -n 30 "$log" >&2
fi
exit "$status"
