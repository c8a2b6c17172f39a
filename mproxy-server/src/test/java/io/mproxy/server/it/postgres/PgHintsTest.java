package io.mproxy.server.it.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Magic-comment hints through pgjdbc against a real PostgreSQL: a tenant with {@code allow_hints}
 * gets its {@code timeout_ms} (the backend query is cancelled and the client sees 57014 with an
 * {@code mproxy:} message) and its {@code group}; a tenant without it has the same comments
 * ignored, and both outcomes are counted in {@code mproxy_hints_total}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PgHintsTest {

  private static PostgresServer pg;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    pg = PostgresServer.start();
    proxy = ProxyFixture.startYaml(PgConfigText.forBackend(pg.address())
        .withGroup("batch", "{ ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }")
        .withTenant("{ match: { application: hinted }, group: default, allow_hints: true }")
        .withTenant("{ match: { application: plain }, group: default }")
        .render(), PgConfigText.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (PostgresServer p = pg; ProxyFixture x = proxy) {
      // proxy first, then the backend
    }
  }

  private static Connection as(String application) throws SQLException {
    return PgClients.connect(proxy.port(), PostgresServer.APP_USER, PostgresServer.APP_PASSWORD,
        Map.of("ApplicationName", application));
  }

  private static double hints(String result) {
    return proxy.metrics().sum("mproxy_hints_total", "result", result);
  }

  private static void assertHintTimeout(SQLException e) {
    assertEquals("57014", e.getSQLState(), e.getMessage());
    ServerErrorMessage server = assertInstanceOf(PSQLException.class, e).getServerErrorMessage();
    assertNotNull(server, "an ErrorResponse: " + e);
    assertTrue(server.getMessage().startsWith("mproxy:") && server.getMessage().contains("timeout_ms=300"),
        server.getMessage());
  }

  @Test
  void aHintedTimeoutCancelsTheQuery() throws Exception {
    ExecutorService thread = Executors.newSingleThreadExecutor();
    double applied = hints("applied");
    try (Connection c = as("hinted")) {
      Future<String> sleeping = thread.submit(
          () -> PgClients.queryOne(c, "/* mproxy: timeout_ms=300 */ SELECT pg_sleep(30)::text"));
      ExecutionException failed = assertThrows(ExecutionException.class, () -> sleeping.get(25, TimeUnit.SECONDS),
          "a 30 s sleep ends long before 30 s with timeout_ms=300");
      assertHintTimeout(assertInstanceOf(SQLException.class, failed.getCause()));
      assertEquals("after", PgClients.queryOne(c, "SELECT 'after'"), "the connection is usable afterwards");
    } finally {
      thread.shutdownNow();
      assertTrue(thread.awaitTermination(30, TimeUnit.SECONDS));
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> {
      assertTrue(hints("applied") >= applied + 1);
      assertTrue(proxy.metrics().sum("mproxy_hint_timeouts_total") >= 1);
    });
  }

  @Test
  void aHintedTimeoutAppliesToTheParseTextOfAPreparedStatement() throws Exception {
    try (Connection c = as("hinted");
        PreparedStatement ps = c.prepareStatement("/* mproxy: timeout_ms=300 */ SELECT pg_sleep(?)::text")) {
      ps.setInt(1, 30);
      SQLException e = assertThrows(SQLException.class, ps::executeQuery);
      assertHintTimeout(e);
      ps.setInt(1, 0);
      try (ResultSet rs = ps.executeQuery()) {
        assertTrue(rs.next(), "the same statement runs again, within its timeout");
      }
    }
  }

  @Test
  void aTenantWithoutAllowHintsHasItsHintIgnored() throws Exception {
    double ignored = hints("ignored");
    try (Connection c = as("plain")) {
      assertEquals("", PgClients.queryOne(c, "/* mproxy: timeout_ms=300 */ SELECT pg_sleep(1)::text"),
          "a 1 s query outlives the 300 ms the tenant may not ask for");
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertTrue(hints("ignored") >= ignored + 1));
  }

  @Test
  void aHintedGroupMovesTheRequestAndAnUnknownOneIsIgnored() throws Exception {
    try (Connection hinted = as("hinted"); Connection plain = as("plain")) {
      double before = batchRequests();
      assertEquals("1", PgClients.queryOne(hinted, "/*+ RESOURCE_GROUP(batch) */ SELECT 1"));
      assertEquals("1", PgClients.queryOne(hinted, "/* mproxy: group=batch priority=low */ SELECT 1"));
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(before + 2, batchRequests(), "both hinted statements ran in group batch"));
      assertEquals("1", PgClients.queryOne(plain, "/* mproxy: group=batch */ SELECT 1"));
      assertEquals("1", PgClients.queryOne(hinted, "/* mproxy: group=nosuch */ SELECT 1"));
      assertEquals("ok", PgClients.queryOne(plain, "SELECT 'ok'"));
      assertEquals(before + 2, batchRequests(), "neither the plain tenant nor an unknown group moved anything");
    }
  }

  private static double batchRequests() {
    return proxy.metrics().sum("mproxy_requests_total", "group", "batch");
  }
}
