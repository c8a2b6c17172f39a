#!/usr/bin/env bash
# sysbench through mproxy and haproxy (TCP mode) against direct MariaDB, interleaved, medians and
# ratios to direct.
#
#   bench/mysql.sh                                   # 3 rounds, 20 s runs, point_select + read_only, 16 and 128 threads
#   bench/mysql.sh -r 5 -t 30 --threads 16,64,128
#   bench/mysql.sh --tests oltp_point_select --targets direct,mproxy
#   bench/mysql.sh --baseline /tmp/old --targets direct,baseline,mproxy   # before/after, interleaved
#   bench/mysql.sh --ps-mode disable ...             # text protocol (COM_QUERY) instead of prepared statements
#   bench/mysql.sh --status ...                      # also MariaDB's SHOW GLOBAL STATUS deltas per query
#   bench/mysql.sh --baseline . --baseline-pool 16 --targets direct,baseline,mproxy   # pool sizes, interleaved
#   bench/mysql.sh --baseline . --baseline-io-threads 1 --targets direct,baseline,mproxy   # event loops, interleaved
#
# Starts its own MariaDB (Debian mariadbd, private datadir, free loopback port), loads the sysbench
# tables once, starts mproxy (bin/mproxy run; transaction pooling, --pool backend connections) and
# haproxy when installed, all on 127.0.0.1; then, per round, runs every test x threads on every
# target, rotating the target order each round. Prints per test and thread count the median
# transactions/s and queries/s per target, the median of the per-round ratios to direct, and the
# median 95th-percentile latency, and the CPU each process spent per query (utime+stime from
# /proc/PID/stat over the run, divided by sysbench's query count: the proxy's and MariaDB's).
# Errors and reconnects reported by sysbench are summed per target.
# With --alloc, mproxy runs with a JFR recording of its threads' allocation counters and each
# mproxy run also reports the heap bytes its event loops allocated per query (bench/jfr-alloc.py;
# does not depend on load, unlike everything else here; the recording costs a little CPU, so do not
# compare ratios from an --alloc run with ones from a plain run).
# With --baseline DIR, DIR's bin/mproxy (another checkout, e.g. a git worktree of an older commit)
# runs as target "baseline" with the same config, so two builds are compared in one interleaved run.
# With --status, each run also prints the deltas of MariaDB's SHOW GLOBAL STATUS counters that
# differ between a proxy and a direct client (statements per kind, connections, bytes, handler
# calls) divided by sysbench's query count, to see what extra work a proxy makes the server do.
# Everything it started is stopped on exit. JVM options for mproxy: MPROXY_JAVA_OPTS.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

rounds=3
seconds=20
threads_list="16,128"
tests="oltp_point_select,oltp_read_only"
targets=""
pool=32
io_threads=0
tables=4
table_size=100000
keep=0
out=""
alloc=0
sites=0
warmup=""
baseline=""
baseline_pool=""
baseline_io_threads=""
db_status=0
ps_mode=auto

usage() {
  cat <<USAGE
usage: bench/mysql.sh [options]
  -r, --rounds N        interleaved rounds (default $rounds)
  -t, --time S          seconds per sysbench run (default $seconds)
  --warmup S            seconds of untimed warm-up per target and test (default: half of --time, plus 1;
                        the JIT is still compiling after that, which shows in mproxy's CPU per query)
  --threads LIST        sysbench thread counts (default $threads_list)
  --tests LIST          sysbench tests (default $tests)
  --targets LIST        subset of direct,baseline,mproxy,mproxy-uring,haproxy (default: all
                        installed but mproxy-uring, plus baseline with --baseline); mproxy-uring is
                        this checkout's mproxy with server.transport: io_uring
  --baseline DIR        another checkout of mproxy whose bin/mproxy runs as target "baseline"
                        (same config), for before/after comparisons in one interleaved run
  --status              print MariaDB's global status deltas per query for every run
  --ps-mode MODE        sysbench's --db-ps-mode: auto (default: prepared statements, COM_STMT_EXECUTE
                        per query) or disable (text protocol: one COM_QUERY per query, which mproxy
                        inspects and fingerprints)
  --pool N              mproxy backend connections (pool max_size = min_idle; default $pool)
  --baseline-pool N     the baseline's pool size instead of --pool (e.g. --baseline . to compare pool
                        sizes of one build in one interleaved run)
  --baseline-io-threads N  the baseline's server.io_threads instead of --io-threads (e.g. --baseline .
                        to compare event-loop counts of one build in one interleaved run)
  --io-threads N        mproxy event loops (server.io_threads; default 0: one per core)
  --table-size N        rows per table (default $table_size, $tables tables)
  --out FILE            also write every run as CSV to FILE
  --alloc               also measure mproxy's event-loop heap allocation per query (JFR)
  --sites N             with --alloc: print the N heaviest allocation sites per mproxy run
  --keep                keep the work directory (configs, logs) after exit
