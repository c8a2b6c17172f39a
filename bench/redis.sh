#!/usr/bin/env bash
# redis-benchmark through mproxy and its peers, interleaved, medians and ratios to direct.
#
#   bench/redis.sh                        # 3 rounds, -n 200000 -c 50, plain and -P 16
#   bench/redis.sh -r 5 -n 100000         # more rounds, fewer requests per run
#   bench/redis.sh --targets direct,mproxy --pipeline 16 -c 1
#   bench/redis.sh --targets direct,mproxy,mproxy-io1   # also mproxy with server.io_threads: 1
#   bench/redis.sh --targets direct,mproxy,mproxy-uring # also mproxy with server.transport: io_uring
#   bench/redis.sh --baseline /tmp/old --targets direct,baseline,mproxy   # before/after, interleaved
#   bench/redis.sh -P 0 --syscalls --targets direct,mproxy,nutcracker      # also system calls per request
#
# Starts its own redis-server, mproxy (bin/mproxy run), nutcracker and haproxy (TCP mode) when
# installed, all on free ports of 127.0.0.1; runs `redis-benchmark -t get,set` against each
# target round-robin (the order rotates every round) for plain and pipelined requests, then prints
# the median throughput per target, the median of its per-round ratios to direct, and the CPU each
# process spent per request (utime+stime from /proc/PID/stat over the GET and SET requests of a
# run). Everything it started is stopped on exit. JVM options for mproxy: MPROXY_JAVA_OPTS (e.g. a
# JFR recording).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

rounds=3
requests=200000
clients=50
pipeline=16
warmup=""
baseline=""
targets=""
keep=0
syscalls=0
out=""
table=""

usage() {
  cat <<USAGE
usage: bench/redis.sh [options]
  -r, --rounds N       interleaved rounds per target and mode (default $rounds)
  -n, --requests N     requests per test per run (default $requests)
  -c, --clients N      parallel connections (default $clients)
  -P, --pipeline N     pipeline depth of the pipelined mode; 0 runs plain only (default $pipeline)
  --warmup N           requests per test of the untimed warm-up run of each target and mode
                       (default: as many as a measured run; a JIT needs them)
  --targets LIST       comma-separated subset of direct,mproxy,nutcracker,haproxy; also
                       mproxy-ioN: another mproxy with server.io_threads: N (N event loops),
                       mproxy-uring: another mproxy with server.transport: io_uring,
                       baseline: the mproxy of the checkout given with --baseline
                       (default: direct, [baseline,] mproxy and whichever peers are installed)
  --baseline DIR       another checkout of mproxy (e.g. a git archive of an older commit)
                       whose bin/mproxy runs as target "baseline", for before/after tables
  --out FILE           also write every run as CSV to FILE
  --syscalls           after the rounds, one more unpipelined GET run (-n, -c) per target under
                       perf stat -e 'syscalls:sys_enter_*' -p PID (needs perf and root): every
                       system call the proxy's process made (redis-server's for direct), per request
  --keep               keep the work directory (configs, logs) after exit
  --table FILE         only print the table of a CSV written by --out, and exit
USAGE
}

die() {
  echo "bench/redis.sh: $*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    -r|--rounds) rounds=${2:?}; shift 2 ;;
    -n|--requests) requests=${2:?}; shift 2 ;;
    -c|--clients) clients=${2:?}; shift 2 ;;
    -P|--pipeline) pipeline=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --targets) targets=${2:?}; shift 2 ;;
    --baseline) baseline=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --syscalls) syscalls=1; shift ;;
    --keep) keep=1; shift ;;
    --table) table=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
warmup=${warmup:-$requests}
for v in rounds requests clients pipeline warmup; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: '${!v}' (expected: a non-negative integer)"
done
((rounds >= 1 && requests >= 1 && clients >= 1)) || die "rounds, requests and clients must be >= 1"

