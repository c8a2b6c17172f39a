#!/usr/bin/env bash
# Floods against a running mproxy (issue 11): memory per idle client connection, and a sustained
# overload of many times what the proxy admits.
#
#   bench/floods.sh idle                  # 10,000 idle Redis clients: heap and RSS per connection
#   bench/floods.sh idle -n 5000
#   bench/floods.sh overload              # 60 s of >= 10x the admitted rate: queues, heap, admin latency
#   bench/floods.sh overload -T 20 -c 200
#
# Starts its own redis-server and mproxy (bin/mproxy run, its own JVM; MPROXY_JAVA_OPTS adds JVM
# options, default -Xmx512m) on free ports of 127.0.0.1, and stops both on exit.
#
# idle: forces a GC (jcmd GC.run) and reads the proxy's heap in use (jcmd GC.heap_info) and RSS (/proc/PID/status VmRSS) with no client; opens N plain
# sockets from a python3 process (raising its fd limit), waits until /api/status counts all N,
# idles 2 s, forces a GC and reads both again; then sends PING on every socket and counts the
# PONGs. Prints (after - before) / N for heap and RSS.
#
# overload: the default group admits ru_per_sec 200 (queueing up to max_queued 200 for
# max_queue_ms 200) and the priority gate max_inflight 16 / max_queued 500; the load
# is replaced by a python3 asyncio client (C connections sending GET and awaiting each answer, as
# fast as they can; redis-benchmark stops at the first error reply) for T seconds. It keeps sampling the admin
# latency (curl to /api/status), the gate's and the group's queued counts, and heap in use; at the
# end it prints the offered and admitted rates (mproxy_requests_total by outcome), their ratio,
# the maxima of the samples, and whether the proxy still answers. Indicative only on a shared
# machine: the counts and bounds hold under load, the latencies do not.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
mode=${1:-}
[[ $mode == idle || $mode == overload ]] || { sed -n 2,8p "$0" >&2; exit 2; }
shift
clients_idle=10000
seconds=60
bench_clients=200
while (($#)); do
  case $1 in
    -n) clients_idle=${2:?}; shift 2 ;;
    -T) seconds=${2:?}; shift 2 ;;
    -c) bench_clients=${2:?}; shift 2 ;;
    *) echo "bench/floods.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
for cmd in redis-server redis-cli redis-benchmark curl java jcmd python3 awk; do
  command -v "$cmd" >/dev/null || { echo "bench/floods.sh: $cmd is missing" >&2; exit 1; }
done

work="$(mktemp -d /tmp/mproxy-floods.XXXXXX)"
started_pids=()
redis_pid=""
cleanup() {
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null || true
  for p in "${started_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

used_ports=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))   # below the ephemeral range (32768+), where clients' own ports live
    [[ $used_ports == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      port=$p
      return 0
    fi
  done
  echo "bench/floods.sh: no free port" >&2
  exit 1
}

free_port; redis_port=$port
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --maxclients 20000 \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 100); do [[ -s $work/redis.pid ]] && break; sleep 0.1; done
[[ -s $work/redis.pid ]] || { echo "bench/floods.sh: redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
redis_pid="$(cat "$work/redis.pid")"
free_port; proxy_port=$port
free_port; admin_port=$port

if [[ $mode == idle ]]; then
  limits="max_client_connections: $((clients_idle + 100))"
  groups="  default: { ru_per_sec: 1000000000, burst: 1000000000, on_exhausted: reject }"
  codel=""
else
  limits="max_client_connections: 10000"
  groups="  default: { ru_per_sec: 200, burst: 200, on_exhausted: queue, max_queue_ms: 200, max_queued: 200 }"
  codel="codel: { max_inflight: 16, max_queued: 500, max_wait_ms: 500 }"
fi
cat >"$work/mproxy.yaml" <<YAML
server: { watch_config: false, shutdown_grace_ms: 1000 }
admin: { bind: 127.0.0.1:$admin_port }
listeners:
  - { name: redis, protocol: redis, bind: 127.0.0.1:$proxy_port, cluster: c, $limits }
clusters:
  c:
    protocol: redis
    backends: [ { address: 127.0.0.1:$redis_port, role: primary } ]
    pool: { min_idle: 4, max_size: 8 }
resource_groups:
$groups
$codel
YAML
chmod 600 "$work/mproxy.yaml"
"$root/bin/mproxy" version >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; exit 1; }
MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:--Xmx512m}" "$root/bin/mproxy" run --config "$work/mproxy.yaml" \
  >"$work/mproxy.log" 2>&1 &
