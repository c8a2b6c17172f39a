#!/usr/bin/env bash
# Heap bytes the daemon's event loops allocate per pgbench transaction through mproxy, end to end.
#
#   bench/alloc-pg.sh                         # -S, simple and prepared, 16 clients, 20000 tx each
#   bench/alloc-pg.sh -t 4000 -M simple --sites 15
#
# The PostgreSQL counterpart of bench/alloc.sh. Allocation does not depend on how busy the
# machine is, so unlike throughput this figure is comparable between runs on a shared box.
# Starts its own PostgreSQL (initdb, as user postgres when run as root; pgbench -i -s 1) and
# `bin/mproxy run` as bench/postgres.sh does (SCRAM, transaction pooling, pool of 20, admission
# and metrics on) on free loopback ports, with a JFR recording that samples each thread's
# allocated bytes every 500 ms. Per mode: an untimed warm-up run, then the measured
# `pgbench -S -M MODE -c 16 -t N` run; reads the growth of the event-loop threads' counters over
# the measured run (bench/jfr-alloc.py) and divides by the transactions. The figure includes the
# per-connection start-up of the 16 clients (SCRAM, pooled lease at login), spread over all
# transactions: use a large -t. Extra JVM options: MPROXY_JAVA_OPTS. With --profile PREFIX, also
# a CPU profile of each measured run (async-profiler, itimer, loaded with jcmd JVMTI.agent_load;
# ASYNC_PROFILER_LIB, default /tmp/ap/linux-x64/libasyncProfiler.so) to PREFIX-MODE.collapsed.
# With --strace, also the daemon's system calls per transaction over the measured run
# (`strace -f -c` attached to the JVM; it slows the run down, so CPU and tps are then meaningless).
# Everything it started is stopped on exit.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
per_client=20000
clients=16
modes=simple,prepared
sites=0
depth=3
profile=""
strace=0
while (($#)); do
  case $1 in
    -t) per_client=${2:?}; shift 2 ;;
    -c) clients=${2:?}; shift 2 ;;
    -M) modes=${2:?}; shift 2 ;;
    --sites) sites=${2:?}; shift 2 ;;
    --depth) depth=${2:?}; shift 2 ;;
    --profile) profile=${2:?}; shift 2 ;;
    --strace) strace=1; shift ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "bench/alloc-pg.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for cmd in pgbench psql curl java jfr jcmd python3 setpriv; do
  command -v "$cmd" >/dev/null || { echo "bench/alloc-pg.sh: $cmd is missing" >&2; exit 1; }
done
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -x $pg_bin/initdb ]] || { echo "bench/alloc-pg.sh: no PostgreSQL server under /usr/lib/postgresql" >&2; exit 1; }
as_postgres=()
[[ $(id -u) -eq 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-alloc-pg.XXXXXX")"
chmod 755 "$work"
mkdir "$work/pg"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work/pg"
pids=()
pg_started=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ((pg_started)) && "${as_postgres[@]}" "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m immediate -w >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port=$(port); proxy_port=$(port); admin_port=$(port)

"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
  >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; exit 1; }
cat >>"$work/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work/pg'
max_connections = 60
fsync = off
synchronous_commit = off
password_encryption = 'scram-sha-256'
CONF
printf 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/pg/data/pg_hba.conf"
"${as_postgres[@]}" "$pg_bin/pg_ctl" start -D "$work/pg/data" -w -t 60 -l "$work/pg/postgres.log" >/dev/null
pg_started=1
psql -X -q -h "$work/pg" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE app LOGIN PASSWORD 'secret'" -c "CREATE DATABASE app OWNER app" >/dev/null
PGPASSWORD=secret pgbench -i -q -s 1 -h 127.0.0.1 -p "$pg_port" -U app app >"$work/pgbench-init.log" 2>&1

cat >"$work/mproxy.yaml" <<YAML
server: { shutdown_grace_ms: 1000, watch_config: false }
admin: { bind: 127.0.0.1:$admin_port }
listeners:
  - name: pg
    protocol: postgres
    bind: 127.0.0.1:$proxy_port
    cluster: bench
    auth: { mode: terminate, users: [ { name: app, password: secret } ] }
    auth_method: scram-sha-256
clusters:
  bench:
    protocol: postgres
    credentials: { user: app, password: secret }
    backends: [ { address: 127.0.0.1:$pg_port, role: primary } ]
    pool: { mode: transaction, min_idle: 20, max_size: 20 }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
jfr configure --input profile --output "$work/alloc.jfc" >/dev/null
sed -i '/name="jdk.ThreadAllocationStatistics"/,/<\/event>/ s#<setting name="period">[^<]*</setting>#<setting name="period">500 ms</setting>#' "$work/alloc.jfc"
"$root/bin/mproxy" version >/dev/null
MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:-} -XX:StartFlightRecording=settings=$work/alloc.jfc,filename=$work/rec.jfr" \
  "$root/bin/mproxy" run --config "$work/mproxy.yaml" >"$work/mproxy.log" 2>&1 &
