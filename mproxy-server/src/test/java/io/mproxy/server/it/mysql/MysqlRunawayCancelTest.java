package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A runaway {@code cancel} rule on MySQL: a statement running past {@code elapsed_ms_above} is
 * stopped with KILL QUERY on a side connection (the path a client's own KILL QUERY takes), and
 * the client's connection stays usable; statements under the threshold are untouched.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MysqlRunawayCancelTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    proxy = new MysqlProxy(db).tail("""
        runaway:
          rules:
            - { name: slow, elapsed_ms_above: 700, action: cancel }
        """).start();
  }

  @AfterAll
  static void stop() {
    try (MariaDbServer d = db; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void aStatementPastTheThresholdIsKilledAndTheConnectionStaysUsable() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection other = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Statement s = c.createStatement()) {
      CompletableFuture<Object> running = CompletableFuture.supplyAsync(() -> {
        try (ResultSet rs = s.executeQuery("SELECT SLEEP(20)")) {
          rs.next();
          return rs.getInt(1);
        } catch (SQLException e) {
          return e;
        }
      });
      try (ResultSet rs = other.createStatement().executeQuery("SELECT SLEEP(0.2)")) {
        assertTrue(rs.next());
        assertEquals(0, rs.getInt(1), "a statement under the threshold completes normally");
      }
      Object result = running.get(15, TimeUnit.SECONDS);
      assertTrue(result.equals(1) || result instanceof SQLException e && e.getErrorCode() == 1317,
          "SLEEP was interrupted (MariaDB returns 1 or error 1317): " + result);
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals("0",
          db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(20)'")));
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 5")) {
        assertTrue(rs.next());
        assertEquals(5, rs.getInt(1));
      }
      assertTrue(proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "slow", "action", "cancel") >= 1);
    }
  }
}
