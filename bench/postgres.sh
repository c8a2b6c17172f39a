#!/usr/bin/env bash
# pgbench through mproxy and PgBouncer, interleaved, medians and ratios to direct.
#
#   bench/postgres.sh                                  # 3 rounds of 10 s, -S, 16 and 200 clients
#   bench/postgres.sh -r 5 -T 20                       # more and longer rounds
#   bench/postgres.sh --modes prepared --clients 200   # one cell of the table
#   bench/postgres.sh --targets direct,pgbouncer       # without mproxy
#   bench/postgres.sh --targets direct,mproxy,mproxy-uring   # epoll against server.transport: io_uring
#   bench/postgres.sh --table bench/out/pg.csv         # re-print the table of a saved run
#   bench/postgres.sh --baseline /tmp/old --targets direct,baseline,mproxy   # before/after, interleaved
#   bench/postgres.sh --baseline . --baseline-io-threads 1 --targets baseline,mproxy,pgbouncer -c 200
#                                                      # one event loop against the default, same build
#   bench/postgres.sh -c 1 -M simple,extended --syscalls 20000   # also system calls per transaction
#   bench/postgres.sh -c 1 -M extended --profile /tmp/prof       # also a CPU profile of each mproxy run
#
# Starts its own PostgreSQL (initdb + pg_ctl, as user postgres when run as root), loads it with
# `pgbench -i`, then starts mproxy (bin/mproxy run, transaction pooling) and PgBouncer (transaction
# pooling, the same pool size) on free ports of 127.0.0.1. Runs `pgbench -S -M MODE -c CLIENTS -T
# SECONDS` against each target round-robin (the order rotates every round) for every query mode and
# client count, then prints the median TPS per cell, the median of its per-round ratios to direct,
# the CPU each proxy and PostgreSQL spent per transaction (utime+stime from /proc/PID/stat;
# PostgreSQL's includes its backends, live ones and reaped ones), and how much of mproxy's was its
# JVM's JIT compiler threads (from /proc/PID/task/*/stat: compilation still running in the
# measured rounds is start-up cost, not the cost of a transaction at steady state), and the
# proxy's wake-ups per transaction (its threads' voluntary context switches from
# /proc/PID/task/*/status: each one a sleep in epoll or on a lock and a wake-up). A run that
# fails (e.g. -M prepared through PgBouncer 1.18 in transaction mode, which does not keep prepared
# statements) is recorded as failed with pgbench's first error. Everything it started is stopped
# on exit. JVM options for mproxy: MPROXY_JAVA_OPTS.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

rounds=3
seconds=10
warmup=5
clients_list=16,200
modes_list=prepared,extended,simple
script=select-only
scale=10
pool=20
max_connections=""
threads=2
targets=""
keep=0
out=""
table=""
baseline=""
io_threads=""
baseline_io_threads=""
syscalls=0
profile=""
agent=${ASYNC_PROFILER_LIB:-/tmp/ap/linux-x64/libasyncProfiler.so}