for cmd in redis-server redis-cli redis-benchmark curl java awk sort; do
  [[ -n $table ]] && break
  command -v "$cmd" >/dev/null || die "$cmd is not installed (Debian/Ubuntu: apt-get install -y redis-server redis-tools curl default-jdk-headless)"
done
if ((syscalls)) && [[ -z $table ]]; then
  command -v perf >/dev/null || die "--syscalls needs perf (Debian: apt-get install -y linux-perf)"
  perf stat -e 'syscalls:sys_enter_read' -- true >/dev/null 2>&1 \
    || die "--syscalls: perf cannot count the syscalls tracepoints here (run as root, or lower kernel.perf_event_paranoid)"
fi

if [[ -z $targets ]]; then
  targets=direct
  [[ -n $baseline ]] && targets+=,baseline
  targets+=,mproxy
  command -v nutcracker >/dev/null && targets+=,nutcracker
  command -v haproxy >/dev/null && targets+=,haproxy
fi
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
  case $t in
    direct|mproxy|mproxy-io[1-9]|mproxy-io[1-9][0-9]|mproxy-uring) ;;
    baseline) [[ -n $baseline ]] || die "target baseline needs --baseline DIR" ;;
    nutcracker|haproxy) command -v "$t" >/dev/null || die "$t is not installed (apt-get install -y $t)" ;;
    *) die "unknown target '$t' (expected: direct, mproxy, nutcracker, haproxy)" ;;
  esac
done
[[ ,$targets, == *,direct,* ]] || die "--targets must include direct (ratios are to direct)"
if [[ -n $baseline ]]; then
  [[ -x $baseline/bin/mproxy ]] || die "--baseline: $baseline/bin/mproxy is missing (expected: a checkout of mproxy)"
  baseline="$(cd "$baseline" && pwd)"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-redis-bench.XXXXXX")"
declare -A pid_of=()   # target -> pid whose CPU is measured
started_pids=()
redis_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local p
  for p in "${started_pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${started_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [[ -n $redis_pid ]]; then
    kill "$redis_pid" 2>/dev/null || true
  fi
  if ((keep)); then
    echo "bench/redis.sh: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------- helpers

