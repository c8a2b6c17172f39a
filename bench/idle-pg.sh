#!/usr/bin/env bash
# Memory per idle, authenticated PostgreSQL client: mproxy against PgBouncer, same machine, same run.
#
#   bench/idle-pg.sh                 # 5,000 clients through each target
#   bench/idle-pg.sh -n 10000 --targets mproxy
#
# Starts its own PostgreSQL (Debian packages, private data directory, free loopback port, SCRAM),
# then for each target in turn (mproxy: bin/mproxy run of this checkout, transaction pooling over
# a pool of 20, SCRAM-SHA-256 client authentication terminated at the proxy; pgbouncer: the same
# pool and auth_type) a python3 client opens N connections one after another and logs each in
# (StartupMessage, SCRAM-SHA-256, until ReadyForQuery), so every client is an authenticated
# session, not a bare socket. With all N idle it reads the target's memory: for mproxy the Java
# heap in use after a forced GC (jcmd GC.heap_info) and the resident set (VmRSS), for PgBouncer
# its resident set; then it sends `SELECT 1` on every connection and counts the answers (all N
# must answer: the clients are live, and their queries are multiplexed over the pool of 20).
# Prints (after - before) / N per target. MPROXY_JAVA_OPTS adds JVM options (default -Xms512m
# -Xmx512m: the whole heap is committed and pre-touched at start, so the RSS difference is what
# the clients cost outside the heap, not the heap's own growth).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
clients=5000
targets=mproxy,pgbouncer
pool=20
while (($#)); do
  case $1 in
    -n) clients=${2:?}; shift 2 ;;
    --targets) targets=${2:?}; shift 2 ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "bench/idle-pg.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "bench/idle-pg.sh: $*" >&2; exit 1; }
[[ $clients =~ ^[0-9]+$ ]] && ((clients >= 1)) || die "-n: '$clients' (expected: a positive integer)"
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
  case $t in mproxy|pgbouncer) ;; *) die "unknown target '$t' (expected: mproxy, pgbouncer)" ;; esac