pid=$!
started_pids+=("$pid")
for _ in $(seq 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" && break
  kill -0 "$pid" 2>/dev/null || { tail -n 30 "$work/mproxy.log" >&2; exit 1; }
  sleep 0.2
done
# the JVM: bin/mproxy execs java, but look it up by the config path to be sure
jvm="$(pgrep -f -n -- "--config $work/mproxy.yaml" || echo "$pid")"

heap_used() {   # bytes in use in the Java heap (jcmd GC.heap_info; the proxy exports no JVM gauges)
  jcmd "$jvm" GC.heap_info | awk 'match($0, /used [0-9]+K/) { print substr($0, RSTART + 5, RLENGTH - 6) * 1024; exit }'
}
rss_bytes() {
  awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$jvm/status"
}
status() {
  curl -sf --max-time 10 "http://127.0.0.1:$admin_port/api/status"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); $(java -version 2>&1 | head -1)"
echo "mproxy JVM options: ${MPROXY_JAVA_OPTS:--Xmx512m}"

if [[ $mode == idle ]]; then
  jcmd "$jvm" GC.run >/dev/null; sleep 1
  heap0=$(heap_used); rss0=$(rss_bytes)
  python3 - "$proxy_port" "$admin_port" "$clients_idle" "$jvm" <<'PY' >"$work/idle.out"
import json, resource, socket, subprocess, sys, time, urllib.request
port, admin, n, jvm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1000), hard))
def status():
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/api/status", timeout=10) as r:
        return json.load(r)
def counted():
    return sum(l["client_connections"] for l in status()["listeners"])
def metric(name, label):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=10) as r:
        return sum(float(l.split()[-1]) for l in r.read().decode().splitlines()
                   if l.startswith(name + "{") and label in l)
def rss():
    with open(f"/proc/{jvm}/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))
socks = []
t0 = time.time()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    socks.append(s)
deadline = time.time() + 60
while counted() < n and time.time() < deadline:
    time.sleep(0.2)
held = counted()
print(f"connect_seconds {time.time() - t0:.1f}")
print(f"held {held}")
time.sleep(2)
subprocess.run(["jcmd", jvm, "GC.run"], stdout=subprocess.DEVNULL, check=True)
time.sleep(1)
import re
info = subprocess.run(["jcmd", jvm, "GC.heap_info"], capture_output=True, text=True, check=True).stdout
print("heap_after %d" % (int(re.search(r"used (\d+)K", info).group(1)) * 1024))
print(f"rss_after {rss()}")
for s in socks:
    s.sendall(b"PING\r\n")
pong = 0
for s in socks:
    buf = b""
    while len(buf) < 7:
        chunk = s.recv(7 - len(buf))
        if not chunk:
            break
        buf += chunk
    pong += buf == b"+PONG\r\n"
print(f"pong {pong}")
print(f"held_after_ping {counted()}")
for s in socks:
    s.close()
PY
  held=$(awk '$1=="held" {print $2}' "$work/idle.out")
  heap1=$(awk '$1=="heap_after" {print $2}' "$work/idle.out")
  rss1=$(awk '$1=="rss_after" {print $2}' "$work/idle.out")
  pong=$(awk '$1=="pong" {print $2}' "$work/idle.out")
  secs=$(awk '$1=="connect_seconds" {print $2}' "$work/idle.out")
  echo "idle clients: $clients_idle opened in ${secs} s; counted by /api/status: $held; answered PING afterwards: $pong"
  awk -v h0="$heap0" -v h1="$heap1" -v r0="$rss0" -v r1="$rss1" -v n="$clients_idle" 'BEGIN {
    printf "heap in use after GC: %.1f MiB -> %.1f MiB: %.2f KiB per connection\n", h0/1048576, h1/1048576, (h1-h0)/n/1024
    printf "RSS:                  %.1f MiB -> %.1f MiB: %.2f KiB per connection\n", r0/1048576, r1/1048576, (r1-r0)/n/1024
  }'
  exit 0
fi

