#!/usr/bin/env bash
# Memory per idle, logged-in client: mproxy against its peer, same machine, same run.
#
#   bench/idle.sh                                   # PostgreSQL: 5,000 clients through mproxy and PgBouncer
#   bench/idle.sh --protocol mysql -n 5000          # MySQL (MariaDB) through mproxy
#   bench/idle.sh --protocol redis -n 10000         # Redis through mproxy and nutcracker
#   bench/idle.sh --protocol mongodb                # MongoDB (mongo-java-server) through mproxy
#   bench/idle.sh --protocol cassandra -n 2000      # Cassandra (the testkit's node) through mproxy
#   bench/idle.sh -n 10000 --targets mproxy
#
# Starts its own server (Debian packages, private data directory, free loopback port):
# PostgreSQL with SCRAM, MariaDB, redis-server, mongo-java-server in its own JVM (bench/mongo.sh's
# MongoLoad serve, built from mproxy-server's test classes), or a Cassandra 5 node (the testkit's,
# through mproxy-server's test class CqlServe; 20-90 s and ~1 GB). Then for each target in turn (mproxy: bin/mproxy
# run of this checkout; postgres and mysql in transaction pooling over a pool of 20 with client
# authentication terminated at the proxy, SCRAM-SHA-256 and mysql_native_password, and Cassandra
# multiplexed over 4 connections with PLAIN terminated at the proxy; the peers:
# PgBouncer with the same pool and auth_type, nutcracker with one server connection) the python3
# clients of bench/idle-clients.py open N connections one after another and log each in (until
# ReadyForQuery, the login's OK, PING's PONG, isMaster's ok: 1, or AUTH_SUCCESS), so every client is a live session, not a bare
# socket. With all N idle it reads the target's memory: for mproxy the Java heap in use after a
# forced GC (jcmd GC.heap_info) and the resident set (VmRSS), for a peer its resident set; then
# every connection sends one request (SELECT 1, INCR, a find, or a system.local query) and the answers are counted (all N must
# answer: the sessions are live and, for the pooled protocols, multiplexed over the pool of 20).
# Prints (after - before) / N per target. MPROXY_JAVA_OPTS adds JVM options (default -Xms512m
# -Xmx512m: the whole heap is committed and pre-touched at start, so the RSS difference is what
# the clients cost outside the heap, not the heap's own growth).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
protocol=postgres
clients=5000
targets=
pool=20
while (($#)); do
  case $1 in
    --protocol) protocol=${2:?}; shift 2 ;;
    -n) clients=${2:?}; shift 2 ;;
    --targets) targets=${2:?}; shift 2 ;;
    -h|--help) sed -n 2,27p "$0"; exit 0 ;;
    *) echo "bench/idle.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
die() { echo "bench/idle.sh: $*" >&2; exit 1; }
[[ $clients =~ ^[0-9]+$ ]] && ((clients >= 1)) || die "-n: '$clients' (expected: a positive integer)"
case $protocol in
  postgres) peer=pgbouncer; server_tools=(psql setpriv) ;;
  mysql) peer=; server_tools=(mariadbd mariadb-install-db mariadb) ;;
  redis) peer=nutcracker; server_tools=(redis-server redis-cli) ;;
  mongodb|cassandra) peer=; server_tools=() ;;
  *) die "--protocol: '$protocol' (expected: postgres, mysql, redis, mongodb, cassandra)" ;;
esac
targets=${targets:-mproxy${peer:+,$peer}}
IFS=, read -r -a target_list <<<"$targets"
for t in "${target_list[@]}"; do
  [[ $t == mproxy || ( -n $peer && $t == "$peer" ) ]] || die "unknown target '$t' for $protocol (expected: mproxy${peer:+, $peer})"
done
for cmd in curl java jcmd python3 "${server_tools[@]}"; do
  command -v "$cmd" >/dev/null || [[ -x /usr/sbin/$cmd ]] || die "$cmd is not installed"
done
if [[ -n $peer && ,$targets, == *,$peer,* ]]; then
  command -v "$peer" >/dev/null || [[ -x /usr/sbin/$peer ]] || die "$peer is not installed (apt-get install -y $peer), or use --targets mproxy"