pids+=($!)
mproxy_pid=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$admin_port/healthz" || { tail "$work/mproxy.log" >&2; exit 1; }
jvm_pid=$(pgrep -P "$mproxy_pid" java || echo "$mproxy_pid")
tx=$((per_client * clients))
echo "mproxy $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); pgbench -S -c $clients -t $per_client ($tx tx per run); load $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  bench() { PGPASSWORD=secret pgbench -h 127.0.0.1 -p "$proxy_port" -U app -n -S -M "$m" -c "$clients" -j 2 -t "$1" app; }
  bench $((per_client / 4 + 1)) >"$work/warmup.log" 2>&1 || { cat "$work/warmup.log" >&2; exit 1; }
  sleep 1.2
  [[ -n $profile ]] && jcmd "$jvm_pid" JVMTI.agent_load "${ASYNC_PROFILER_LIB:-/tmp/ap/linux-x64/libasyncProfiler.so}" \
    "\"start,event=itimer,interval=1ms\"" >/dev/null
  if ((strace)); then
    strace -f -c -o "$work/strace.txt" -p "$jvm_pid" 2>/dev/null &
    strace_pid=$!
    sleep 1
  fi
  t0=$(date +%s.%N); c0=$(awk '{ print $14 + $15 }' "/proc/$jvm_pid/stat")
  bench "$per_client" >"$work/run.log" 2>&1 || { cat "$work/run.log" >&2; exit 1; }
  c1=$(awk '{ print $14 + $15 }' "/proc/$jvm_pid/stat"); t1=$(date +%s.%N)
  if ((strace)); then
    kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
    echo "-M $m system calls per transaction (strace -f -c, $tx tx; the JVM's background threads included):"
    awk -v n="$tx" '$1 ~ /^[0-9.]+$/ && NF >= 5 { c = $4; name = $NF; if (c / n >= 0.01) printf "  %-16s %6.2f\n", name, c / n }' "$work/strace.txt"
  fi
  [[ -n $profile ]] && jcmd "$jvm_pid" JVMTI.agent_load "${ASYNC_PROFILER_LIB:-/tmp/ap/linux-x64/libasyncProfiler.so}" \
    "\"stop,collapsed,file=$(readlink -f "$profile")-$m.collapsed\"" >/dev/null
  sleep 1.2
  jcmd "$jvm_pid" JFR.dump filename="$work/now.jfr" >/dev/null
  printf -- '-M %-8s %s tps, proxy CPU %s us/tx (indicative); ' "$m" "$(awk '/^tps = / { printf "%.0f", $3; exit }' "$work/run.log")" \
    "$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$tx" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')"
  "$root/bench/jfr-alloc.py" "$work/now.jfr" --from "$t0" --to "$t1" --requests "$tx" --sites "$sites" --depth "$depth" \
    | sed 's/per request/per transaction/'
done
