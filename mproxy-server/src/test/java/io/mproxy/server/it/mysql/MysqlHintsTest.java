package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Magic-comment hints through MySQL Connector/J against a real MariaDB: a tenant with
 * {@code allow_hints} gets its {@code timeout_ms} (KILL QUERY on the backend, error 3024 with an
 * {@code mproxy:} message naming {@code timeout_ms}); a tenant without it has the hint ignored.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MysqlHintsTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    proxy = new MysqlProxy(db)
        .user("hinted", "pw")
        .user("plain", "pw")
        .tail("resource_groups:\n"
            + "  default: { ru_per_sec: 100000, burst: 200000, on_exhausted: reject }\n"
            + "tenants:\n"
            + "  - { match: { user: hinted }, group: default, allow_hints: true }\n"
            + "  - { match: { user: plain }, group: default }\n")
        .start();
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MariaDbServer d = db) {
      // proxy first, then the backend
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Connection as(String user) throws SQLException {
    return MysqlProxy.connect("jdbc:mysql://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE
        + "?user=" + user + "&password=pw&sslMode=DISABLED&allowPublicKeyRetrieval=true");
  }

  private static String sleeping() throws Exception {
    return db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE '%SLEEP(30)%'"
        + " AND info NOT LIKE '%processlist%'");
  }

  @Test
  void aHintedTimeoutKillsTheQueryWithError3024() throws Exception {
    try (Connection c = as("hinted")) {
      SQLException e = assertThrows(SQLException.class, () -> {
        try (Statement s = c.createStatement()) {
          s.executeQuery("/* mproxy: timeout_ms=300 */ SELECT SLEEP(30)");
        }
      });
      assertEquals(3024, e.getErrorCode(), e.getMessage());
      assertTrue(e.getMessage().contains("mproxy:") && e.getMessage().contains("timeout_ms=300"), e.getMessage());
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals("0", sleeping(), "killed on the backend"));
      try (PreparedStatement ps = c.prepareStatement("/* mproxy: timeout_ms=300 */ SELECT SLEEP(?)")) {
        ps.setInt(1, 30);
        SQLException again = assertThrows(SQLException.class, ps::executeQuery);
        assertEquals(3024, again.getErrorCode(), again.getMessage());
      }
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
        assertTrue(rs.next());
        assertEquals(42, rs.getInt(1), "the connection stays usable after the timeout");
      }
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertTrue(proxy.metrics().sum("mproxy_hint_timeouts_total") >= 2));
  }

  @Test
  void aTenantWithoutAllowHintsHasItsHintIgnored() throws Exception {
    try (Connection c = as("plain"); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("/* mproxy: timeout_ms=100 */ SELECT SLEEP(1)")) {
      assertTrue(rs.next());
      assertEquals(0, rs.getInt(1), "SLEEP(1) ran to its end: the 100 ms hint was not honoured");
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertTrue(proxy.metrics().sum("mproxy_hints_total", "result", "ignored") >= 1));
  }
}