fi
need_fds=$((clients + 200))
(($(ulimit -Hn) >= need_fds)) || die "the hard open-files limit $(ulimit -Hn) is below $need_fds"
ulimit -n "$need_fds"

work="$(mktemp -d "${TMPDIR:-/tmp}/mproxy-idle.XXXXXX")"
chmod 755 "$work"
started_pids=()
stop_server=:
cleanup() {
  local p
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${started_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  $stop_server >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
heap_kib() { jcmd "$1" GC.heap_info | awk 'match($0, /used [0-9]+K/) { print substr($0, RSTART + 5, RLENGTH - 6); exit }'; }
# answers PORT: whether one client of the protocol logs in and is answered there
answers() {
  rm -f "$work/probe.report"
  echo | python3 "$root/bench/idle-clients.py" "$protocol" "$1" 1 3>"$work/probe.report" 2>/dev/null \
    && grep -q '^answered 1$' "$work/probe.report"
}
wait_answers() {   # wait_answers PORT SECONDS
  local deadline=$((SECONDS + $2))
  until answers "$1"; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}

# ---------------------------------------------------------------------------- the server

server_port=$(port)
as_postgres=()
[[ $(id -u) -eq 0 ]] && as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
start_server_postgres() {
  local pg_bin
  pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n $pg_bin && -x $pg_bin/initdb ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install -y postgresql)"
  mkdir "$work/pg" "$work/pgbouncer"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$work/pg" "$work/pgbouncer"
  "${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$work/pg/initdb.log" 2>&1 || { cat "$work/pg/initdb.log" >&2; die "initdb failed"; }
  cat >>"$work/pg/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $server_port
unix_socket_directories = '$work/pg'
max_connections = $((pool * 2 + 20))
fsync = off
password_encryption = 'scram-sha-256'
CONF
  printf 'local all postgres trust\nhost all all 127.0.0.1/32 scram-sha-256\n' >"$work/pg/data/pg_hba.conf"
  "${as_postgres[@]}" "$pg_bin/pg_ctl" start -D "$work/pg/data" -w -t 60 -l "$work/pg/postgres.log" >/dev/null \
    || { tail -n 30 "$work/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
  stop_server="${as_postgres[*]} $pg_bin/pg_ctl stop -D $work/pg/data -m immediate -w"
  psql -X -q -h "$work/pg" -p "$server_port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE app LOGIN PASSWORD 'secret'" -c "CREATE DATABASE app OWNER app" >/dev/null
}
start_server_mysql() {
  local user_opt=()
  mkdir -p "$work/db"
  if [[ $(id -u) == 0 ]]; then
    chown -R mysql:mysql "$work/db"
    user_opt=(--user=mysql)
  fi
  mariadb-install-db --no-defaults "${user_opt[@]}" --datadir="$work/db/data" \
    --auth-root-authentication-method=socket --skip-test-db >"$work/install.log" 2>&1 \
    || { tail -n 20 "$work/install.log" >&2; die "mariadb-install-db failed"; }
  mariadbd --no-defaults "${user_opt[@]}" --datadir="$work/db/data" --port="$server_port" \
    --socket="$work/db/mariadb.sock" --bind-address=127.0.0.1 --skip-name-resolve \
    --log-error="$work/db/error.log" --pid-file="$work/db/mariadb.pid" --max-connections=$((pool * 2 + 20)) \
    --performance-schema=OFF >"$work/db/stdout.log" 2>&1 &
  started_pids+=("$!")
  local deadline=$((SECONDS + 60))
  until mariadb --no-defaults -S "$work/db/mariadb.sock" -uroot -e "SELECT 1" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { tail -n 20 "$work/db/error.log" >&2; die "mariadbd did not start"; }
    sleep 0.5
  done
  mariadb --no-defaults -S "$work/db/mariadb.sock" -uroot -e "
    DELETE FROM mysql.global_priv WHERE User='';
    CREATE USER bench@'%' IDENTIFIED BY 'bench'; GRANT ALL ON *.* TO bench@'%';
    CREATE DATABASE sbtest; FLUSH PRIVILEGES;"
}
start_server_redis() {
  redis-server --port "$server_port" --bind 127.0.0.1 --save '' --appendonly no --maxclients 1000 \
    --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work" \
    || die "redis-server did not start"
  stop_server="redis-cli -p $server_port shutdown nosave"
  wait_answers "$server_port" 10 || die "redis-server does not answer on $server_port"
}
start_server_mongodb() {
  echo "bench/idle.sh: building mongo-java-server's launcher (test classes of mproxy-server) ..." >&2
  (cd "$root" && ./mvnw -q -B -pl mproxy-server -am test-compile dependency:build-classpath \
      -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >"$work/mongo-build.log" 2>&1) \
    || { tail -n 30 "$work/mongo-build.log" >&2; die "the build failed"; }
  java -Xmx1g -cp "$root/mproxy-server/target/test-classes:$root/mproxy-server/target/classes:$(cat "$work/cp.txt")" \
    io.mproxy.server.it.mongo.bench.MongoLoad serve "$server_port" 10 >"$work/mongo.log" 2>&1 &
  started_pids+=("$!")
  wait_answers "$server_port" 60 || { tail -n 20 "$work/mongo.log" >&2; die "mongo-java-server does not answer"; }
}
start_server_cassandra() {
  echo "bench/idle.sh: building the Cassandra launcher (test classes of mproxy-server) ..." >&2
  (cd "$root" && ./mvnw -q -B -pl mproxy-server -am test-compile dependency:build-classpath \
      -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >"$work/cassandra-build.log" 2>&1) \
    || { tail -n 30 "$work/cassandra-build.log" >&2; die "the build failed"; }
  (cd "$root" && exec java -Xmx256m -cp "$root/mproxy-server/target/test-classes:$root/mproxy-server/target/classes:$(cat "$work/cp.txt")" \
    io.mproxy.server.it.cassandra.CqlServe >"$work/cassandra.log" 2>&1) &
  started_pids+=("$!")
  local deadline=$((SECONDS + 300))
  until grep -q '^ready ' "$work/cassandra.log" 2>/dev/null; do
    ((SECONDS < deadline)) && kill -0 "${started_pids[-1]}" 2>/dev/null \
      || { tail -n 30 "$work/cassandra.log" >&2; die "the Cassandra node did not start"; }
    sleep 1
  done
  server_port=$(sed -n 's/^ready .*:\([0-9]*\)$/\1/p' "$work/cassandra.log")
}

# ---------------------------------------------------------------------------- the targets

mproxy_yaml() {   # mproxy_yaml PORT ADMIN: the protocol's listener and cluster
  echo "server: { shutdown_grace_ms: 1000, watch_config: false }"
  echo "admin: { bind: 127.0.0.1:$2 }"
  case $protocol in
    postgres) cat <<YAML
listeners:
  - { name: pg, protocol: postgres, bind: 127.0.0.1:$1, cluster: c, max_client_connections: $((clients + 100)),
      auth: { mode: terminate, users: [ { name: app, password: secret } ] }, auth_method: scram-sha-256 }
clusters:
  c:
    protocol: postgres
    credentials: { user: app, password: secret }
    backends: [ { address: 127.0.0.1:$server_port, role: primary } ]
    pool: { mode: transaction, min_idle: $pool, max_size: $pool }
YAML
    ;;
    mysql) cat <<YAML
listeners:
  - { name: mysql, protocol: mysql, bind: 127.0.0.1:$1, cluster: c, max_client_connections: $((clients + 100)),
      auth: { mode: terminate, users: [ { name: bench, password: bench } ] } }
clusters:
  c:
    protocol: mysql
    credentials: { user: bench, password: bench }
    database: sbtest
    backends: [ { address: 127.0.0.1:$server_port, role: primary } ]
    pool: { mode: transaction, min_idle: $pool, max_size: $pool }
YAML
    ;;
    redis) cat <<YAML
