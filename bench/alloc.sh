#!/usr/bin/env bash
# Heap bytes the daemon's event loops allocate per forwarded Redis request, end to end.
#
#   bench/alloc.sh                    # GET and SET, -c 50, plain and -P 16, 500k requests each
#   bench/alloc.sh -n 200000 --sites 15
#
# Allocation does not depend on how busy the machine is, so unlike throughput this figure is
# comparable between runs on a shared box. Starts redis-server and `bin/mproxy run` (admission,
# P2C and metrics on, as in bench/redis.sh) on free loopback ports with a JFR recording that
# samples each thread's allocated bytes every 500 ms; runs an untimed warm-up, then each measured
# redis-benchmark run, and reads the growth of the event-loop threads' counters over the run
# (bench/jfr-alloc.py). Everything it started is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
requests=500000
sites=0
while (($#)); do
  case $1 in
    -n) requests=${2:?}; shift 2 ;;
    --sites) sites=${2:?}; shift 2 ;;
    -h|--help) sed -n 2,13p "$0"; exit 0 ;;
    *) echo "bench/alloc.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for cmd in redis-server redis-benchmark curl java jfr jcmd python3; do
  command -v "$cmd" >/dev/null || { echo "bench/alloc.sh: $cmd is missing" >&2; exit 1; }
done
work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-alloc.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(port); proxy_port=$(port); admin_port=$(port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
cat >"$work/mproxy.yaml" <<YAML
server: { shutdown_grace_ms: 1000, watch_config: false }
admin: { bind: 127.0.0.1:$admin_port }
listeners:
  - { name: redis, protocol: redis, bind: 127.0.0.1:$proxy_port, cluster: bench }
clusters:
  bench:
    protocol: redis
    backends: [ { address: 127.0.0.1:$redis_port, role: primary } ]
    balancer: { strategy: p2c, score: peak_ewma }
    pool: { min_idle: 4, max_size: 8, max_opens_per_sec: 50 }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
jfr configure --input profile --output "$work/alloc.jfc" >/dev/null
sed -i '/name="jdk.ThreadAllocationStatistics"/,/<\/event>/ s#<setting name="period">[^<]*</setting>#<setting name="period">500 ms</setting>#' "$work/alloc.jfc"
"$root/bin/mproxy" version >/dev/null
MPROXY_JAVA_OPTS="-XX:StartFlightRecording=settings=$work/alloc.jfc,filename=$work/rec.jfr" \
  "$root/bin/mproxy" run --config "$work/mproxy.yaml" >"$work/mproxy.log" 2>&1 &
pids+=($!)
mproxy_pid=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" || { tail "$work/mproxy.log" >&2; exit 1; }
jvm_pid=$(pgrep -P "$mproxy_pid" java || echo "$mproxy_pid")
echo "mproxy $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); $requests requests per run, -c 50; load $(cut -d' ' -f1-3 /proc/loadavg)"
for pipe in 0 16; do
  for t in get set; do
    redis-benchmark -p "$proxy_port" -c 50 -P $((pipe > 0 ? pipe : 1)) -n "$requests" -t "$t" -q >/dev/null
    sleep 1.2; t0=$(date +%s.%N)
    redis-benchmark -p "$proxy_port" -c 50 -P $((pipe > 0 ? pipe : 1)) -n "$requests" -t "$t" -q >/dev/null
    t1=$(date +%s.%N); sleep 1.2
    jcmd "$jvm_pid" JFR.dump filename="$work/now.jfr" >/dev/null
    printf '%-4s %-6s ' "$t" "$([ "$pipe" -gt 0 ] && echo "-P $pipe" || echo plain)"
    "$root/bench/jfr-alloc.py" "$work/now.jfr" --from "$t0" --to "$t1" --requests "$requests" --sites "$sites"
  done
done