usage() {
  cat <<USAGE
usage: bench/postgres.sh [options]
  -r, --rounds N          interleaved rounds per cell (default $rounds)
  -T, --time SECONDS      duration of each measured pgbench run (default $seconds)
  --warmup SECONDS        untimed run per target, mode and client count first (default $warmup; 0: none)
  -c, --clients LIST      comma-separated client counts (default $clients_list)
  -M, --modes LIST        comma-separated pgbench query modes: prepared, extended, simple
                          (default $modes_list)
  --script NAME           select-only (pgbench -S, default) or tpcb-like (pgbench's default script)
  -s, --scale N           pgbench -i scale (default $scale: 1 000 000 accounts)
  --pool N                backend connections of each proxy: mproxy max_size and min_idle,
                          PgBouncer default_pool_size and min_pool_size (default $pool)
  --max-connections N     PostgreSQL max_connections (default: the largest client count + three
                          pools + 10, so that direct runs connect every client while the proxies
                          keep their pools open)
  -j, --threads N         pgbench -j (default $threads)
  --targets LIST          comma-separated subset of direct,baseline,mproxy,pgbouncer (default:
                          direct,mproxy,pgbouncer, plus baseline with --baseline; pgbouncer is
                          installed first when missing and run as root); also mproxy-uring:
                          another mproxy with server.transport: io_uring
  --baseline DIR          another checkout of mproxy (e.g. a git archive of an older commit) whose
                          bin/mproxy runs as target "baseline", with the same config, for
                          before/after tables
  --io-threads N           server.io_threads of the mproxy targets (mproxy, mproxy-uring, baseline;
                          default: unset, one event loop per core)
  --baseline-io-threads N server.io_threads of target baseline only (overrides --io-threads; with
                          --baseline . it compares event-loop counts of one build, interleaved)
  --out FILE              also write every run as CSV to FILE
  --keep                  keep the work directory (configs, logs) after exit
  --table FILE            only print the table of a CSV written by --out, and exit
  --syscalls N            after the rounds, one more run of N transactions (pgbench -t N/CLIENTS)
                          per client count, mode and proxy under perf stat -p PID (needs perf and
                          root): the proxy process's system calls per transaction, all kinds
                          together and each kind of at least 0.01 per transaction, its wake-ups
                          (voluntary context switches, /proc) over the same run, and the mean
                          of the ready events its epoll waits returned (perf record of their exits;
                          direct has no proxy and is left out; tracing slows each call, so no
                          throughput shown)
  --profile DIR           async-profiler (ASYNC_PROFILER_LIB, default $agent;
                          event=cpu, interval=250us, threads) attached to each mproxy target for each
                          measured run: DIR/ROUND-MODE-cCLIENTS-TARGET.collapsed. Start the
                          daemons with MPROXY_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions
                          -XX:+DebugNonSafepoints" so that inlined frames are attributed right
USAGE
}

die() {
  echo "bench/postgres.sh: $*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    -r|--rounds) rounds=${2:?}; shift 2 ;;
    -T|--time) seconds=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    -c|--clients) clients_list=${2:?}; shift 2 ;;
    -M|--modes) modes_list=${2:?}; shift 2 ;;
    --script) script=${2:?}; shift 2 ;;
    -s|--scale) scale=${2:?}; shift 2 ;;
    --pool) pool=${2:?}; shift 2 ;;
    --max-connections) max_connections=${2:?}; shift 2 ;;
    -j|--threads) threads=${2:?}; shift 2 ;;
    --targets) targets=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --table) table=${2:?}; shift 2 ;;
    --baseline) baseline=${2:?}; shift 2 ;;
    --io-threads) io_threads=${2:?}; shift 2 ;;
    --baseline-io-threads) baseline_io_threads=${2:?}; shift 2 ;;
    --syscalls) syscalls=${2:?}; shift 2 ;;
    --profile) profile=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

# ---------------------------------------------------------------------------- table

median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan" } else if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

# CSV columns: 1 round, 2 mode, 3 clients, 4 target, 5 tps, 6 transactions, 7 failed,
# 8 proxy_us_per_tx, 9 postgres_us_per_tx, 10 status (ok, or the first error line, commas replaced),
# 11 proxy_jit_us_per_tx (of column 8: the JVM's JIT compiler threads; empty for PgBouncer and in
# files written before session 11), 12 proxy_sys_us_per_tx (of column 8: system time, stime; empty in
# files written before session 13), 13 proxy_wakeups_per_tx (the proxy's voluntary context
# switches, all threads: each one a sleep and a wake-up), 14 proxy_preempted_per_tx (its
# involuntary ones), 15 proxy_loop_wakeups_per_tx (of column 13: the event loops'; empty for
# PgBouncer) (13-15 empty in files written before session 14)
col() {   # col MODE CLIENTS TARGET FIELD -> median over the successful rounds
  awk -F, -v m="$1" -v c="$2" -v t="$3" -v f="$4" \
    'NR > 1 && $2 == m && $3 == c && $4 == t && $10 == "ok" && $f != "" { print $f }' "$results" | median
}

ratio() {   # ratio MODE CLIENTS TARGET [REFERENCE] -> median over the rounds of (target tps / reference tps in that round)
  awk -F, -v m="$1" -v c="$2" -v t="$3" -v ref="${4:-direct}" '
    NR > 1 && $2 == m && $3 == c && $4 == ref && $10 == "ok" { d[$1] = $5 }
    NR > 1 && $2 == m && $3 == c && $4 == t && $10 == "ok" { v[$1] = $5 }
    END { for (r in v) if (r in d && d[r] > 0) print v[r] / d[r] }' "$results" | median
}

added() {   # added MODE CLIENTS TARGET -> median over the rounds of the latency added to direct's, in µs
  # per transaction: CLIENTS / TPS - CLIENTS / direct's TPS in that round (Little's law; at one
  # client, the time each transaction took longer than direct)
  awk -F, -v m="$1" -v c="$2" -v t="$3" '
    NR > 1 && $2 == m && $3 == c && $4 == "direct" && $10 == "ok" { d[$1] = $5 }
    NR > 1 && $2 == m && $3 == c && $4 == t && $10 == "ok" { v[$1] = $5 }
    END { for (r in v) if (r in d && d[r] > 0 && v[r] > 0) print c * 1e6 / v[r] - c * 1e6 / d[r] }' "$results" | median
}

failures() {   # failures MODE CLIENTS TARGET -> "N/M: first error" when some runs failed
  awk -F, -v m="$1" -v c="$2" -v t="$3" '
    NR > 1 && $2 == m && $3 == c && $4 == t { n++; if ($10 != "ok") { bad++; if (msg == "") msg = $10 } }
    END { if (bad) printf "%d/%d failed: %s", bad, n, msg }' "$results"
}