# free_port: sets $port to a port nothing listens on and that this script has not handed out.
used_ports=" "
port=""
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 40000))
    [[ $used_ports == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports+="$p "
      port=$p
      return 0
    fi
  done
  die "found no free port"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds; false after SECONDS.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

cpu_ticks() {
  # utime + stime of the whole process (all threads), in clock ticks; fields 14 and 15 of stat,
  # counted after the parenthesised command name, which may contain spaces.
  local stat
  stat="$(cat "/proc/$1/stat")" || die "process $1 is gone"
  stat="${stat##*) }"
  awk '{ print $12 + $13 }' <<<"$stat"
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

alive() {
  kill -0 "$1" 2>/dev/null
}

clk_tck="$(getconf CLK_TCK)"

# ---------------------------------------------------------------------------- table

col() {   # col MODE TARGET FIELD -> median of that column over the rounds
  awk -F, -v m="$1" -v t="$2" -v f="$3" 'NR > 1 && $2 == m && $3 == t && $f != "" { print $f }' "$results" | median
}

ratio() {   # ratio MODE TARGET FIELD -> median over the rounds of (target / direct in the same round)
  awk -F, -v m="$1" -v t="$2" -v f="$3" '
    NR > 1 && $2 == m && $3 == "direct" { d[$1] = $f }
    NR > 1 && $2 == m && $3 == t { v[$1] = $f }
    END { for (r in v) if (r in d && d[r] > 0) print v[r] / d[r] }' "$results" | median
}

print_table() {
  local -a modes target_list
  mapfile -t modes < <(awk -F, 'NR > 1 && !seen[$2]++ { print $2 }' "$results")
  mapfile -t target_list < <(awk -F, 'NR > 1 && !seen[$3]++ { print $3 }' "$results")
  echo "req/s and CPU: medians over the rounds; ratio: median over the rounds of target / direct in that round"
  echo
  echo "| mode | target | GET req/s | SET req/s | GET ratio | SET ratio | proxy CPU us/req | redis CPU us/req |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for mode in "${modes[@]}"; do
    label=$mode
    [[ $mode == plain ]] || label="-P ${mode#P}"
    for t in "${target_list[@]}"; do
      get="$(col "$mode" "$t" 4)"
      set="$(col "$mode" "$t" 5)"
      gr="$(ratio "$mode" "$t" 4)"
      sr="$(ratio "$mode" "$t" 5)"
      pus="$(col "$mode" "$t" 6)"
      rus="$(col "$mode" "$t" 7)"
      awk -v label="$label" -v t="$t" -v g="$get" -v s="$set" -v gr="$gr" -v sr="$sr" -v p="$pus" -v r="$rus" \
        'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %s | %.2f |\n", label, t, g, s, gr, sr, (p == "nan" ? "-" : sprintf("%.2f", p)), r }'
    done
  done
}

if [[ -n $table ]]; then
  [[ -r $table ]] || die "--table: cannot read $table"
  results=$table
  print_table
  exit 0
fi

# ---------------------------------------------------------------------------- redis-server

free_port
redis_port=$port
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work" \
  || die "redis-server did not start"
wait_for 10 [ -s "$work/redis.pid" ] || die "redis-server wrote no pidfile; see $work/redis.log"
redis_pid="$(cat "$work/redis.pid")"
wait_for 10 redis-cli -p "$redis_port" ping || die "redis-server does not answer PING on $redis_port"
declare -A port_of=([direct]=$redis_port)

# ---------------------------------------------------------------------------- mproxy

# start_mproxy NAME IO_THREADS [ROOT] [TRANSPORT]: one mproxy daemon from the checkout ROOT
# (default: this one); io_threads 0 means one event loop per core; TRANSPORT sets server.transport
# (default: the key is left out, so an older checkout as baseline still accepts the file).
start_mproxy() {
  local name=$1 io_threads=$2 home=${3:-$root} transport=${4:-} port admin
  free_port
  admin=$port
  free_port
  cat >"$work/$name.yaml" <<YAML
# generated by bench/redis.sh: one listener in front of the benchmark's redis-server, with
# admission on (a default group whose budget never limits), P2C and metrics as in production.
server: { shutdown_grace_ms: 1000, watch_config: false, io_threads: $io_threads${transport:+, transport: $transport} }
admin: { bind: 127.0.0.1:$admin }
listeners:
  - name: redis
    protocol: redis
    bind: 127.0.0.1:$port
    cluster: bench
clusters:
  bench:
    protocol: redis
    backends:
      - { address: 127.0.0.1:$redis_port, role: primary }
    balancer: { strategy: p2c, score: peak_ewma }
    pool: { min_idle: 4, max_size: 8, max_opens_per_sec: 50 }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
  # Builds the jar if needed, so that the daemon below starts at once (and is the JVM's pid).
  "$home/bin/mproxy" version >"$work/$name-build.log" 2>&1 \
    || { tail -n 30 "$work/$name-build.log" >&2; die "$home/bin/mproxy could not be built"; }
  "$home/bin/mproxy" check --config "$work/$name.yaml" >"$work/$name-check.log" 2>&1 \
    || { cat "$work/$name-check.log" >&2; die "bin/mproxy check rejected the generated config"; }
  "$home/bin/mproxy" run --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  # pre-touching the heap (bin/mproxy run) takes minutes when the machine is busy
  local deadline=$((SECONDS + 300))
  until curl -sf -o /dev/null "http://127.0.0.1:$admin/healthz"; do
    alive "$pid" || { tail -n 30 "$work/$name.log" >&2; die "$name exited during start-up"; }
    ((SECONDS < deadline)) || { tail -n 30 "$work/$name.log" >&2; die "$name: /healthz not 200 within 300 s"; }
    sleep 0.2
  done
  redis-cli -p "$port" ping 2>/dev/null | grep -q PONG \
    || { tail -n 30 "$work/$name.log" >&2; die "$name does not answer PING on $port"; }
  port_of[$name]=$port
  pid_of[$name]=$pid
}

# ---------------------------------------------------------------------------- nutcracker

start_nutcracker() {
  local port stats
  free_port
  stats=$port
  free_port
  cat >"$work/nutcracker.yml" <<YAML
bench:
  listen: 127.0.0.1:$port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  timeout: 5000
  server_connections: 1
  servers:
    - 127.0.0.1:$redis_port:1
YAML
  nutcracker -t -c "$work/nutcracker.yml" >"$work/nutcracker-check.log" 2>&1 \
    || { cat "$work/nutcracker-check.log" >&2; die "nutcracker rejected the generated config"; }
  nutcracker -c "$work/nutcracker.yml" -a 127.0.0.1 -s "$stats" -o "$work/nutcracker.log" &
  local pid=$!
  started_pids+=("$pid")
  wait_for 10 redis-cli -p "$port" get bench:probe \
    || { tail -n 20 "$work/nutcracker.log" >&2; die "nutcracker does not answer on $port"; }
  port_of[nutcracker]=$port
  pid_of[nutcracker]=$pid
}

# ---------------------------------------------------------------------------- haproxy

start_haproxy() {
  local port
  free_port
  cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s

listen redis
    bind 127.0.0.1:$port
    server redis 127.0.0.1:$redis_port
CFG
  haproxy -c -q -f "$work/haproxy.cfg" >"$work/haproxy-check.log" 2>&1 \
    || { cat "$work/haproxy-check.log" >&2; die "haproxy rejected the generated config"; }
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  wait_for 10 redis-cli -p "$port" ping \
    || { tail -n 20 "$work/haproxy.log" >&2; die "haproxy does not answer on $port"; }
  port_of[haproxy]=$port
  pid_of[haproxy]=$pid
}

for t in "${target_list[@]}"; do
  case $t in
    mproxy) start_mproxy mproxy 0 ;;
    mproxy-io*) start_mproxy "$t" "${t#mproxy-io}" ;;
    mproxy-uring) start_mproxy "$t" 0 "$root" io_uring ;;
    baseline) start_mproxy baseline 0 "$baseline" ;;
    nutcracker) start_nutcracker ;;
    haproxy) start_haproxy ;;
  esac
