#!/usr/bin/env bash
# MongoDB point finds and inserts, direct against mproxy, interleaved; medians and ratios.
#
#   bench/mongo.sh                      # 3 rounds, 16 client threads, 5000 ops per thread
#   bench/mongo.sh -r 5 -c 64 -n 2000   # more rounds, more clients, fewer ops each
#   bench/mongo.sh --ops find           # only point finds
#   bench/mongo.sh --base /tmp/base-x   # also a second mproxy built from that checkout (A/B)
#
# The backend is mongo-java-server (in its own JVM; no mongod is packaged for Debian), the load
# generator is the official sync driver (MongoLoad in mproxy-server's test classes, a fresh JVM
# per run with an untimed warm-up of --warmup ops per thread), mproxy runs from bin/mproxy with
# a pool of --pool backend connections. Each round runs every (target, op) once, the target order
# rotating per round; the table gives the median throughput and latency per target and op, and
# the median of the per-round throughput ratios mproxy/direct, and mproxy's CPU time (user +
# system from /proc, over the timed phase only) per operation. The load average is printed before
# and after (absolute numbers mean little on a shared machine). Everything it started is stopped
# on exit. JVM options for mproxy: MPROXY_JAVA_OPTS (default -Xmx1g -XX:MaxDirectMemorySize=1g).
# Resident memory of the backend and mproxy before and after every run goes to rss.log in the
# work directory; if either process dies, the script says how (exit status or signal), shows
# the end of its log and any OOM-killer line, and keeps the work directory.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

rounds=3
clients=16
ops=5000
warmup=2000
pool=8
op_list="find,insert"
out=""
keep=0
base=""
profile=""
profiler=${ASYNC_PROFILER:-/tmp/ap/linux-x64/libasyncProfiler.so}

usage() {
  cat <<USAGE
usage: bench/mongo.sh [options]
  -r, --rounds N     interleaved rounds (default $rounds)
  -c, --clients N    client threads, each with its own driver connection (default $clients)
  -n, --ops N        timed operations per thread per run (default $ops)
  --warmup N         untimed operations per thread before each run (default $warmup)
  --pool N           mproxy's backend pool max_size (default $pool)
  --ops-list LIST    comma-separated subset of find,insert (default $op_list)
  --out FILE         also write every run as CSV to FILE
  --keep             keep the work directory (configs, logs) after exit
  --base DIR         also run DIR/bin/mproxy (another checkout, e.g. the commit before a change)
                     as target "base", interleaved with the others in every round
  --profile ARGS     attach async-profiler (\$ASYNC_PROFILER, default $profiler) to each mproxy
                     for each of its runs, e.g. --profile event=cpu,interval=250us or event=alloc;
                     collapsed stacks go to the work directory (kept), one file per run
USAGE
}

die() {
  echo "bench/mongo.sh: $*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    -r|--rounds) rounds=${2:?}; shift 2 ;;
    -c|--clients) clients=${2:?}; shift 2 ;;
    -n|--ops) ops=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --pool) pool=${2:?}; shift 2 ;;
    --ops-list) op_list=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --profile) profile=${2:?}; keep=1; shift 2 ;;
    --base) base=$(cd "${2:?}" && pwd); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

command -v java >/dev/null || die "java is not on PATH"
# A bounded heap: the JVM's default (a quarter of RAM) lets one process grow into the memory the
# other builders on a shared machine need, and the kernel's OOM killer then SIGKILLs someone.
export MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:--Xmx1g -XX:MaxDirectMemorySize=1g}"
command -v python3 >/dev/null || die "python3 is needed for the table"

work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-mongo-bench.XXXXXX")"
pids=()
names=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  if ((keep)); then
    echo "bench/mongo.sh: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# Says which process is gone and how it ended (exit code, or the signal that killed it), with the