print_table() {
  local -a modes clients target_list
  mapfile -t modes < <(awk -F, 'NR > 1 && !seen[$2]++ { print $2 }' "$results")
  mapfile -t clients < <(awk -F, 'NR > 1 && !seen[$3]++ { print $3 }' "$results")
  mapfile -t target_list < <(awk -F, 'NR > 1 && !seen[$4]++ { print $4 }' "$results")
  echo "TPS and CPU: medians over the successful rounds; ratios: median over the rounds of target TPS / direct (or PgBouncer) TPS in that round"
  echo
  echo "added µs/tx: median over the rounds of CLIENTS / TPS - CLIENTS / direct's TPS (at one client: the latency added per transaction)"
  echo
  echo "wake-ups /tx: the proxy's voluntary context switches per transaction (each a sleep and a wake-up; all its threads, from /proc)"
  echo
  echo "| clients | -M | target | TPS | ratio to direct | ratio to PgBouncer | added µs/tx | proxy CPU µs/tx | of which JIT | of which system | wake-ups /tx | preempted /tx | PostgreSQL CPU µs/tx | failures |"
  echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  local c m t tps r rb lat pus jus sus wus nus gus fail
  for c in "${clients[@]}"; do
    for m in "${modes[@]}"; do
      for t in "${target_list[@]}"; do
        tps="$(col "$m" "$c" "$t" 5)"
        r="$(ratio "$m" "$c" "$t")"
        rb="$(ratio "$m" "$c" "$t" pgbouncer)"
        lat="$(added "$m" "$c" "$t")"
        pus="$(col "$m" "$c" "$t" 8)"
        jus="$(col "$m" "$c" "$t" 11)"
        sus="$(col "$m" "$c" "$t" 12)"
        wus="$(col "$m" "$c" "$t" 13)"
        nus="$(col "$m" "$c" "$t" 14)"
        gus="$(col "$m" "$c" "$t" 9)"
        fail="$(failures "$m" "$c" "$t")"
        awk -v c="$c" -v m="$m" -v t="$t" -v tps="$tps" -v r="$r" -v rb="$rb" -v l="$lat" -v p="$pus" -v j="$jus" -v s="$sus" -v w="$wus" -v n="$nus" -v g="$gus" -v f="$fail" \
          'function num(x, fmt) { return (x == "nan" || x == "") ? "-" : sprintf(fmt, x) }
           BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, m, t, num(tps, "%.0f"), num(r, "%.2f"),
                   num(rb, "%.2f"), (t == "direct" ? "-" : num(l, "%+.1f")), num(p, "%.1f"), num(j, "%.1f"), num(s, "%.1f"),
                   num(w, "%.2f"), num(n, "%.2f"), num(g, "%.1f"), (f == "" ? "" : f) }'
      done
    done
  done
}

if [[ -n $table ]]; then
  [[ -r $table ]] || die "--table: cannot read $table"
  results=$table
  print_table
  exit 0
fi

# ---------------------------------------------------------------------------- arguments

for v in rounds seconds warmup scale pool threads syscalls; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v: '${!v}' (expected: a non-negative integer)"
done
for v in io_threads baseline_io_threads; do
  [[ -z ${!v} || ${!v} =~ ^[0-9]+$ ]] || die "${v//_/-}: '${!v}' (expected: a non-negative integer; 0 = one per core)"
done
baseline_io_threads=${baseline_io_threads:-$io_threads}
((rounds >= 1 && seconds >= 1 && scale >= 1 && pool >= 1 && threads >= 1)) \
  || die "rounds, time, scale, pool and threads must be >= 1"
IFS=, read -r -a client_counts <<<"$clients_list"
IFS=, read -r -a modes <<<"$modes_list"
largest=0
for c in "${client_counts[@]}"; do
  [[ $c =~ ^[0-9]+$ ]] && ((c >= 1)) || die "--clients: '$c' (expected: positive integers)"
  ((c > largest)) && largest=$c
done
for m in "${modes[@]}"; do
  case $m in prepared|extended|simple) ;; *) die "--modes: '$m' (expected: prepared, extended, simple)" ;; esac
done
case $script in
  select-only) script_args=(-S) ;;
  tpcb-like) script_args=() ;;
  *) die "--script: '$script' (expected: select-only, tpcb-like)" ;;
esac

if [[ -z $targets ]]; then
  targets=direct,mproxy,pgbouncer
  [[ -n $baseline ]] && targets=direct,baseline,mproxy,pgbouncer