listeners:
  - { name: redis, protocol: redis, bind: 127.0.0.1:$1, cluster: c, max_client_connections: $((clients + 100)) }
clusters:
  c:
    protocol: redis
    backends: [ { address: 127.0.0.1:$server_port, role: primary } ]
    pool: { min_idle: 4, max_size: 8 }
YAML
    ;;
    mongodb) cat <<YAML
listeners:
  - { name: mongo, protocol: mongodb, bind: 127.0.0.1:$1, cluster: c, max_client_connections: $((clients + 100)) }
clusters:
  c:
    protocol: mongodb
    backends: [ { address: 127.0.0.1:$server_port, role: primary } ]
    pool: { min_idle: $pool, max_size: $pool }
YAML
    ;;
    cassandra) cat <<YAML
listeners:
  - { name: cql, protocol: cassandra, bind: 127.0.0.1:$1, cluster: c, max_client_connections: $((clients + 100)),
      auth: { mode: terminate, users: [ { name: app, password: app-secret } ] } }
clusters:
  c:
    protocol: cassandra
    credentials: { user: cassandra, password: cassandra }
    backends: [ { address: 127.0.0.1:$server_port, role: primary } ]
    pool: { mode: multiplex, min_idle: 1, max_size: 4, acquire_timeout_ms: 20000 }