# end of its log and any kernel OOM-killer line about it, then stops. A JVM killed by SIGKILL (the
# kernel's OOM killer, or another script's kill -9 on a reused pid) writes nothing to its own log.
check_alive() {
  local i p name rc how
  for i in "${!pids[@]}"; do
    p=${pids[$i]}
    kill -0 "$p" 2>/dev/null && continue
    name=${names[$i]}
    rc=0
    wait "$p" 2>/dev/null || rc=$?
    how="exit status $rc"
    ((rc > 128)) && how+=" = killed by signal $((rc - 128))"
    ((rc == 137)) && how+=" (SIGKILL: OOM killer or someone's kill -9)"
    {
      echo "bench/mongo.sh: $name (pid $p) is gone: $how"
      echo "--- last lines of $work/$name.log:"
      tail -n 20 "$work/$name.log" 2>/dev/null || true
      echo "--- kernel log about pid $p or OOM kills (needs dmesg access):"
      dmesg 2>/dev/null | grep -E "Killed process $p\b|Out of memory|oom-kill" | tail -n 5 || true
      echo "--- free memory now:"
      free -m 2>/dev/null || true
    } >&2
    keep=1
    die "$name is gone (logs in $work)"
  done
}

# Samples the resident memory (MB) of the processes this script started, for the memory log.
sample_rss() {
  local i line=""
  for i in "${!pids[@]}"; do
    line+=" ${names[$i]}=$(($(awk '/VmRSS/ {print $2}' "/proc/${pids[$i]}/status" 2>/dev/null || echo 0) / 1024))MB"
  done
  echo "$(date -u +%H:%M:%S)$line" >>"$work/rss.log"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
  local port=$1 what=$2
  for _ in $(seq 1 300); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  die "$what did not listen on 127.0.0.1:$port within 30 s (logs in $work)"
}

echo "bench/mongo.sh: building the load tool (test classes of mproxy-server) ..." >&2
(cd "$root" && ./mvnw -q -B -pl mproxy-server -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >"$work/build.log" 2>&1) \
  || die "build failed, see $work/build.log"
"$root/bin/mproxy" version >"$work/mproxy-build.log" 2>&1 || die "bin/mproxy did not build (see $work/mproxy-build.log)"
if [[ -n $base ]]; then
  "$base/bin/mproxy" version >"$work/base-build.log" 2>&1 || die "$base/bin/mproxy did not build (see $work/base-build.log)"
fi
cp="$root/mproxy-server/target/test-classes:$root/mproxy-server/target/classes:$(cat "$work/cp.txt")"
load_main=io.mproxy.server.it.mongo.bench.MongoLoad

backend_port=$(free_port)
java -Xmx1g -cp "$cp" "$load_main" serve "$backend_port" 10000 >"$work/backend.log" 2>&1 &
pids+=($!)
names+=(backend)
for _ in $(seq 1 300); do
  grep -q '^ready' "$work/backend.log" 2>/dev/null && break
  sleep 0.1
done
grep -q '^ready' "$work/backend.log" || die "backend did not start (see $work/backend.log)"

# Writes the daemon config for one mproxy: LISTEN_PORT ADMIN_PORT FILE.
write_config() {
  cat >"$3" <<YAML
server: { watch_config: false, shutdown_grace_ms: 2000 }
admin: { bind: 127.0.0.1:$2 }
listeners:
  - { name: mongo, protocol: mongodb, bind: 127.0.0.1:$1, cluster: mongo-bench }
clusters:
  mongo-bench:
    protocol: mongodb
    backends: [ { address: 127.0.0.1:$backend_port, role: primary } ]
    pool: { min_idle: $pool, max_size: $pool, acquire_timeout_ms: 30000 }
    # a backend JVM starved by the load (or by other work on the machine) may take seconds to
    # answer a ping; the 1 s default would mark it down mid-run and turn requests into errors
    health: { interval_ms: 2000, timeout_ms: 15000 }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000 }
YAML
}

declare -A pid_of=([direct]=0) port_of=([direct]=$backend_port)
start_daemon() {   # start_daemon NAME CHECKOUT: that checkout's bin/mproxy as target NAME on a free port
  local name=$1 home=$2 port
  port=$(free_port)
  write_config "$port" "$(free_port)" "$work/$name.yaml"
  "$home/bin/mproxy" run --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
  pid_of[$name]=$!
  port_of[$name]=$port
  pids+=($!)
  names+=("$name")
  wait_port "$port" "$name mproxy"
}
start_daemon mproxy "$root"
targets=(direct mproxy)
if [[ -n $base ]]; then
  start_daemon base "$base"
  targets=(direct base mproxy)
fi