fi
IFS=, read -r -a target_list <<<"$targets"
# every pooling target (each mproxy, PgBouncer) holds its pool open, and direct runs need their clients too
pooled=0
for t in "${target_list[@]}"; do if [[ $t != direct ]]; then pooled=$((pooled + 1)); fi; done
max_connections=${max_connections:-$((largest + (pooled > 3 ? pooled : 3) * pool + 10))}
[[ $max_connections =~ ^[0-9]+$ ]] || die "--max-connections: '$max_connections' (expected: an integer)"
((max_connections > pool + 5)) || die "--max-connections $max_connections leaves no room for a pool of $pool"
for t in "${target_list[@]}"; do
  case $t in
    direct|mproxy|mproxy-uring|pgbouncer) ;;
    baseline) [[ -n $baseline ]] || die "target baseline needs --baseline DIR" ;;
    *) die "unknown target '$t' (expected: direct, baseline, mproxy, pgbouncer)" ;;
  esac
done
# without direct (e.g. 200 clients over max_connections=100, where direct cannot connect them all)
# the ratios are to PgBouncer only
[[ ,$targets, == *,direct,* || ,$targets, == *,pgbouncer,* ]] \
  || die "--targets must include direct or pgbouncer (the references of the ratios)"
if ((syscalls)); then
  command -v perf >/dev/null || die "--syscalls needs perf (Debian: apt-get install -y linux-perf)"
  perf stat -e 'syscalls:sys_enter_read' -- true >/dev/null 2>&1 \
    || die "--syscalls: perf cannot count the syscalls tracepoints here (run as root, or lower kernel.perf_event_paranoid)"
fi
if [[ -n $profile ]]; then
  [[ -f $agent ]] || die "--profile needs async-profiler: ASYNC_PROFILER_LIB=/path/to/libasyncProfiler.so"
  command -v jcmd >/dev/null || die "--profile needs jcmd (a JDK)"
  mkdir -p "$profile"
  profile="$(cd "$profile" && pwd)"
fi
if [[ -n $baseline ]]; then
  [[ -x $baseline/bin/mproxy ]] || die "--baseline: $baseline/bin/mproxy is missing (expected: a checkout of mproxy)"
  baseline="$(cd "$baseline" && pwd)"
fi

as_root=0
[[ $(id -u) -eq 0 ]] && as_root=1

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -n $pg_bin && -x $pg_bin/postgres && -x $pg_bin/initdb ]] \
  || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install -y postgresql postgresql-contrib)"
for cmd in psql pgbench curl java awk sort setpriv; do
  command -v "$cmd" >/dev/null || die "$cmd is not installed (Debian: apt-get install -y postgresql-client postgresql-contrib curl default-jdk-headless util-linux)"
done
if [[ ,$targets, == *,pgbouncer,* ]] && ! command -v pgbouncer >/dev/null; then
  if ((as_root)) && command -v apt-get >/dev/null; then
    echo "bench/postgres.sh: installing pgbouncer" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null \
      || die "apt-get install pgbouncer failed"
  else
    die "pgbouncer is not installed (apt-get install -y pgbouncer), or leave it out with --targets direct,mproxy"
  fi
fi

# "${as_postgres[@]}" CMD...: runs CMD as OS user postgres when this script runs as root
# (PostgreSQL and PgBouncer refuse to run as root). setpriv execs, so a command started in the
# background with it keeps the pid that $! names.
as_postgres=()
((as_root)) && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)

work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-pg-bench.XXXXXX")"
chmod 755 "$work"
mkdir "$work/pg" "$work/pgbouncer"
((as_root)) && chown postgres:postgres "$work/pg" "$work/pgbouncer"
declare -A pid_of=()   # target -> pid whose CPU is measured
declare -A port_of=()
started_pids=()
pg_started=0

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
  if ((pg_started)); then
    "${as_postgres[@]}" "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m immediate -w >/dev/null 2>&1 || true
  fi
  if ((keep)); then
    echo "bench/postgres.sh: work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------- helpers

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

alive() {
  kill -0 "$1" 2>/dev/null
}

clk_tck="$(getconf CLK_TCK)"

ticks() {   # "CPU SYSTEM": utime + stime, and stime, of one process (all threads): fields 14 and 15 of stat
  local stat
  stat="$(cat "/proc/$1/stat")" || die "process $1 is gone"
  stat="${stat##*) }"
  awk '{ print $12 + $13, $13 }' <<<"$stat"
}

us_per_tx() {   # us_per_tx TICKS TRANSACTIONS: CPU ticks as µs per transaction, one decimal
  awk -v d="$1" -v hz="$clk_tck" -v n="$2" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }'
}

