#!/usr/bin/env bash
# Two mproxy builds on one redis-server, alternating: user and system CPU of the proxy's event
# loops per request from /proc (the steadiest yardstick on a VM without hardware counters).
#
#   bench/redis-ab.sh /tmp/base .                    # 4 rounds, unpipelined GET after a GET+SET warm-up
#   bench/redis-ab.sh -r 6 -P 16 -n 3000000 /tmp/base .
#
# A and B are checkouts with a built jar (mproxy-server/target/*-all.jar). Each run starts a fresh
# mproxy (heap pre-touched as bin/mproxy run does, io_threads default, one Redis backend, pool of
# 8, an unlimited RU budget), warms it with --warmup requests of each of --warmup-tests, then
# measures -n GETs with redis-benchmark -c 50;
# the order of A and B alternates every round. Prints, per run, the event-loop threads' user and
# system µs per request, throughput and p50. With --profile DIR (and ASYNC_PROFILER_LIB set to
# async-profiler's libasyncProfiler.so), each measured phase is also profiled (event=cpu, 250 µs,
# per thread) into DIR/A-roundN.collapsed and DIR/B-roundN.collapsed. --sched also prints the event
# loops' voluntary and involuntary context switches and CPU migrations per request
# (/proc/PID/task/TID/sched). --pin-b pins each of B's event-loop threads to a CPU of its own
# (taskset) before the warm-up: with --pin-b and the same checkout as A and B, pinned against not.
set -euo pipefail

rounds=4; n=600000; depth=""; warmup=600000; warmup_tests=get,set; profile=""; sched=0; pin_b=0
agent=${ASYNC_PROFILER_LIB:-}
while (($#)); do
  case $1 in
    -r) rounds=${2:?}; shift 2 ;;
    -n) n=${2:?}; shift 2 ;;
    -P) depth=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --warmup-tests) warmup_tests=${2:?}; shift 2 ;;
    --profile) profile=${2:?}; shift 2 ;;
    --sched) sched=1; shift ;;
    --pin-b) pin_b=1; shift ;;
    -h|--help) sed -n 2,20p "$0"; exit 0 ;;
    *) break ;;
  esac
done
(($# == 2)) || { echo "usage: bench/redis-ab.sh [-r N] [-n N] [-P DEPTH] [--warmup N] [--warmup-tests LIST] [--profile DIR] [--sched] [--pin-b] A B" >&2; exit 1; }
jar() { ls "$1"/mproxy-server/target/mproxy-server-*-all.jar 2>/dev/null | head -1; }
A=$(jar "$1"); B=$(jar "$2")
[[ -n $A && -n $B ]] || { echo "bench/redis-ab.sh: build both checkouts first (no *-all.jar)" >&2; exit 1; }
if [[ -n $profile ]]; then
  [[ -f $agent ]] || { echo "bench/redis-ab.sh: --profile needs ASYNC_PROFILER_LIB=/path/to/libasyncProfiler.so" >&2; exit 1; }
  mkdir -p "$profile"
fi
# async-profiler loaded into the running daemon for the measured phase only (jcmd splits its
# arguments on '=', hence the quoted option string)
profiler() { # PID OPTIONS
  [[ -n $profile ]] || return 0
  jcmd "$1" "JVMTI.agent_load $agent \"$2\"" >/dev/null
}

work=$(mktemp -d /tmp/mproxy-redis-ab.XXXXXX)
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(port); proxy_port=$(port); admin_port=$(port)
mp=""
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile "$work/redis.pid" >/dev/null
cleanup() {
  if [[ -n $mp ]]; then kill "$mp" 2>/dev/null || true; fi
  if [[ -f $work/redis.pid ]]; then kill "$(cat "$work/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
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
tick=$(getconf CLK_TCK)
sched_field() { # FILE NAME: one counter of /proc/PID/task/TID/sched
  awk -v k="$2" '$1 == k { print $3 }' "$1"
}
loops_cpu() { # user and system ticks, voluntary and involuntary switches, migrations of the event-loop threads of PID
  local t u=0 s=0 f v=0 iv=0 m=0
  for t in /proc/$1/task/*; do
    [[ $(cat "$t/comm") == multiThreadIoEv* ]] || continue
    f=($(sed 's/^.*) //' "$t/stat"))
    u=$((u + f[11])); s=$((s + f[12]))
    if ((sched)); then
      v=$((v + $(sched_field "$t/sched" nr_voluntary_switches)))
      iv=$((iv + $(sched_field "$t/sched" nr_involuntary_switches)))
      m=$((m + $(sched_field "$t/sched" se.nr_migrations)))
    fi
  done
  echo "$u $s $v $iv $m"
}
pin_loops() { # PID: each event-loop thread on a CPU of its own, round robin
  local cpu=0 t
  for t in /proc/$1/task/*; do
    [[ $(cat "$t/comm") == multiThreadIoEv* ]] || continue
    taskset -p -c "$cpu" "${t##*/}" >/dev/null
    cpu=$(( (cpu + 1) % $(nproc) ))
  done
}
run() { # NAME JAR
  java -XX:+AlwaysPreTouch ${MPROXY_JAVA_OPTS:-} -jar "$2" run --config "$work/mproxy.yaml" >"$work/$1.log" 2>&1 &
  mp=$!
  local i
  for i in $(seq 1 150); do curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" && break; sleep 0.2; done
  if ((pin_b)) && [[ $1 == B ]]; then pin_loops $mp; fi
  redis-benchmark -p "$proxy_port" -c 50 ${depth:+-P $depth} -n "$warmup" -t "$warmup_tests" -q >/dev/null
  local before after out
  before=($(loops_cpu $mp))
  profiler $mp "start,event=cpu,interval=250us,threads"
  out=$(redis-benchmark -p "$proxy_port" -c 50 ${depth:+-P $depth} -n "$n" -t get -q | tr '\r' '\n' | grep "per second" | tail -1)
  after=($(loops_cpu $mp))
  profiler $mp "stop,file=$profile/$1-round$r.collapsed"
  kill $mp; wait $mp 2>/dev/null || true
  mp=""
  python3 -c "u=${after[0]}-${before[0]}; s=${after[1]}-${before[1]}; k=1e6/$tick/$n
extra = f'  vol {(${after[2]}-${before[2]})/$n:.3f} invol {(${after[3]}-${before[3]})/$n:.3f} migr {(${after[4]}-${before[4]})/$n:.4f} per req' if $sched else ''
print(f'$1  user {u*k:6.2f}  sys {s*k:6.2f}  total {(u+s)*k:6.2f} us/req{extra}  | $out')"
}
echo "bench/redis-ab.sh: A=$A B=$B; $rounds rounds of $n GETs, -c 50${depth:+ -P $depth}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  if ((r % 2)); then run A "$A"; run B "$B"; else run B "$B"; run A "$A"; fi
done