IFS=, read -r -a op_names <<<"$op_list"
csv="$work/runs.csv"
echo "round,target,op,clients,ops_per_sec,p50_us,p99_us,errors,mproxy_cpu_us_per_op" >"$csv"
# One untimed run of every op through every mproxy first: a fresh daemon compiles its hot path
# during its first runs, and that CPU (hundreds of µs per operation) would land in round 1.
for op in "${op_names[@]}"; do
  for target in "${targets[@]}"; do
    [[ $target == direct ]] && continue
    port=${port_of[$target]}
    java -Xmx512m -cp "$cp" "$load_main" load "$port" "$op" "$clients" "$warmup" "$warmup" \
      >>"$work/warmup.log" 2>&1 || die "warm-up of $target failed (see $work/warmup.log)"
  done
done
echo "bench/mongo.sh: before: $(uptime)" >&2
for ((round = 1; round <= rounds; round++)); do
  # the order rotates by one target per round, so no target always runs first or last
  order=()
  for ((i = 0; i < ${#targets[@]}; i++)); do
    order+=("${targets[$(((i + round - 1) % ${#targets[@]}))]}")
  done
  for op in "${op_names[@]}"; do
    for target in "${order[@]}"; do
      port=${port_of[$target]}
      check_alive
      sample_rss
      cpu_pid=${pid_of[$target]}
      if [[ -n $profile && $cpu_pid != 0 ]]; then
        # (the quotes keep jcmd from reading the agent's "key=value" options as its own)
        pfile="$work/profile-$target-$op-r$round.collapsed"
        jcmd "$cpu_pid" JVMTI.agent_load "$profiler" "\"start,$profile,file=$pfile,collapsed\"" >>"$work/profile.log" 2>&1
      fi
      line=$(java -Xmx512m -cp "$cp" "$load_main" load "$port" "$op" "$clients" "$ops" "$warmup" "$cpu_pid" \
        2>>"$work/load.log" | tail -n 1)
      sample_rss
      if [[ -n $profile && $cpu_pid != 0 ]]; then
        jcmd "$cpu_pid" JVMTI.agent_load "$profiler" "\"stop,file=$pfile,collapsed\"" >>"$work/profile.log" 2>&1
      fi
      [[ -n $line ]] || check_alive
      read -r tput p50 p99 errors cpu <<<"$line"
      [[ -n ${cpu:-} ]] || die "load run printed nothing (see $work/load.log)"
      echo "round $round: $target $op: $tput ops/s, p50 ${p50} us, p99 ${p99} us, errors $errors," \
        "mproxy CPU ${cpu} us/op" >&2
      echo "$round,$target,$op,$clients,$tput,$p50,$p99,$errors,$cpu" >>"$csv"
    done
  done
done
[[ -n $out ]] && cp "$csv" "$out"
echo "bench/mongo.sh: after: $(uptime)" >&2

python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ops = sorted({r["op"] for r in rows})
clients = rows[0]["clients"] if rows else "?"
print(f"| op | target | clients | ops/s (median) | p50 µs | p99 µs | ratio to direct (median of rounds) | mproxy CPU µs/op | errors |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for op in ops:
    by_round = {}
    for r in rows:
        if r["op"] == op:
            by_round.setdefault(r["round"], {})[r["target"]] = float(r["ops_per_sec"])
    for target in ("direct", "base", "mproxy"):
        mine = [r for r in rows if r["op"] == op and r["target"] == target]
        if not mine:
            continue
        tput = statistics.median(float(r["ops_per_sec"]) for r in mine)
        p50 = statistics.median(float(r["p50_us"]) for r in mine)
        p99 = statistics.median(float(r["p99_us"]) for r in mine)
        errors = sum(int(r["errors"]) for r in mine)
        ratios = [v[target] / v["direct"] for v in by_round.values() if target in v and "direct" in v]
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        cpus = [float(r["mproxy_cpu_us_per_op"]) for r in mine if r["mproxy_cpu_us_per_op"] != "-"]
        cpu = f"{statistics.median(cpus):.1f}" if cpus else "-"
        print(f"| {op} | {target} | {clients} | {tput:,.0f} | {p50:.0f} | {p99:.0f} | {ratio} | {cpu} | {errors} |")
PY