done

# ---------------------------------------------------------------------------- runs

modes=(plain)
((pipeline > 1)) && modes+=("P$pipeline")

results="$work/results.csv"
echo "round,mode,target,get_rps,set_rps,proxy_us_per_req,redis_us_per_req" >"$results"

# run_one ROUND MODE TARGET: one redis-benchmark run; appends a line to results.csv.
run_one() {
  local round=$1 mode=$2 target=$3
  local port=${port_of[$target]} pid=${pid_of[$target]:-}
  local -a extra=()
  [[ $mode == plain ]] || extra=(-P "$pipeline")
  local p0=0 p1=0 r0 r1 csv
  if [[ -n $pid ]]; then
    p0="$(cpu_ticks "$pid")"
  fi
  r0="$(cpu_ticks "$redis_pid")"
  csv="$(redis-benchmark -h 127.0.0.1 -p "$port" -t get,set -n "$requests" -c "$clients" "${extra[@]}" --csv 2>"$work/rb.err")" \
    || { cat "$work/rb.err" >&2; die "redis-benchmark failed against $target"; }
  if [[ -n $pid ]]; then
    p1="$(cpu_ticks "$pid")"
  fi
  r1="$(cpu_ticks "$redis_pid")"
  local get set
  get="$(awk -F'"' '$2 == "GET" { print $4 }' <<<"$csv")"
  set="$(awk -F'"' '$2 == "SET" { print $4 }' <<<"$csv")"
  [[ -n $get && -n $set ]] || { echo "$csv" >&2; die "could not read redis-benchmark's output for $target"; }
  local total=$((2 * requests)) proxy_us="" redis_us
  if [[ -n $pid ]]; then
    proxy_us="$(awk -v d=$((p1 - p0)) -v hz="$clk_tck" -v n=$total 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')"
  fi
  redis_us="$(awk -v d=$((r1 - r0)) -v hz="$clk_tck" -v n=$total 'BEGIN { printf "%.2f", d / hz * 1e6 / n }')"
  echo "$round,$mode,$target,$get,$set,$proxy_us,$redis_us" >>"$results"
  printf '  round %d %-6s %-11s GET %10.0f/s  SET %10.0f/s  proxy %6s us/req  redis %5s us/req\n' \
    "$round" "$mode" "$target" "$get" "$set" "${proxy_us:--}" "$redis_us" >&2
}

