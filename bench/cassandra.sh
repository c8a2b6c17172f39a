#!/usr/bin/env bash
# Prepared CQL point reads and writes with the Apache Cassandra Java driver, straight to a
# Cassandra node and through mproxy, interleaved rounds, medians, ratios to direct, and the CPU
# the proxy and the node spent per operation.
#
#   bench/cassandra.sh                                  # 3 rounds of 10 s, 32 requests in flight
#   bench/cassandra.sh --rounds 5 --seconds 20 --concurrency 64 --rows 100000
#   bench/cassandra.sh --in-process                     # mproxy inside the load generator's JVM
#   bench/cassandra.sh --warmup 30 --baseline-jar /tmp/base/mproxy-server/target/mproxy-server-0.1.0-all.jar
#                       # a longer warm-up, and a second mproxy from another build measured in the same rounds (A/B)
#
# Builds mproxy's shaded jar (bin/mproxy) and mproxy-server's test classes (no install), then
# runs io.mproxy.server.it.cassandra.CqlBench: it starts one Cassandra 5.0.6 node in its own JVM
# (the testkit's CassandraServer, 20-90 s), mproxy in its own process (bin/mproxy run with a
# generated config), loads the rows, and measures each workload against each target for the given
# time with a fixed number of requests in flight; CPU per operation is utime+stime from
# /proc/PID/stat over each measured run. The node, mproxy and the load generator share the
# machine: numbers are indicative (the load average is printed); compare the ratios of one run.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$root"

for arg in "$@"; do
  case $arg in
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "bench/cassandra.sh: building mproxy (bin/mproxy's shaded jar)" >&2
"$root/bin/mproxy" version >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
echo "bench/cassandra.sh: building mproxy-server test classes" >&2
./mvnw -B -q -pl mproxy-server -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >&2

classes=""
for module in mproxy-testkit mproxy-core mproxy-protocol-redis mproxy-protocol-postgres mproxy-protocol-mysql \
    mproxy-protocol-mongo mproxy-protocol-cassandra mproxy-gossip mproxy-sim mproxy-server; do
  classes="$classes:$root/$module/target/classes"
done
cp="$root/mproxy-server/target/test-classes$classes:$(cat "$work/cp.txt")"

java -Xmx1g -Dio.netty.leakDetection.level=disabled -Dmproxy.root="$root" -Dclk.tck="$(getconf CLK_TCK)" \
  -cp "$cp" io.mproxy.server.it.cassandra.CqlBench "$@"