YAML
    ;;
  esac
  echo "resource_groups:"
  echo "  default: { ru_per_sec: 1000000000, burst: 1000000000, priority: normal, on_exhausted: reject }"
}

start_mproxy() {
  local admin; admin=$(port); target_port=$(port)
  mproxy_yaml "$target_port" "$admin" >"$work/mproxy.yaml"
  "$root/bin/mproxy" version >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "bin/mproxy could not be built"; }
  "$root/bin/mproxy" check --config "$work/mproxy.yaml" >"$work/check.log" 2>&1 \
    || { cat "$work/check.log" >&2; die "bin/mproxy check rejected the generated config"; }
  MPROXY_JAVA_OPTS="${MPROXY_JAVA_OPTS:--Xms512m -Xmx512m}" "$root/bin/mproxy" run --config "$work/mproxy.yaml" >"$work/mproxy.log" 2>&1 &
  started_pids+=($!)
  for _ in $(seq 300); do curl -sf -o /dev/null "http://127.0.0.1:$admin/healthz" && break; sleep 0.2; done
  wait_answers "$target_port" 30 || { tail -n 30 "$work/mproxy.log" >&2; python3 "$root/bench/idle-clients.py" "$protocol" "$target_port" 1 3>/dev/null </dev/null || true; die "mproxy does not answer"; }
  target_pid="$(pgrep -f -n -- "--config $work/mproxy.yaml")"
}

start_pgbouncer() {
  local dir="$work/pgbouncer"; target_port=$(port)
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$server_port dbname=app user=app password=secret
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
  wait_answers "$target_port" 30 || { tail -n 20 "$dir/pgbouncer.log" >&2; die "pgbouncer does not answer"; }
}

start_nutcracker() {
  local stats; stats=$(port); target_port=$(port)
  cat >"$work/nutcracker.yml" <<YAML
idle:
  listen: 127.0.0.1:$target_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  timeout: 5000
  server_connections: 1
  servers:
    - 127.0.0.1:$server_port:1
YAML
  nutcracker -c "$work/nutcracker.yml" -a 127.0.0.1 -s "$stats" -o "$work/nutcracker.log" &
  started_pids+=($!)
  target_pid=$!
  wait_answers "$target_port" 10 || { tail -n 20 "$work/nutcracker.log" >&2; die "nutcracker does not answer"; }
}

"start_server_$protocol"
echo "machine: $(nproc) cores; $(java -version 2>&1 | head -1); load $(cut -d' ' -f1-3 /proc/loadavg); protocol $protocol"
echo "| target | clients logged in | answered | RSS KiB per client | heap KiB per client | seconds to log in |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for t in "${target_list[@]}"; do
  "start_$t"
  sleep 2
  is_java=0; [[ $t == mproxy ]] && is_java=1
  ((is_java)) && { jcmd "$target_pid" GC.run >/dev/null; sleep 1; heap0=$(heap_kib "$target_pid"); }
  rss0=$(rss_kib "$target_pid")
  rm -f "$work/report"; mkfifo "$work/go.fifo"   # the clients wait on it after logging in
  start=$SECONDS
  python3 "$root/bench/idle-clients.py" "$protocol" "$target_port" "$clients" <"$work/go.fifo" 3>"$work/report" 2>"$work/clients.err" &
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
  ((answered == clients)) || die "$t: only $answered of $clients clients answered"
done