jit_ticks() {   # utime + stime of a JVM's JIT compiler threads ("C1 CompilerThre", "C2 CompilerThre"…)
  { cat /proc/"$1"/task/[0-9]*/stat 2>/dev/null || true; } \
    | awk '/\(C[12] CompilerThre/ { sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

# switches PID: the process's voluntary context switches (a thread that blocks: each is one sleep
# and one wake-up), its involuntary ones (preempted), and the voluntary ones of its event loops
# (threads named multiThreadIoEv…, Netty's; PgBouncer has none: it is one thread), summed over
# its threads from /proc/PID/task/*/status
switches() {
  local tid total_v=0 total_n=0 loop_v=0 v n comm
  for tid in /proc/"$1"/task/[0-9]*; do
    v="" n=""
    while read -r k val; do
      case $k in
        voluntary_ctxt_switches:) v=$val ;;
        nonvoluntary_ctxt_switches:) n=$val ;;
      esac
    done <"$tid/status" 2>/dev/null || continue
    total_v=$((total_v + ${v:-0}))
    total_n=$((total_n + ${n:-0}))
    comm="$(cat "$tid/comm" 2>/dev/null || true)"
    [[ $comm == multiThreadIoEv* ]] && loop_v=$((loop_v + ${v:-0}))
  done
  echo "$total_v $total_n $loop_v"
}

postgres_ticks() {
  # The postmaster's own time, plus what its reaped children used (cutime + cstime: the backends
  # of direct runs exit at the end of the run), plus its live children (the proxies' pooled
  # backends, the background processes). /proc/PID/stat fields after "(comm) ": 2 ppid,
  # 12 utime, 13 stime, 14 cutime, 15 cstime.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$1" '
    {
      match($0, /.*\) /)
      pid = substr($0, 1, index($0, " ") - 1)
      n = split(substr($0, RLENGTH + 1), f, " ")
      if (pid == pm) { total += f[12] + f[13] + f[14] + f[15]; seen = 1 }
      else if (f[2] == pm) { total += f[12] + f[13] }
    }
    END { if (!seen) { print "postmaster " pm " is gone" > "/dev/stderr"; exit 1 } print total }'
}

psql_at() {   # psql_at PORT SQL: as app/secret over TCP
  PGPASSWORD=secret PGCONNECT_TIMEOUT=5 psql -X -A -t -q -h 127.0.0.1 -p "$1" -U app -d app -c "$2"
}

load() {
  cut -d' ' -f1-3 /proc/loadavg
}

# profiler PID OPTIONS: async-profiler loaded into the running daemon (jcmd splits its arguments
# on '=', hence the quoted option string)
profiler() {
  jcmd "$1" "JVMTI.agent_load $agent \"$2\"" >/dev/null
}

# tcp_counters: the host's TCP segments sent and delayed ACKs so far (nstat's absolute values, its
# history left alone)
tcp_counters() {
  nstat -asz TcpOutSegs TcpExtDelayedACKs 2>/dev/null \
    | awk '$1 == "TcpOutSegs" { s = $2 } $1 == "TcpExtDelayedACKs" { d = $2 } END { print s + 0, d + 0 }'
}

# epoll_returns FILE: of the epoll waits perf recorded in FILE, the mean of the ready events each
# returned, and the share that returned none (a timeout or an empty poll)
epoll_returns() {
  perf script -i "$1" -F trace 2>/dev/null | awk '
    { v = $NF; if (v ~ /^0x/) v = strtonum(v); v += 0; if (v < 0 || v > 65536) next; n++; ev += v; if (v == 0) zero++ }
    END { if (n == 0) print "-"; else printf "%.2f (%.0f %% empty)", ev / n, 100 * zero / n }'
}

# syscalls_of MODE CLIENTS TARGET: one run of $syscalls transactions under perf stat -p (all the
# proxy's threads); prints its system calls per transaction, all kinds together and each kind of
# at least 0.01 per transaction, most frequent first. Context switches are counted too.
syscalls_of() {
  local mode=$1 clients=$2 t=$3 pid=${pid_of[$3]} f="$work/syscalls-$3.csv" per=$(( (syscalls + $2 - 1) / $2 ))
  local tcp0 tcp1 rec="$work/epoll-$3.data" recpid w0 w1
  tcp0="$(tcp_counters)"
  w0="$(switches "$pid")"
  # the epoll waits' return values (the ready events each one brought) over the same run
  perf record -q -e 'syscalls:sys_exit_epoll_wait' -e 'syscalls:sys_exit_epoll_pwait' \
    -e 'syscalls:sys_exit_epoll_pwait2' -p "$pid" -o "$rec" >/dev/null 2>&1 &
  recpid=$!
  sleep 0.5
  perf stat -x, -e 'syscalls:sys_enter_*' -e context-switches -p "$pid" -o "$f" -- \
    env PGPASSWORD=secret pgbench -h 127.0.0.1 -p "${port_of[$t]}" -U app -n "${script_args[@]}" -M "$mode" \
    -c "$clients" -j "$threads" -t "$per" app >"$work/pgbench-syscalls.log" 2>&1 || true
  kill -INT "$recpid" 2>/dev/null || true
  wait "$recpid" 2>/dev/null || true
  w1="$(switches "$pid")"
  tcp1="$(tcp_counters)"
  local epoll
  epoll="$(epoll_returns "$rec")"
  local txns error
  txns="$(awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1]; exit }' "$work/pgbench-syscalls.log")"
  error="$(grep -m 1 -E 'error|ERROR|FATAL|aborted' "$work/pgbench-syscalls.log" || true)"
  if [[ -z $txns || $txns -eq 0 || -n $error || ! -s $f ]]; then
    # e.g. -M prepared through PgBouncer in transaction mode: reported, not fatal
    printf '| %s | %s | %s | - | - | - | - | failed: %s | - | - | - |\n' "$clients" "$mode" "$t" "${error:-no transaction or no perf output}"
    return 0
  fi
  awk -F, '$1 ~ /^[0-9]+$/ && $1 > 0 { sub(/^syscalls:sys_enter_/, "", $3); print $1, $3 }' "$f" \
    | sort -k1,1nr \
    | awk -v n="$txns" -v t="$t" -v m="$mode" -v c="$clients" -v tcp0="$tcp0" -v tcp1="$tcp1" -v ep="$epoll" -v w0="$w0" -v w1="$w1" '
        $2 == "context-switches" { cs = $1; next }
        { total += $1; if ($1 / n >= 0.01) parts = parts sprintf(", %s %.2f", $2, $1 / n) }
        END {
          split(tcp0, a, " "); split(tcp1, b, " "); split(w0, x, " "); split(w1, y, " ")
          printf "| %s | %s | %s | %d | %.2f | %.2f | %.2f | %s | %s | %.2f | %.2f |\n", c, m, t, n, total / n, cs / n, (y[1] - x[1]) / n, substr(parts, 3),
            ep, (b[1] - a[1]) / n, (b[2] - a[2]) / n
        }'
}