USAGE
}

die() {
  echo "bench/mysql.sh: $*" >&2
  exit 1
}

while (($#)); do
  case $1 in
    -r|--rounds) rounds=${2:?}; shift 2 ;;
    -t|--time) seconds=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --threads) threads_list=${2:?}; shift 2 ;;
    --tests) tests=${2:?}; shift 2 ;;
    --targets) targets=${2:?}; shift 2 ;;
    --pool) pool=${2:?}; shift 2 ;;
    --io-threads) io_threads=${2:?}; shift 2 ;;
    --table-size) table_size=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --keep) keep=1; shift ;;
    --alloc) alloc=1; shift ;;
    --sites) sites=${2:?}; shift 2 ;;
    --baseline) baseline=${2:?}; shift 2 ;;
    --baseline-pool) baseline_pool=${2:?}; shift 2 ;;
    --baseline-io-threads) baseline_io_threads=${2:?}; shift 2 ;;
    --status) db_status=1; shift ;;
    --ps-mode) ps_mode=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

for tool in mariadbd mariadb-install-db mariadb sysbench python3; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] \
    || die "$tool is not installed (apt-get install -y mariadb-server mariadb-client sysbench python3)"
done
PATH="$PATH:/usr/sbin"
if ((alloc)); then
  for tool in jfr jcmd; do
    command -v "$tool" >/dev/null || die "$tool is missing (--alloc needs a JDK's jfr and jcmd)"
  done
fi

if [[ -z $targets ]]; then
  targets="direct,mproxy"
  [[ -n $baseline ]] && targets="direct,baseline,mproxy"
  command -v haproxy >/dev/null && targets+=",haproxy"
fi
IFS=, read -r -a target_list <<<"$targets"
IFS=, read -r -a thread_counts <<<"$threads_list"
IFS=, read -r -a test_list <<<"$tests"
for t in "${target_list[@]}"; do
  case $t in
    direct|mproxy|mproxy-uring) ;;
    baseline) [[ -n $baseline ]] || die "target baseline needs --baseline DIR" ;;
    haproxy) command -v haproxy >/dev/null || die "haproxy is not installed (apt-get install -y haproxy)" ;;
    *) die "unknown target '$t' (expected: direct, baseline, mproxy, mproxy-uring, haproxy)" ;;
  esac
done
if [[ -n $baseline ]]; then
  [[ -x $baseline/bin/mproxy ]] || die "--baseline: $baseline/bin/mproxy is missing (expected: a checkout of mproxy)"
  baseline="$(cd "$baseline" && pwd)"
fi

