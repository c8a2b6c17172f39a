package io.mproxy.server.it.mysql;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.server.it.QosFlood;
import io.mproxy.testkit.MariaDbServer;
import java.util.List;

/**
 * The HIGH/LOW experiment of docs/qos.md against a real MariaDB through MySQL Connector/J
 * (mysql-connector-j): user {@code vip} (group {@code oltp}, HIGH) runs point selects one after
 * another while user {@code flood} (group {@code reports}, LOW) scans a 50k-row table from many
 * more clients than the pool's 2 backend connections. Phases as for PostgreSQL: HIGH alone, the
 * flood without QoS (HIGH queues in the pool's FIFO behind it), the flood with the priority gate
 * + CoDel, and the same with one of the gate's two slots reserved for HIGH. Wall-clock latencies:
 * only as quiet as the machine.
 *
 * <p>Run it: {@code ./mvnw -B -q -o -pl mproxy-server -am test-compile dependency:build-classpath
 * -Dmdep.outputFile=/tmp/cp.txt -Dmdep.includeScope=test} then {@code java -cp
 * "mproxy-server/target/test-classes:mproxy-server/target/classes:$(cat /tmp/cp.txt)"
 * io.mproxy.server.it.mysql.MysqlQosFlood [highQueries] [lowClients]}.
 */
public final class MysqlQosFlood implements AutoCloseable {

  /** Backend connections the proxy may use: the backend's "capacity" in this experiment. */
  static final int POOL = 2;
  /**
   * CoDel's target: above one scan's duration (a HIGH request waits for one scan without a
   * reserve). MariaDB's scan of 50k rows takes 50-200 ms on the busy build machine; with
   * {@code target_ms: 100} CoDel also shed HIGH heads (7 of 250 in one run).
   */
  static final String GATE = "codel: { target_ms: 500, interval_ms: 100, max_inflight: " + POOL
      + ", max_queued: 10000, max_wait_ms: 2000 }\n";
  static final String GATE_RESERVE = "codel: { target_ms: 500, interval_ms: 100, max_inflight: " + POOL
      + ", max_queued: 10000, max_wait_ms: 2000, reserve_high: 1 }\n";
  static final String SCAN = "SELECT count(*) FROM scan WHERE v LIKE '%ab%'";

  /** One phase's HIGH latencies (ms) and what happened to the LOW flood meanwhile. */
  record Phase(String name, double p50Ms, double p99Ms, int highErrors, long lowDone, long lowRefused) {
    String row() {
      return String.format("| %s | %.2f ms | %.2f ms | %d | %d | %d |", name, p50Ms, p99Ms, highErrors, lowDone,
          lowRefused);
    }
  }

  private final MariaDbServer db;

  private MysqlQosFlood(MariaDbServer db) {
    this.db = db;
  }

  /** Starts a MariaDB with a 50k-row table to scan and a 1k-row table to point-select. */
  static MysqlQosFlood start() {
    MariaDbServer db = MariaDbServer.start();
    try {
      db.sql("USE " + MariaDbServer.DATABASE + ";"
          + " CREATE TABLE point (id INT PRIMARY KEY, v VARCHAR(32));"
          + " INSERT INTO point SELECT seq, md5(seq) FROM seq_1_to_1000;"
          + " CREATE TABLE scan (id INT, v VARCHAR(32));"
          + " INSERT INTO scan SELECT seq, md5(seq) FROM seq_1_to_50000;"
          + " ANALYZE TABLE point, scan;");
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
    return new MysqlQosFlood(db);
  }

  /** A proxy with users {@code vip} (HIGH) and {@code flood} (LOW); {@code codel} is its top-level section or "". */
  ProxyFixture proxy(String codel) throws Exception {
    return new MysqlProxy(db).user("flood", "pw").user("vip", "pw")
        .pool("pool: { mode: transaction, min_idle: " + POOL + ", max_size: " + POOL + ", acquire_timeout_ms: 60000 }")
        .tail(codel
            + "resource_groups:\n"
            + "  default: { ru_per_sec: 1000000, burst: 2000000 }\n"
            + "  oltp: { ru_per_sec: 1000000, burst: 2000000, priority: high, on_exhausted: reject }\n"
            + "  reports: { ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }\n"
            + "tenants:\n"
            + "  - { match: { user: vip }, group: oltp }\n"
            + "  - { match: { user: flood }, group: reports }\n")
        .start();
  }

  /**
   * Runs {@code highQueries} point selects as HIGH while {@code lowClients} clients scan as LOW
   * (none when 0), and returns HIGH's p50/p99.
   */
  QosFlood.Phase phase(String name, ProxyFixture proxy, int highQueries, int lowClients) throws Exception {
    return QosFlood.run(name, () -> MysqlProxy.connect(url(proxy, "vip")),
        () -> MysqlProxy.connect(url(proxy, "flood")), "SELECT v FROM point WHERE id = ?", SCAN, POOL,
        highQueries, lowClients);
  }

  /** MySQL Connector/J; statements are sent as text (the connector's client-side prepare). */
  private static String url(ProxyFixture proxy, String user) {
    return "jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE + "?user=" + user
        + "&password=pw&sslMode=DISABLED&allowPublicKeyRetrieval=true";
  }

  @Override
  public void close() {
    db.close();
  }

  /** Prints the rows of docs/qos.md (HIGH alone first and again last). Args: HIGH queries per phase (500), LOW clients (8). */
  public static void main(String[] args) throws Exception {
    int high = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int low = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    try (MysqlQosFlood x = start(); ProxyFixture off = x.proxy(""); ProxyFixture gate = x.proxy(GATE);
        ProxyFixture reserve = x.proxy(GATE_RESERVE)) {
      List<QosFlood.Phase> rows = List.of(
          x.phase("HIGH alone", gate, high, 0),
          x.phase("HIGH + LOW flood, QoS off", off, high, low),
          x.phase("HIGH + LOW flood, QoS on (gate + CoDel)", gate, high, low),
          x.phase("HIGH + LOW flood, QoS on (gate + CoDel + reserve_high 1)", reserve, high, low),
          x.phase("HIGH alone, again at the end (warm JVMs and caches)", gate, high, 0));
      System.out.println("| run | HIGH p50 | HIGH p99 | HIGH errors | LOW scans done | LOW refused |");
      System.out.println("| --- | --- | --- | --- | --- | --- |");
      rows.forEach(r -> System.out.println(r.row()));
    }
  }
}