# ---------------------------------------------------------------------------- PostgreSQL

free_port
pg_port=$port
pgdata="$work/pg/data"
"${as_postgres[@]}" "$pg_bin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C --no-sync \
  >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; die "initdb failed"; }
cat >>"$pgdata/postgresql.conf" <<CONF
# bench/postgres.sh
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work/pg'
max_connections = $max_connections
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
CONF
cat >"$pgdata/pg_hba.conf" <<HBA
local all postgres trust
host all all 127.0.0.1/32 scram-sha-256
HBA
"${as_postgres[@]}" "$pg_bin/pg_ctl" start -D "$pgdata" -w -t 60 -l "$work/pg/postgres.log" >/dev/null \
  || { tail -n 30 "$work/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
pg_started=1
postmaster_pid="$(head -n 1 "$pgdata/postmaster.pid")"
psql -X -q -h "$work/pg" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE app LOGIN PASSWORD 'secret'" -c "CREATE DATABASE app OWNER app" >/dev/null \
  || die "could not create role and database app"
port_of[direct]=$pg_port
echo "bench/postgres.sh: PostgreSQL $("$pg_bin/postgres" --version | awk '{ print $3 }') on $pg_port, max_connections $max_connections; pgbench -i -s $scale" >&2
PGPASSWORD=secret pgbench -i -q -s "$scale" -h 127.0.0.1 -p "$pg_port" -U app app >"$work/pgbench-init.log" 2>&1 \
  || { tail -n 20 "$work/pgbench-init.log" >&2; die "pgbench -i failed"; }

# ---------------------------------------------------------------------------- mproxy

start_mproxy() {   # start_mproxy TARGET ROOT [TRANSPORT [IO_THREADS]]: bin/mproxy of checkout ROOT as target TARGET
  local name=$1 home=$2 transport=${3:-} loops=${4:-} admin
  free_port
  admin=$port
  free_port
  cat >"$work/$name.yaml" <<YAML
# generated by bench/postgres.sh: transaction pooling in front of the benchmark's PostgreSQL,
# admission on (a default group whose budget never limits) and metrics as in production.
server: { shutdown_grace_ms: 1000, watch_config: false${transport:+, transport: $transport}${loops:+, io_threads: $loops} }
admin: { bind: 127.0.0.1:$admin }
listeners:
  - name: pg
    protocol: postgres
    bind: 127.0.0.1:$port
    cluster: bench
    max_client_connections: 10000
    auth: { mode: terminate, users: [ { name: app, password: secret } ] }
    auth_method: scram-sha-256
clusters:
  bench:
    protocol: postgres
    credentials: { user: app, password: secret }
    backends:
      - { address: 127.0.0.1:$pg_port, role: primary }
    pool: { mode: transaction, min_idle: $pool, max_size: $pool }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
  "$home/bin/mproxy" version >"$work/$name-build.log" 2>&1 \
    || { tail -n 30 "$work/$name-build.log" >&2; die "$home/bin/mproxy could not be built"; }
  "$home/bin/mproxy" check --config "$work/$name.yaml" >"$work/$name-check.log" 2>&1 \
    || { cat "$work/$name-check.log" >&2; die "bin/mproxy check rejected the generated config"; }
  "$home/bin/mproxy" run --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  local deadline=$((SECONDS + 60))
  until curl -sf -o /dev/null "http://127.0.0.1:$admin/healthz"; do
    alive "$pid" || { tail -n 30 "$work/$name.log" >&2; die "$name exited during start-up"; }
    ((SECONDS < deadline)) || { tail -n 30 "$work/$name.log" >&2; die "$name: /healthz not 200 within 60 s"; }
    sleep 0.2
  done
  [[ "$(psql_at "$port" "SELECT 1" 2>"$work/$name-probe.err")" == 1 ]] \
    || { cat "$work/$name-probe.err" >&2; tail -n 30 "$work/$name.log" >&2; die "$name does not answer SELECT 1 on $port"; }
  port_of[$name]=$port
  pid_of[$name]=$pid
}

# ---------------------------------------------------------------------------- PgBouncer

start_pgbouncer() {
  free_port
  local dir="$work/pgbouncer"
  cat >"$dir/pgbouncer.ini" <<INI
; generated by bench/postgres.sh: transaction pooling with the same pool size as mproxy
[databases]
app = host=127.0.0.1 port=$pg_port dbname=app user=app password=secret

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $pool
min_pool_size = $pool
reserve_pool_size = 0
max_client_conn = 10000
max_db_connections = $pool
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
log_connections = 0
log_disconnections = 0
INI
  echo '"app" "secret"' >"$dir/userlist.txt"
  ((as_root)) && chown postgres:postgres "$dir/pgbouncer.ini" "$dir/userlist.txt"
  "${as_postgres[@]}" pgbouncer "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  local deadline=$((SECONDS + 30))
  until [[ "$(psql_at "$port" "SELECT 1" 2>/dev/null)" == 1 ]]; do
    alive "$pid" || { tail -n 20 "$dir/pgbouncer.log" "$dir/stdout.log" >&2 2>/dev/null; die "pgbouncer exited during start-up"; }
    ((SECONDS < deadline)) || { tail -n 20 "$dir/pgbouncer.log" >&2; die "pgbouncer does not answer SELECT 1 on $port"; }
    sleep 0.2
  done
  port_of[pgbouncer]=$port
  pid_of[pgbouncer]=$pid
}

for t in "${target_list[@]}"; do
  case $t in
    mproxy) start_mproxy mproxy "$root" "" "$io_threads" ;;
    mproxy-uring) start_mproxy mproxy-uring "$root" io_uring "$io_threads" ;;
    baseline) start_mproxy baseline "$baseline" "" "$baseline_io_threads" ;;
    pgbouncer) start_pgbouncer ;;
  esac
