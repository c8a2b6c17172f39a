package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runaway-query rules against a real PostgreSQL through pgjdbc. The rules name fingerprints the
 * way an operator would: read from {@code /api/fingerprints} (its id, or its text) after the
 * shapes ran once, then hot-reloaded into the config. A {@code cancel} rule stops a
 * {@code pg_sleep} running past its threshold with PostgreSQL's own 57014 while the same shape
 * under the threshold and other clients run on; a {@code reject} rule refuses its shape with the
 * {@code mproxy:} message; a {@code watch} rule only counts.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PgRunawayRulesTest {

  private static final String SLEEP_SHORT = "SELECT pg_sleep(0.01)";
  private static final String SCAN = "SELECT count(*) FROM pg_class";
  private static final String SERIES = "SELECT count(*) FROM generate_series(1, 300000)";

  private static PostgresServer pg;
  private static ProxyFixture proxy;
  private static ExecutorService threads;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    String base = PgConfigText.forBackend(pg.address()).withPool("transaction", 1, 5).render()
        .replace("shutdown_grace_ms: 5000 }", "shutdown_grace_ms: 5000, ru_tick_ms: 50 }");
    proxy = ProxyFixture.startYaml(base, PgConfigText.LISTENER);
    threads = Executors.newCachedThreadPool();
    try (Connection c = PgClients.app(proxy.port())) {
      PgClients.queryOne(c, SLEEP_SHORT);
      PgClients.queryOne(c, SCAN);
      PgClients.queryOne(c, SERIES);
    }
    JsonNode sleep = fingerprint("pg_sleep");
    JsonNode scan = fingerprint("pg_class");
    JsonNode series = fingerprint("generate_series");
    String rules = "runaway:\n  rules:\n"
        + "    - { name: sleepy, match: { fingerprint: " + yaml(sleep.path("id").asText())
        + " }, elapsed_ms_above: 500, action: cancel }\n"
        + "    - { name: no-scans, match: { fingerprint: " + yaml(scan.path("fingerprint").asText())
        + " }, action: reject }\n"
        + "    - { name: series-watch, match: { fingerprint: " + yaml(series.path("id").asText())
        + " }, elapsed_ms_above: 1, action: watch, cooldown_ms: 1000 }\n";
    long generation = proxy.status().path("generation").asLong();
    proxy.rewriteConfig(base + rules);
    ProxyFixture.Http reload = proxy.post("/api/reload");
    assertEquals(200, reload.status(), reload.body());
    assertTrue(proxy.status().path("generation").asLong() > generation);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (threads != null) {
      threads.shutdownNow();
      threads.awaitTermination(30, TimeUnit.SECONDS);
    }
    try (PostgresServer p = pg; ProxyFixture f = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void aCancelRuleStopsTheRunawayQueryWith57014AndNothingElse() throws Exception {
    try (Connection runaway = PgClients.app(proxy.port());
        Connection shortOne = PgClients.app(proxy.port());
        Connection other = PgClients.app(proxy.port())) {
      long started = System.nanoTime();
      Future<?> sleeping = threads.submit(() -> execute(runaway, "SELECT pg_sleep(30)"));
      Future<?> underThreshold = threads.submit(() -> execute(shortOne, "SELECT pg_sleep(0.1)"));
      for (int i = 0; i < 20; i++) {
        assertEquals(Integer.toString(i), PgClients.queryOne(other, "SELECT " + i));
      }
      ExecutionException failed = assertThrows(ExecutionException.class, () -> sleeping.get(20, TimeUnit.SECONDS),
          "cancelled within 20 s, not after its 30 s sleep");
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      SQLException sql = assertInstanceOf(SQLException.class, failed.getCause());
      assertEquals("57014", sql.getSQLState(), sql.getMessage());
      assertTrue(sql.getMessage().contains("canceling statement due to user request"), sql.getMessage());
      assertTrue(tookMs < 25_000, "ended after " + tookMs + " ms");
      underThreshold.get(20, TimeUnit.SECONDS);
      assertEquals("after", PgClients.queryOne(runaway, "SELECT 'after'"), "the cancelled client's connection works");
      assertEquals(0, activeCount("SELECT pg_sleep(30)"), "nothing left running on the server");
      Eventually.assertWithin(Duration.ofSeconds(5), () -> assertTrue(
          proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "sleepy", "action", "cancel", "mode",
              "enforce") >= 1));
    }
  }

  @Test
  void aRejectRuleRefusesItsShapeWithTheMproxyMessage() throws Exception {
    try (Connection c = PgClients.app(proxy.port())) {
      double shedBefore = proxy.metrics().sum("mproxy_shed_total", "reason", "runaway");
      SQLException e = assertThrows(SQLException.class, () -> PgClients.queryOne(c, "SELECT count(*) FROM pg_class"));
      assertEquals("53000", e.getSQLState(), e.getMessage());
      assertTrue(e.getMessage().contains("mproxy: rejected group=default reason=runaway"), e.getMessage());
      assertTrue(e.getMessage().contains("runaway rule no-scans"), e.getMessage());
      assertEquals("1", PgClients.queryOne(c, "SELECT count(*) FROM pg_database WHERE datname = 'postgres'"),
          "other shapes still run on the same connection");
      assertTrue(proxy.metrics().sum("mproxy_shed_total", "reason", "runaway") >= shedBefore + 1);
      assertTrue(proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "no-scans", "action", "reject") >= 1);
    }
  }

  @Test
  void aWatchRuleOnlyCounts() throws Exception {
    try (Connection c = PgClients.app(proxy.port())) {
      for (int i = 0; i < 3; i++) {
        assertEquals("300000", PgClients.queryOne(c, SERIES));
      }
      assertTrue(proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "series-watch", "action", "watch",
          "mode", "enforce") >= 1, proxy.metrics().text());
    }
  }

  /** The /api/fingerprints entry whose text contains {@code part}. */
  private static JsonNode fingerprint(String part) {
    JsonNode all = proxy.get("/api/fingerprints?top=100").json();
    for (JsonNode f : all) {
      if (f.path("fingerprint").asText().contains(part)) {
        assertEquals(16, f.path("id").asText().length(), f.toString());
        return f;
      }
    }
    throw new AssertionError("no fingerprint contains " + part + ": " + all);
  }

  private static String yaml(String text) {
    assertNotNull(text);
    return "'" + text.replace("'", "''") + "'";
  }

  private static Void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
    }
    return null;
  }

  private static int activeCount(String query) {
    return Integer.parseInt(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
        + " AND query = '" + query.replace("'", "''") + "'"));
  }
}