work="$(mktemp -d /tmp/mproxy-bench-mysql.XXXXXX)"
started_pids=()
cleanup() {
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((keep)); then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

declare -A port_of pid_of

clk_tck="$(getconf CLK_TCK)"

cpu_ticks() {   # utime + stime of one process (all threads): fields 14 and 15 of stat
  local stat
  stat="$(cat "/proc/$1/stat")" || die "process $1 is gone"
  stat="${stat##*) }"
  awk '{ print $12 + $13 }' <<<"$stat"
}

# ---------------------------------------------------------------------------- MariaDB

db_port="$(free_port)"
mkdir -p "$work/db"
user_opt=()
if [[ $(id -u) == 0 ]]; then
  chown -R mysql:mysql "$work/db"
  chmod 755 "$work"
  user_opt=(--user=mysql)
fi
mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$work/db/data" \
  --auth-root-authentication-method=socket --skip-test-db >"$work/install.log" 2>&1 \
  || { tail -n 20 "$work/install.log" >&2; die "mariadb-install-db failed"; }
mariadbd --no-defaults "${user_opt[@]}" --datadir="$work/db/data" --port="$db_port" \
  --socket="$work/db/mariadb.sock" --bind-address=127.0.0.1 --skip-name-resolve \
  --log-error="$work/db/error.log" --pid-file="$work/db/mariadb.pid" --max-connections=2000 \
  --innodb-buffer-pool-size=512M --innodb-flush-log-at-trx-commit=2 --performance-schema=OFF &
started_pids+=("$!")
pid_of[direct]=$!
port_of[direct]=$db_port
wait_for 30 mariadb --no-defaults -S "$work/db/mariadb.sock" -uroot -e "SELECT 1" \
  || { tail -n 20 "$work/db/error.log" >&2; die "mariadbd did not start"; }
mariadb --no-defaults -S "$work/db/mariadb.sock" -uroot -e "
  DELETE FROM mysql.global_priv WHERE User='';
  CREATE USER bench@'%' IDENTIFIED BY 'bench'; GRANT ALL ON *.* TO bench@'%';
  CREATE DATABASE sbtest; FLUSH PRIVILEGES;"

sb_common=(--db-driver=mysql --mysql-host=127.0.0.1 --mysql-user=bench --mysql-password=bench
  --mysql-db=sbtest --tables="$tables" --table-size="$table_size" --db-ps-mode="$ps_mode")
echo "loading $tables x $table_size rows ..." >&2
sysbench oltp_read_only "${sb_common[@]}" --mysql-port="$db_port" --threads=4 prepare >"$work/prepare.log" 2>&1 \
  || { tail -n 20 "$work/prepare.log" >&2; die "sysbench prepare failed"; }

# ---------------------------------------------------------------------------- mproxy

start_mproxy() {   # start_mproxy TARGET ROOT [POOL [TRANSPORT [IO_THREADS]]]: bin/mproxy of checkout ROOT as target TARGET
  local name=$1 home=$2 size=${3:-$pool} transport=${4:-} loops=${5:-$io_threads} port admin
  port="$(free_port)"
  admin="$(free_port)"
  cat >"$work/$name.yaml" <<YAML
server: { watch_config: false, shutdown_grace_ms: 2000, io_threads: $loops${transport:+, transport: $transport} }
admin: { bind: 127.0.0.1:$admin }
listeners:
  - name: mysql
    protocol: mysql
    bind: 127.0.0.1:$port
    cluster: db
    auth: { mode: terminate, users: [ { name: bench, password: bench } ] }
clusters:
  db:
    protocol: mysql
    credentials: { user: bench, password: bench }
    database: sbtest
    backends:
      - { address: 127.0.0.1:$db_port, role: primary }
    pool: { mode: transaction, min_idle: $size, max_size: $size, acquire_timeout_ms: 30000 }
resource_groups:
  default: { ru_per_sec: 100000000, burst: 100000000, on_exhausted: reject }
YAML
  local java_opts=${MPROXY_JAVA_OPTS:-}
  if ((alloc)); then
    jfr configure --input profile --output "$work/alloc.jfc" >/dev/null
    sed -i '/name="jdk.ThreadAllocationStatistics"/,/<\/event>/ s#<setting name="period">[^<]*</setting>#<setting name="period">500 ms</setting>#' "$work/alloc.jfc"
    java_opts+=" -XX:StartFlightRecording=settings=$work/alloc.jfc,filename=$work/$name-rec.jfr"
  fi
  "$home/bin/mproxy" version >/dev/null   # builds the jar first when it is stale
  MPROXY_JAVA_OPTS="$java_opts" "$home/bin/mproxy" run --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  wait_for 120 mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$port" -ubench -pbench -e "SELECT 1" \
    || { tail -n 30 "$work/$name.log" >&2; die "$name does not answer on $port"; }
  port_of[$name]=$port
  pid_of[$name]=$pid
}

start_haproxy() {
  local port
  port="$(free_port)"
  cat >"$work/haproxy.cfg" <<CFG
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s

listen mysql
    bind 127.0.0.1:$port
    server db 127.0.0.1:$db_port
CFG
  haproxy -c -q -f "$work/haproxy.cfg" >"$work/haproxy-check.log" 2>&1 \
    || { cat "$work/haproxy-check.log" >&2; die "haproxy rejected the generated config"; }
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  local pid=$!
  started_pids+=("$pid")
  wait_for 10 mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$port" -ubench -pbench -e "SELECT 1" \
    || { tail -n 20 "$work/haproxy.log" >&2; die "haproxy does not answer on $port"; }
  port_of[haproxy]=$port
  pid_of[haproxy]=$pid
}

for t in "${target_list[@]}"; do
  case $t in
    mproxy) start_mproxy mproxy "$root" ;;
    mproxy-uring) start_mproxy mproxy-uring "$root" "$pool" io_uring ;;
    baseline) start_mproxy baseline "$baseline" "${baseline_pool:-$pool}" "" "${baseline_io_threads:-$io_threads}" ;;
    haproxy) start_haproxy ;;
  esac