done

# ---------------------------------------------------------------------------- runs

results="$work/results.csv"
header="round,mode,clients,target,tps,transactions,failed,proxy_us_per_tx,postgres_us_per_tx,status,proxy_jit_us_per_tx,proxy_sys_us_per_tx,proxy_wakeups_per_tx,proxy_preempted_per_tx,proxy_loop_wakeups_per_tx"

# run_one ROUND MODE CLIENTS TARGET SECONDS: one pgbench run; appends a line to results.csv.
run_one() {
  local round=$1 mode=$2 clients=$3 target=$4 secs=$5
  local port=${port_of[$target]} pid=${pid_of[$target]:-}
  local p0=0 p1=0 j0=0 j1=0 s0=0 s1=0 w0="0 0 0" w1="0 0 0" g0 g1 log="$work/pgbench-last.log" status=ok
  [[ -n $pid ]] && read -r p0 s0 < <(ticks "$pid") && j0="$(jit_ticks "$pid")" && w0="$(switches "$pid")"
  g0="$(postgres_ticks "$postmaster_pid")"
  local profiled=0
  if [[ -n $profile && -n $pid && $target != pgbouncer && $round -gt 0 ]]; then
    profiler "$pid" "start,event=cpu,interval=250us,threads" && profiled=1
  fi
  PGPASSWORD=secret pgbench -h 127.0.0.1 -p "$port" -U app -n "${script_args[@]}" -M "$mode" \
    -c "$clients" -j "$threads" -T "$secs" app >"$log" 2>&1 || status=failed
  [[ -n $pid ]] && read -r p1 s1 < <(ticks "$pid") && j1="$(jit_ticks "$pid")" && w1="$(switches "$pid")"
  g1="$(postgres_ticks "$postmaster_pid")"
  if ((profiled)); then
    profiler "$pid" "stop,file=$profile/$round-$mode-c$clients-$target.collapsed" || true
  fi
  local tps txns failed
  tps="$(awk '/^tps = / { print $3; exit }' "$log")"
  txns="$(awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1]; exit }' "$log")"
  failed="$(awk '/^number of failed transactions/ { print $5; exit }' "$log")"
  failed=${failed:-0}
  if [[ $status != ok || -z $tps || -z $txns || $txns -eq 0 || $failed != 0 ]] || grep -q "aborted" "$log"; then
    status="$({ grep -m 1 -E 'error|ERROR|FATAL|aborted' "$log" || true; } | tr ',\n' ';;' | cut -c1-160)"
    status=${status:-"no transaction completed in ${secs} s (connecting all clients may take longer: raise -T)"}
    cp "$log" "$work/pgbench-failed-$round-$mode-$clients-$target.log"
    status=${status//,/;}
  fi
  local proxy_us="" pg_us="" jit_us="" sys_us="" wake="" preempt="" loop_wake=""
  if [[ $status == ok ]]; then
    [[ -n $pid ]] && proxy_us="$(us_per_tx $((p1 - p0)) "$txns")"
    [[ -n $pid ]] && sys_us="$(us_per_tx $((s1 - s0)) "$txns")"
    [[ -n $pid && $target != pgbouncer ]] && jit_us="$(us_per_tx $((j1 - j0)) "$txns")"
    if [[ -n $pid ]]; then
      read -r wake preempt loop_wake < <(awk -v a="$w0" -v b="$w1" -v n="$txns" -v t="$target" \
        'BEGIN { split(a, x, " "); split(b, y, " ");
                 printf "%.3f %.3f %s\n", (y[1] - x[1]) / n, (y[2] - x[2]) / n, (t == "pgbouncer" ? "" : sprintf("%.3f", (y[3] - x[3]) / n)) }')
    fi
    pg_us="$(us_per_tx $((g1 - g0)) "$txns")"
  fi
  echo "$round,$mode,$clients,$target,${tps:-},${txns:-},$failed,$proxy_us,$pg_us,$status,$jit_us,$sys_us,$wake,$preempt,$loop_wake" >>"$results"
  printf '  round %d -M %-8s -c %-4s %-10s %10.0f tps  proxy %6s us/tx (JIT %5s, system %5s) wake-ups %5s/tx  postgres %6s us/tx  %s\n' \
    "$round" "$mode" "$clients" "$target" "${tps:-0}" "${proxy_us:--}" "${jit_us:--}" "${sys_us:--}" "${wake:--}" "${pg_us:--}" "$status" >&2
}

echo "$header" >"$results"
echo "bench/postgres.sh: $(nproc) cores, load $(load); targets: ${target_list[*]}; pool $pool; script $script${io_threads:+; mproxy io_threads $io_threads}${baseline:+${baseline_io_threads:+; baseline io_threads $baseline_io_threads}}" >&2
if ((warmup > 0)); then
  echo "bench/postgres.sh: warm-up (JIT, pools, caches): one untimed ${warmup} s run per target, mode and client count" >&2
  for c in "${client_counts[@]}"; do
    for m in "${modes[@]}"; do
      for t in "${target_list[@]}"; do
        run_one 0 "$m" "$c" "$t" "$warmup"
      done
    done
  done
fi
echo "$header" >"$results"

n_targets=${#target_list[@]}
for ((round = 1; round <= rounds; round++)); do
  echo "bench/postgres.sh: round $round/$rounds (load $(load))" >&2
  for c in "${client_counts[@]}"; do
    for m in "${modes[@]}"; do
      for ((i = 0; i < n_targets; i++)); do
        t=${target_list[$(((i + round - 1) % n_targets))]}
        run_one "$round" "$m" "$c" "$t" "$seconds"
      done
    done
  done
done
echo "bench/postgres.sh: done (load $(load))" >&2

echo
echo "pgbench ${script_args[*]:-(tpcb-like)} -T $seconds -j $threads, scale $scale; pool $pool (mproxy max_size, PgBouncer default_pool_size); max_connections $max_connections${io_threads:+; mproxy io_threads $io_threads}${baseline:+${baseline_io_threads:+; baseline io_threads $baseline_io_threads}}; $rounds interleaved rounds; $(date -u '+%Y-%m-%d %H:%M UTC')"
print_table

if ((syscalls)); then
  echo
  echo "system calls of each proxy process per transaction: one run of $syscalls transactions per client count, mode and proxy under perf stat (load $(load))"
  echo
  echo "TCP segments and delayed ACKs: the whole host's (nstat), over the same run: pgbench, the proxy and PostgreSQL"
  echo
  echo "events per epoll wait: the mean of the ready events each epoll wait returned (perf record of its exits), and the share that returned none"
  echo
  echo "wake-ups /tx: the voluntary ones of the context switches (from /proc), the same run"
  echo
  echo "| clients | -M | target | transactions | syscalls /tx | context switches /tx | wake-ups /tx | by kind /tx | events per epoll wait | TCP segments /tx | delayed ACKs /tx |"
  echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"
  for c in "${client_counts[@]}"; do
    for m in "${modes[@]}"; do
      for t in "${target_list[@]}"; do
        [[ $t == direct ]] || syscalls_of "$m" "$c" "$t"
      done
    done
  done
fi

if [[ -n $out ]]; then
  cp "$results" "$out"
  echo
  echo "every run: $out"
fi