# ------------------------------------------------------------------------------ overload
redis-cli -p "$redis_port" set k v >/dev/null
requests_total() {   # outcome -> count
  curl -sf "http://127.0.0.1:$admin_port/metrics" \
    | awk -v o="outcome=\"$1\"" '/^mproxy_requests_total\{/ && index($0, o) { s += $NF } END { printf "%.0f\n", s }'
}
ok0=$(requests_total ok); rej0=$(( $(requests_total rejected) + $(requests_total shed) ))
# the load: C connections, each sending GET k and waiting for the answer, as fast as they can
# (redis-benchmark stops at the first error reply, and refusals are error replies)
cat >"$work/load.py" <<'PY'
import asyncio, sys, time
port, conns, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
counts = {"ok": 0, "err": 0, "lost": 0}
async def client(deadline):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    while time.monotonic() < deadline:
        w.write(b"GET k\r\n")
        await w.drain()
        try:
            line = await asyncio.wait_for(r.readline(), 30)
        except asyncio.TimeoutError:
            counts["lost"] += 1
            break
        if line.startswith(b"$"):
            n = int(line[1:])
            if n >= 0:
                await r.readexactly(n + 2)
            counts["ok"] += 1
        elif line.startswith(b"-"):
            counts["err"] += 1
        else:
            counts["lost"] += 1
            break
    w.close()
async def main():
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(client(deadline) for _ in range(conns)))
asyncio.run(main())
print("client_ok %d client_err %d client_lost %d" % (counts["ok"], counts["err"], counts["lost"]))
PY
python3 "$work/load.py" "$proxy_port" "$bench_clients" "$seconds" >"$work/bench.out" 2>&1 &
bench_pid=$!
cat >"$work/sample.py" <<'PY'
import json, re, subprocess, sys, time, urllib.request
admin, jvm, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + seconds
n = failed = 0
max_lat = max_gate = max_group = max_heap = 0.0
next_heap = 0.0
while time.monotonic() < deadline:
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/api/status", timeout=10) as r:
            d = json.load(r)
        lat = time.monotonic() - t0
        n += 1
        max_lat = max(max_lat, lat)
        max_gate = max(max_gate, d["priority_gate"]["queued"])
        max_group = max(max_group, max(g["queued"] for g in d["resource_groups"]))
    except Exception:
        failed += 1
    if time.monotonic() >= next_heap:
        info = subprocess.run(["jcmd", jvm, "GC.heap_info"], capture_output=True, text=True).stdout
        m = re.search(r"used (\d+)K", info)
        if m:
            max_heap = max(max_heap, int(m.group(1)) * 1024)
        next_heap = time.monotonic() + 5
    time.sleep(0.2)
print("samples %d failed %d max_admin %.3f max_gate %d max_group %d max_heap %d"
      % (n, failed, max_lat, max_gate, max_group, max_heap))
PY
python3 "$work/sample.py" "$admin_port" "$jvm" "$seconds" >"$work/sample.out"
read -r _ samples _ failures _ max_admin _ max_gate _ max_group _ max_heap <"$work/sample.out"
wait "$bench_pid" || true
read -r _ client_ok _ client_err _ client_lost <"$work/bench.out" || true
echo "load client: $client_ok answered, $client_err error replies, $client_lost without an answer (must be 0)"
sleep 1
ok1=$(requests_total ok); rej1=$(( $(requests_total rejected) + $(requests_total shed) ))
ok=$((ok1 - ok0)); rej=$((rej1 - rej0))
alive=no; curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$admin_port/healthz" && redis-cli -p "$proxy_port" get k | grep -q v && alive=yes
heap_max=$(jcmd "$jvm" VM.flags | tr ' ' '\n' | awk -F= '/^-XX:MaxHeapSize=/ { print $2 }')
awk -v ok="$ok" -v rej="$rej" -v s="$seconds" -v a="$max_admin" -v g="$max_gate" -v q="$max_group" \
    -v h="$max_heap" -v hm="$heap_max" -v n="$samples" -v f="$failures" -v alive="$alive" 'BEGIN {
  printf "overload for %d s: %d answered ok (%.0f/s), %d refused (rejected or shed) (%.0f/s); offered / admitted = %.1fx\n", s, ok, ok/s, rej, rej/s, (ok+rej)/(ok>0?ok:1)
  printf "over %d admin samples (%d failed): max /api/status latency %.3f s; max priority-gate queued %d (bound 500); max group queued %d (bound 200)\n", n, f, a, g, q
  printf "heap in use: max %.1f MiB of %.1f MiB max heap; proxy still answers afterwards: %s\n", h/1048576, hm/1048576, alive
}'