done

# ---------------------------------------------------------------------------- runs

csv="$work/runs.csv"
echo "round,test,threads,target,tps,qps,p95_ms,errors,reconnects,proxy_cpu_us,db_cpu_us,alloc_b" >"$csv"

global_status() {   # SHOW GLOBAL STATUS as "name<TAB>value" lines, over the admin socket
  mariadb --no-defaults -S "$work/db/mariadb.sock" -uroot -N -B -e "SHOW GLOBAL STATUS"
}

# status_deltas BEFORE AFTER SYSBENCH_LOG: the counters a proxy can change, per sysbench query
status_deltas() {
  python3 - "$@" <<'PY'
import re, sys
def load(path):
    out = {}
    for line in open(path):
        k, _, v = line.rstrip("\n").partition("\t")
        if v.lstrip("-").isdigit():
            out[k] = int(v)
    return out
before, after = load(sys.argv[1]), load(sys.argv[2])
m = re.search(r"queries:\s+(\d+)\s", open(sys.argv[3]).read())
queries = int(m.group(1)) if m else 0
if not queries:
    sys.exit(0)
prefixes = ("Com_", "Handler_", "Bytes_", "Threads_", "Connections", "Questions", "Queries",
            "Select_", "Opened_", "Table_open_cache_", "Prepared_stmt_count", "Feature_", "Max_used_connections",
            "Innodb_rows_read", "Innodb_buffer_pool_read_requests", "Sort_", "Created_tmp")
cells = []
for k in sorted(after):
    if not k.startswith(prefixes):
        continue
    d = after[k] - before.get(k, 0)
    if k in ("Threads_connected", "Threads_running", "Threads_cached", "Prepared_stmt_count", "Max_used_connections"):
        cells.append(f"{k}={after[k]}")
    elif d:
        cells.append(f"{k}={d / queries:.3f}")
print(f"status per query ({queries} queries): " + " ".join(cells))
PY
}

run_one() {
  local round=$1 test=$2 threads=$3 target=$4
  local log="$work/run-$round-$test-$threads-$target.log"
  local proxy_pid=${pid_of[$target]} p0=0 p1=0 d0 d1 t0 t1 alloc_b=""
  [[ $target == direct ]] && proxy_pid=""
  [[ -n $proxy_pid ]] && p0="$(cpu_ticks "$proxy_pid")"
  ((db_status)) && global_status >"$work/status-before"
  d0="$(cpu_ticks "${pid_of[direct]}")"
  t0="$(date +%s.%N)"
  if ! sysbench "$test" "${sb_common[@]}" --mysql-port="${port_of[$target]}" --threads="$threads" \
      --time="$seconds" --report-interval=0 --mysql-ignore-errors=none run >"$log" 2>&1; then
    echo "  $target: sysbench failed (see $log)" >&2
    tail -n 5 "$log" >&2
    echo "$round,$test,$threads,$target,0,0,0,fail,0,,," >>"$csv"
    return
  fi
  t1="$(date +%s.%N)"
  [[ -n $proxy_pid ]] && p1="$(cpu_ticks "$proxy_pid")"
  d1="$(cpu_ticks "${pid_of[direct]}")"
  if ((db_status)); then
    global_status >"$work/status-after"
    status_deltas "$work/status-before" "$work/status-after" "$log" >"$log.status"
    sed 's/^/    /' "$log.status" >&2
  fi
  if ((alloc)) && [[ $target == mproxy* || $target == baseline ]]; then
    local queries
    queries="$(sed -nE 's/^ *queries: +([0-9]+) .*/\1/p' "$log")"
    sleep 1.2   # one more allocation sample after the run
    jcmd "$proxy_pid" JFR.dump filename="$work/now.jfr" >/dev/null
    "$root/bench/jfr-alloc.py" "$work/now.jfr" --from "$t0" --to "$t1" --requests "$queries" --sites "$sites" \
      >"$log.alloc"
    alloc_b="$(awk 'NR == 1 { print $1 }' "$log.alloc")"
    sed 1d "$log.alloc" >&2
  fi
  python3 - "$log" "$round" "$test" "$threads" "$target" "$((p1 - p0))" "$((d1 - d0))" "$clk_tck" \
      "${proxy_pid:+x}" "$alloc_b" >>"$csv" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def num(pattern):
    m = re.search(pattern, text)
    return m.group(1) if m else "0"
tps = num(r"transactions:\s+\d+\s+\(([\d.]+) per sec")
qps = num(r"queries:\s+\d+\s+\(([\d.]+) per sec")
p95 = num(r"95th percentile:\s+([\d.]+)")
errors = num(r"ignored errors:\s+(\d+)")
reconnects = num(r"reconnects:\s+(\d+)")
queries = int(num(r"queries:\s+(\d+)\s"))
proxy_ticks, db_ticks, hz = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
per = lambda ticks: f"{ticks / hz * 1e6 / queries:.1f}" if queries else ""
proxy_us = per(proxy_ticks) if sys.argv[9] else ""
print(",".join([sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], tps, qps, p95, errors, reconnects,
                proxy_us, per(db_ticks), sys.argv[10]]))