done
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[[ -n $pg_bin && -x $pg_bin/initdb ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
for cmd in psql curl java jcmd python3 setpriv; do
  command -v "$cmd" >/dev/null || die "$cmd is not installed"
done
if [[ ,$targets, == *,pgbouncer,* ]]; then
  command -v pgbouncer >/dev/null || die "pgbouncer is not installed (apt-get install -y pgbouncer), or use --targets mproxy"
fi
need_fds=$((clients + 200))
(($(ulimit -Hn) >= need_fds)) || die "the hard open-files limit $(ulimit -Hn) is below $need_fds"
ulimit -n "$need_fds"

as_postgres=()
[[ $(id -u) -eq 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-idle-pg.XXXXXX")"
chmod 755 "$work"
mkdir "$work/pg" "$work/pgbouncer"
[[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work/pg" "$work/pgbouncer"
started_pids=()
pg_started=0
cleanup() {
  local p
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${started_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ((pg_started)) && "${as_postgres[@]}" "$pg_bin/pg_ctl" stop -D "$work/pg/data" -m immediate -w >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
heap_kib() { jcmd "$1" GC.heap_info | awk 'match($0, /used [0-9]+K/) { print substr($0, RSTART + 5, RLENGTH - 6); exit }'; }
psql_at() { PGPASSWORD=secret PGCONNECT_TIMEOUT=5 psql -X -A -t -q -h 127.0.0.1 -p "$1" -U app -d app -c "$2"; }

pg_port=$(port)
"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
  >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; die "initdb failed"; }
cat >>"$work/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work/pg'
max_connections = $((pool * 2 + 20))
fsync = off
password_encryption = 'scram-sha-256'
CONF
printf 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/pg/data/pg_hba.conf"
"${as_postgres[@]}" "$pg_bin/pg_ctl" start -D "$work/pg/data" -w -t 60 -l "$work/pg/postgres.log" >/dev/null \
  || { tail -n 30 "$work/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
pg_started=1
psql -X -q -h "$work/pg" -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE app LOGIN PASSWORD 'secret'" -c "CREATE DATABASE app OWNER app" >/dev/null

# clients PORT N: opens and logs in N connections, reports to fd 3 when all are idle, waits for a
# line on stdin, then runs SELECT 1 on each and prints how many answered.
cat >"$work/clients.py" <<'PY'
import base64, hashlib, hmac, os, socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
user, password = b"app", b"secret"
salted_cache = {}

def message(kind, body):
    return kind + struct.pack("!i", len(body) + 4) + body

def read_message(s):
    head = recv_exact(s, 5)
    return head[:1], recv_exact(s, struct.unpack("!i", head[1:])[0] - 4)

def recv_exact(s, size):
    buf = bytearray()
    while len(buf) < size:
        chunk = s.recv(size - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), size))
        buf += chunk
    return bytes(buf)

def expect_auth(s, code):
    kind, body = read_message(s)
    if kind == b"E":
        raise RuntimeError("server error: %r" % body)
    got = struct.unpack("!i", body[:4])[0]
    if kind != b"R" or got != code:
        raise RuntimeError("expected authentication %d, got %r %d" % (code, kind, got))
    return body[4:]

def login():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    params = b"user\0" + user + b"\0database\0app\0\0"
    s.sendall(struct.pack("!ii", len(params) + 8, 196608) + params)
    if b"SCRAM-SHA-256" not in expect_auth(s, 10):
        raise RuntimeError("SCRAM-SHA-256 not offered")
    nonce = base64.b64encode(os.urandom(18))
    first_bare = b"n=,r=" + nonce
    first = b"n,," + first_bare
    s.sendall(message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
    server_first = expect_auth(s, 11)
    attrs = dict(kv.split(b"=", 1) for kv in server_first.split(b","))
    salt, iterations = base64.b64decode(attrs[b"s"]), int(attrs[b"i"])
    key = (salt, iterations)
    if key not in salted_cache:
        salted_cache[key] = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    salted = salted_cache[key]
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    final_bare = b"c=biws,r=" + attrs[b"r"]
    auth_message = first_bare + b"," + server_first + b"," + final_bare
    signature = hmac.new(stored, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    s.sendall(message(b"p", final_bare + b",p=" + base64.b64encode(proof)))
    expect_auth(s, 12)
    expect_auth(s, 0)
    while True:
        kind, body = read_message(s)
        if kind == b"E":
            raise RuntimeError("server error: %r" % body)
        if kind == b"Z":
            return s

socks = [login() for _ in range(n)]
report = os.fdopen(3, "w")
report.write("idle %d\n" % len(socks))
report.flush()
sys.stdin.readline()
for s in socks:
    s.sendall(message(b"Q", b"SELECT 1\0"))
answered = 0
for s in socks:
    value = None
    while True:
        kind, body = read_message(s)
        if kind == b"D":
            value = body[6:]
        if kind == b"Z":
            break
    answered += value == b"1"
report.write("answered %d\n" % answered)
report.flush()
PY

start_mproxy() {
  local admin; admin=$(port); target_port=$(port)
  cat >"$work/mproxy.yaml" <<YAML
server: { shutdown_grace_ms: 1000, watch_config: false }
admin: { bind: 127.0.0.1:$admin }
listeners:
  - name: pg
    protocol: postgres
    bind: 127.0.0.1:$target_port
    cluster: c
    max_client_connections: $((clients + 100))
    auth: { mode: terminate, users: [ { name: app, password: secret } ] }
    auth_method: scram-sha-256
clusters:
  c:
    protocol: postgres
    credentials: { user: app, password: secret }
    backends: [ { address: 127.0.0.1:$pg_port, role: primary } ]
    pool: { mode: transaction, min_idle: $pool, max_size: $pool }
resource_groups:
  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }
YAML
  "$root/bin/mproxy" version >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "bin/mproxy could not be built"; }
  MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:--Xms512m -Xmx512m}" "$root/bin/mproxy" run --config "$work/mproxy.yaml" >"$work/mproxy.log" 2>&1 &
  started_pids+=($!)
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$admin/healthz" && break; sleep 0.2; done
  [[ "$(psql_at "$target_port" "SELECT 1")" == 1 ]] || { tail -n 30 "$work/mproxy.log" >&2; die "mproxy does not answer"; }
  target_pid="$(pgrep -f -n -- "--config $work/mproxy.yaml")"
}

start_pgbouncer() {
  local dir="$work/pgbouncer"; target_port=$(port)
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$pg_port dbname=app user=app password=secret
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $target_port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = $pool
min_pool_size = $pool
max_client_conn = $((clients + 100))
logfile = $dir/pgbouncer.log
log_connections = 0
log_disconnections = 0
INI
  echo '"app" "secret"' >"$dir/userlist.txt"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir/pgbouncer.ini" "$dir/userlist.txt"
  "${as_postgres[@]}" pgbouncer "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
  started_pids+=($!)
  target_pid=$!
  for _ in $(seq 150); do [[ "$(psql_at "$target_port" "SELECT 1" 2>/dev/null)" == 1 ]] && break; sleep 0.2; done
  [[ "$(psql_at "$target_port" "SELECT 1")" == 1 ]] || { tail -n 20 "$dir/pgbouncer.log" >&2; die "pgbouncer does not answer"; }
}

echo "machine: $(nproc) cores; $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| target | clients logged in | answered SELECT 1 | RSS KiB per client | heap KiB per client | seconds to log in |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for t in "${target_list[@]}"; do
  "start_$t"
  sleep 2
  is_java=0; [[ $t == mproxy ]] && is_java=1
  ((is_java)) && { jcmd "$target_pid" GC.run >/dev/null; sleep 1; heap0=$(heap_kib "$target_pid"); }
  rss0=$(rss_kib "$target_pid")
  rm -f "$work/report"; mkfifo "$work/go.fifo"   # the clients wait on it after logging in
  start=$SECONDS
  python3 "$work/clients.py" "$target_port" "$clients" <"$work/go.fifo" 3>"$work/report" 2>"$work/clients.err" &
  clients_pid=$!
  exec 5>"$work/go.fifo"
  until grep -q '^idle' "$work/report" 2>/dev/null; do
    kill -0 "$clients_pid" 2>/dev/null || { cat "$work/clients.err" >&2; die "$t: the clients failed while logging in"; }
    sleep 0.5
  done
  secs=$((SECONDS - start))
  sleep 2
  ((is_java)) && { jcmd "$target_pid" GC.run >/dev/null; sleep 1; heap1=$(heap_kib "$target_pid"); }
  rss1=$(rss_kib "$target_pid")
  echo go >&5; exec 5>&-
  wait "$clients_pid" || { cat "$work/clients.err" >&2; die "$t: the clients failed after logging in"; }
  rm -f "$work/go.fifo"
  idle=$(awk '$1=="idle" {print $2}' "$work/report")
  answered=$(awk '$1=="answered" {print $2}' "$work/report")
  heap="-"; ((is_java)) && heap=$(awk -v a="$heap0" -v b="$heap1" -v n="$clients" 'BEGIN { printf "%.2f", (b - a) / n }')
  rss=$(awk -v a="$rss0" -v b="$rss1" -v n="$clients" 'BEGIN { printf "%.2f", (b - a) / n }')
  echo "| $t | $idle | $answered | $rss | $heap | $secs |"
  kill "$target_pid" 2>/dev/null || true
  wait "$target_pid" 2>/dev/null || true
  ((answered == clients)) || die "$t: only $answered of $clients clients answered SELECT 1"
done