load() {
  cut -d' ' -f1-3 /proc/loadavg
}

# syscalls_of TARGET: one unpipelined GET run under perf stat; prints the process's system calls
# per request, all kinds together and each kind of at least 0.001 per request, most frequent first.
# perf's counts are exact; tracing slows each call a little, so this run's throughput is not shown.
syscalls_of() {
  local t=$1 pid=${pid_of[$1]:-$redis_pid} f="$work/syscalls-$1.csv"
  perf stat -x, -e 'syscalls:sys_enter_*' -p "$pid" -o "$f" -- \
    redis-benchmark -h 127.0.0.1 -p "${port_of[$t]}" -t get -n "$requests" -c "$clients" -q >/dev/null 2>"$work/rb.err" \
    || { cat "$work/rb.err" "$f" >&2; die "perf stat failed against $t"; }
  awk -F, '$1 ~ /^[0-9]+$/ && $1 > 0 { sub(/^syscalls:sys_enter_/, "", $3); print $1, $3 }' "$f" \
    | sort -k1,1nr \
    | awk -v n="$requests" -v t="$t" '
        { total += $1; if ($1 / n >= 0.001) parts = parts sprintf(", %s %.3f", $2, $1 / n) }
        END { printf "  %-12s %6.3f per request%s\n", t, total / n, parts }'
}

echo "bench/redis.sh: $(nproc) cores, load $(load); targets: ${target_list[*]}; redis-server on $redis_port" >&2
if ((warmup > 0)); then
  echo "bench/redis.sh: warm-up (JIT, pools): one untimed run of $warmup requests per test, target and mode" >&2
  for mode in "${modes[@]}"; do
    for t in "${target_list[@]}"; do
      saved=$requests
      requests=$warmup
      run_one 0 "$mode" "$t"
      requests=$saved
    done
  done
fi
echo "round,mode,target,get_rps,set_rps,proxy_us_per_req,redis_us_per_req" >"$results"

n_targets=${#target_list[@]}
for ((round = 1; round <= rounds; round++)); do
  echo "bench/redis.sh: round $round/$rounds (load $(load))" >&2
  for mode in "${modes[@]}"; do
    for ((i = 0; i < n_targets; i++)); do
      t=${target_list[$(((i + round - 1) % n_targets))]}
      run_one "$round" "$mode" "$t"
    done
  done
done
echo "bench/redis.sh: done (load $(load))" >&2

echo
echo "redis-benchmark -t get,set -n $requests -c $clients; $rounds interleaved rounds; $(date -u '+%Y-%m-%d %H:%M UTC')"
print_table

if ((syscalls)); then
  echo
  echo "system calls per request: one unpipelined GET run of $requests requests, -c $clients, per target (load $(load))"
  for t in "${target_list[@]}"; do
    syscalls_of "$t"
  done
fi

if [[ -n $out ]]; then
  cp "$results" "$out"
  echo
  echo "every run: $out"
fi
