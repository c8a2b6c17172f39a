package io.mproxy.server.it.postgres;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.server.it.QosFlood;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The HIGH/LOW experiment of docs/qos.md against a real PostgreSQL: a HIGH tenant runs point
 * selects one after another while a LOW tenant floods the same proxy with sequential scans from
 * many more clients than the pool has backend connections. Three phases: HIGH alone; HIGH with
 * the flood and no QoS (no priority gate: HIGH queues behind the flood in the pool's FIFO); HIGH
 * with the flood and QoS on (priority gate + CoDel, {@code max_inflight} = the pool's size).
 * The numbers are wall-clock latencies seen by pgjdbc, so they are only as quiet as the machine.
 *
 * <p>Run it: {@code ./mvnw -B -q -pl mproxy-server -am test-compile} then
 * {@code java -cp "$(cat mproxy-server/target/test-classpath.txt)" io.mproxy.server.it.postgres.PgQosFlood [highQueries] [lowClients]}
 * (see docs/qos.md for the exact classpath command).
 */
public final class PgQosFlood implements AutoCloseable {

  /** Backend connections the proxy may use: the backend's "capacity" in this experiment. */
  static final int POOL = 2;
  static final String QOS_ON = "codel: { target_ms: 100, interval_ms: 100, max_inflight: " + POOL
      + ", max_queued: 10000, max_wait_ms: 2000 }\n";
  /** The same gate with one of its two slots reserved for HIGH ({@code codel.reserve_high}). */
  static final String QOS_RESERVE = "codel: { target_ms: 100, interval_ms: 100, max_inflight: " + POOL
      + ", max_queued: 10000, max_wait_ms: 2000, reserve_high: 1 }\n";

  /** One phase's HIGH latencies (ms) and what happened to the LOW flood meanwhile. */
  record Phase(String name, double p50Ms, double p99Ms, int highErrors, long lowDone, long lowRefused) {
    String row() {
      return String.format("| %s | %.2f ms | %.2f ms | %d | %d | %d |", name, p50Ms, p99Ms, highErrors, lowDone,
          lowRefused);
    }
  }

  private final PostgresServer pg;

  private PgQosFlood(PostgresServer pg) {
    this.pg = pg;
  }

  /** Starts a PostgreSQL with a 50k-row table to scan and a 1k-row table to point-select. */
  static PgQosFlood start() {
    PostgresServer pg = PostgresServer.start();
    pg.psql("app", "SET ROLE app;"
        + " CREATE TABLE point (id int PRIMARY KEY, v text);"
        + " INSERT INTO point SELECT g, md5(g::text) FROM generate_series(1, 1000) g;"
        + " CREATE TABLE scan (id int, v text);"
        + " INSERT INTO scan SELECT g, md5(g::text) FROM generate_series(1, 50000) g;"
        + " ANALYZE point; ANALYZE scan;");
    return new PgQosFlood(pg);
  }

  /** A proxy with a HIGH tenant ({@code application: high}) and a LOW one ({@code application: low}). */
  ProxyFixture proxy(boolean qos) throws Exception {
    return proxy(qos ? QOS_ON : "");
  }

  /** The same proxy with {@code codel} as its top-level {@code codel:} section ("" for none). */
  ProxyFixture proxy(String codel) throws Exception {
    String yaml = PgConfigText.forBackend(pg.address())
        .withPool("transaction", POOL, POOL, "acquire_timeout_ms: 60000")
        .withListener("query_wait_timeout_ms: 60000")
        .withGroup("oltp", "{ ru_per_sec: 1000000, burst: 2000000, priority: high, on_exhausted: reject }")
        .withGroup("reports", "{ ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }")
        .withTenant("{ match: { application: high }, group: oltp }")
        .withTenant("{ match: { application: low }, group: reports }")
        .render() + codel;
    return ProxyFixture.startYaml(yaml, PgConfigText.LISTENER);
  }

  /**
   * Runs {@code highQueries} point selects as HIGH while {@code lowClients} clients scan as LOW
   * (none when 0), and returns HIGH's p50/p99.
   */
  QosFlood.Phase phase(String name, ProxyFixture proxy, int highQueries, int lowClients) throws Exception {
    return QosFlood.run(name, () -> connect(proxy, "high"), () -> connect(proxy, "low"),
        "SELECT v FROM point WHERE id = ?", "SELECT count(*) FROM scan WHERE v LIKE '%ab%'", POOL, highQueries,
        lowClients);
  }

  private static Connection connect(ProxyFixture proxy, String application) throws SQLException {
    return PgClients.connect(proxy.port(), PostgresServer.APP_USER, PostgresServer.APP_PASSWORD,
        Map.of("ApplicationName", application));
  }

  @Override
  public void close() {
    pg.close();
  }

  /** Prints the rows of docs/qos.md (HIGH alone first and again last). Args: HIGH queries per phase (500), LOW clients (8). */
  public static void main(String[] args) throws Exception {
    int high = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int low = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    try (PgQosFlood x = start(); ProxyFixture off = x.proxy(false); ProxyFixture on = x.proxy(true);
        ProxyFixture reserve = x.proxy(QOS_RESERVE)) {
      List<QosFlood.Phase> rows = List.of(
          x.phase("HIGH alone", on, high, 0),
          x.phase("HIGH + LOW flood, QoS off", off, high, low),
          x.phase("HIGH + LOW flood, QoS on (gate + CoDel)", on, high, low),
          x.phase("HIGH + LOW flood, QoS on (gate + CoDel + reserve_high 1)", reserve, high, low),
          x.phase("HIGH alone, again at the end (warm JVMs and caches)", on, high, 0));
      System.out.println("| run | HIGH p50 | HIGH p99 | HIGH errors | LOW scans done | LOW refused |");
      System.out.println("| --- | --- | --- | --- | --- | --- |");
      rows.forEach(r -> System.out.println(r.row()));
    }
  }
}
