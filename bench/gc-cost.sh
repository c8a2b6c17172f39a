#!/usr/bin/env bash
# What collecting the forward path's garbage costs: the garbage collector's CPU per forwarded Redis
# request, and its share of the daemon's CPU, over one measured redis-benchmark phase.
#
#   bench/gc-cost.sh                      # 4,000,000 GETs, -c 50 -P 16, after 400,000 GET+SET
#   bench/gc-cost.sh -n 2000000 -P 0
#
# Starts its own redis-server and mproxy (bin/mproxy run of this checkout, heap pre-touched, an
# unlimited RU budget, pool of 8) on free loopback ports, with -Xlog:gc,gc+cpu. After the warm-up
# it reads the daemon's CPU (utime + stime of all its threads, /proc/PID/stat) and the GC log's
# position, runs the measured phase, and sums the User + Sys seconds the log reports for every
# collection that ended during it. MPROXY_JAVA_OPTS adds JVM options (e.g. -Xmx1g, or
# -XX:+UseParallelGC to compare collectors). Per-request allocation does not depend on machine
# load, and the collector's work is proportional to it, so the share compares across runs better
# than any time does.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
n=4000000; depth=16; warmup=400000
while (($#)); do
  case $1 in
    -n) n=${2:?}; shift 2 ;;
    -P) depth=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) echo "bench/gc-cost.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for cmd in redis-server redis-benchmark curl java python3; do
  command -v "$cmd" >/dev/null || { echo "bench/gc-cost.sh: $cmd is missing" >&2; exit 1; }
done
work="$(mktemp -d /tmp/mproxy-gc-cost.XXXXXX)"
pid=""
cleanup() {
  [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  if [[ -s $work/redis.pid ]]; then
    local r; r="$(cat "$work/redis.pid")"
    kill "$r" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$r" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(port); proxy_port=$(port); admin_port=$(port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
cat >"$work/mproxy.yaml" <<YAML
server: { shutdown_grace_ms: 1000, watch_config: false }
admin: { bind: 127.0.0.1:$admin_port }
listeners:
  - { name: redis, protocol: redis, bind: 127.0.0.1:$proxy_port, cluster: bench }
clusters:
  bench:
    protocol: redis
    backends: [ { address: 127.0.0.1:$redis_port, role: primary } ]
    pool: { min_idle: 4, max_size: 8 }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
"$root/bin/mproxy" version >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:-} -Xlog:gc,gc+cpu:file=$work/gc.log" \
  "$root/bin/mproxy" run --config "$work/mproxy.yaml" >"$work/mproxy.log" 2>&1 &
pid=$!
for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" || { tail -n 30 "$work/mproxy.log" >&2; exit 1; }

pipeline=(); ((depth > 0)) && pipeline=(-P "$depth")
redis-benchmark -p "$proxy_port" -c 50 "${pipeline[@]}" -n "$warmup" -t get,set -q >/dev/null
cpu_ticks() { local s; s="$(cat "/proc/$pid/stat")"; s="${s##*) }"; awk '{ print $12 + $13 }' <<<"$s"; }
lines0=$(wc -l <"$work/gc.log"); cpu0=$(cpu_ticks)
result="$(redis-benchmark -p "$proxy_port" -c 50 "${pipeline[@]}" -n "$n" -t get -q | tr '\r' '\n' | grep 'requests per second' | tail -1)"
cpu1=$(cpu_ticks)
sleep 0.5   # let the log's last line land
tail -n +"$((lines0 + 1))" "$work/gc.log" >"$work/measured.log"
collections=$(grep -c 'Pause' "$work/measured.log" || true)
echo "machine: $(nproc) cores; $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "measured: $n GETs, -c 50${pipeline[*]:+ ${pipeline[*]}}: $result"
awk -v n="$n" -v ticks="$((cpu1 - cpu0))" -v hz="$(getconf CLK_TCK)" -v pauses="$collections" '
  /gc,cpu/ { for (i = 1; i <= NF; i++) if ($i ~ /^(User|Sys)=/) { split($i, kv, "="); sub(/s$/, "", kv[2]); gc += kv[2] } }
  END {
    cpu = ticks / hz
    printf "collections: %d; GC CPU %.3f s of the daemon'"'"'s %.2f s (%.2f %%)\n", pauses, gc, cpu, 100 * gc / cpu
    printf "per request: GC %.1f ns, daemon %.2f us\n", 1e9 * gc / n, 1e6 * cpu / n
  }' "$work/measured.log"