PY
  tail -n 1 "$csv" | awk -F, '{printf "  %-8s %10s tps %10s qps  p95 %s ms  proxy CPU %s us/q  db CPU %s us/q%s\n", $4, $5, $6, $7, $10, $11, ($12 == "" ? "" : "  alloc " $12 " B/q")}' >&2
}

for test in "${test_list[@]}"; do
  for threads in "${thread_counts[@]}"; do
    echo "warm-up: $test $threads threads" >&2
    for target in "${target_list[@]}"; do
      sysbench "$test" "${sb_common[@]}" --mysql-port="${port_of[$target]}" --threads="$threads" \
        --time="${warmup:-$((seconds / 2 + 1))}" --report-interval=0 run >/dev/null 2>&1 || true
    done
  done
done

n=${#target_list[@]}
for ((round = 1; round <= rounds; round++)); do
  for test in "${test_list[@]}"; do
    for threads in "${thread_counts[@]}"; do
      echo "round $round/$rounds: $test, $threads threads" >&2
      for ((i = 0; i < n; i++)); do
        target=${target_list[$(((i + round - 1) % n))]}
        run_one "$round" "$test" "$threads" "$target"
      done
    done
  done
done

[[ -n $out ]] && cp "$csv" "$out"

python3 - "$csv" "$seconds" "$rounds" "$pool${baseline_pool:+ (baseline: $baseline_pool)}" "$io_threads${baseline_io_threads:+ (baseline: $baseline_io_threads)}" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
seconds, rounds, pool, io = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
print(f"\nsysbench, {rounds} interleaved rounds of {seconds} s; mproxy: transaction pooling over {pool} backend connections, io_threads {io}")
print("| test | threads | target | tps (median) | qps (median) | ratio to direct | p95 ms (median) | proxy CPU us/query | MariaDB CPU us/query | alloc B/query | errors | reconnects |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
keys = []
for r in rows:
    k = (r["test"], r["threads"])
    if k not in keys:
        keys.append(k)
targets = []
for r in rows:
    if r["target"] not in targets:
        targets.append(r["target"])
for test, threads in keys:
    direct = {r["round"]: float(r["tps"]) for r in rows if r["test"] == test and r["threads"] == threads and r["target"] == "direct"}
    for t in targets:
        runs = [r for r in rows if r["test"] == test and r["threads"] == threads and r["target"] == t]
        if not runs:
            continue
        tps = statistics.median(float(r["tps"]) for r in runs)
        qps = statistics.median(float(r["qps"]) for r in runs)
        p95 = statistics.median(float(r["p95_ms"]) for r in runs)
        ratios = [float(r["tps"]) / direct[r["round"]] for r in runs if direct.get(r["round"])]
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "-"
        errors = sum(int(r["errors"]) for r in runs if r["errors"].isdigit())
        failed = sum(1 for r in runs if r["errors"] == "fail")
        rec = sum(int(r["reconnects"]) for r in runs)
        def med(col):
            vals = [float(r[col]) for r in runs if r[col]]
            return f"{statistics.median(vals):.1f}" if vals else "-"
        cpu, db, alloc_b = med("proxy_cpu_us"), med("db_cpu_us"), med("alloc_b")
        err = f"{errors}" + (f" ({failed} failed runs)" if failed else "")
        print(f"| {test} | {threads} | {t} | {tps:.0f} | {qps:.0f} | {ratio} | {p95:.2f} | {cpu} | {db} | {alloc_b} | {err} | {rec} |")
PY
