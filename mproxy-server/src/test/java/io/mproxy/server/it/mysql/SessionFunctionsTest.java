package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
 * CONNECTION_ID(), LAST_INSERT_ID(), ROW_COUNT() and FOUND_ROWS() under transaction pooling, with
 * one backend connection shared by two clients (max_size 1), so that every statement of one
 * client runs right after the other's on the same server session: each client still sees its own
 * values.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SessionFunctionsTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE " + MariaDbServer.DATABASE + ".sf (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 1, max_size: 1, acquire_timeout_ms: 20000 }").start();
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void eachClientSeesItsOwnConnectionIdAndInsertIdAndRowCount() throws Exception {
    try (Connection a = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection b = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""))) {
      assertEquals(a.unwrap(org.mariadb.jdbc.Connection.class).getThreadId(), Long.parseLong(one(a,
          "SELECT CONNECTION_ID()")), "the id of the proxy's greeting, which KILL takes");
      assertNotEquals(one(a, "SELECT CONNECTION_ID()"), one(b, "SELECT CONNECTION_ID()"));
      assertEquals(one(a, "SELECT @@pseudo_thread_id"), one(b, "SELECT @@pseudo_thread_id"),
          "both run on the one backend connection");

      a.createStatement().execute("INSERT INTO sf (v) VALUES (1)");
      String aId = one(a, "SELECT MAX(id) FROM sf");
      b.createStatement().execute("INSERT INTO sf (v) VALUES (2)");
      assertEquals(aId, one(a, "SELECT LAST_INSERT_ID()"), "a's insert, not b's (the server's answer)");
      try (ResultSet rs = a.createStatement().executeQuery("SELECT LAST_INSERT_ID()")) {
        assertTrue(rs.next());
        assertEquals(aId, rs.getString("LAST_INSERT_ID()"), "the column keeps its name");
      }

      a.createStatement().execute("INSERT INTO sf (v) VALUES (3), (3), (3)");
      a.createStatement().execute("UPDATE sf SET v = 30 WHERE v = 3");
      b.createStatement().execute("DELETE FROM sf WHERE id = -1");
      assertEquals("3", one(a, "SELECT ROW_COUNT()"), "a's UPDATE changed 3 rows; b's DELETE none");
      assertEquals("-1", one(a, "SELECT ROW_COUNT()"), "after a result set");
    }
  }

  @Test
  void foundRowsRunsOnTheConnectionOfTheCalcFoundRowsSelect() throws Exception {
    try (Connection a = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection b = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""))) {
      a.createStatement().execute("INSERT INTO sf (v) VALUES (7), (7), (7), (7)");
      String total = one(a, "SELECT COUNT(*) FROM sf");
      try (ResultSet rs = a.createStatement().executeQuery("SELECT SQL_CALC_FOUND_ROWS * FROM sf LIMIT 1")) {
        assertTrue(rs.next());
      }
      CompletableFuture<String> other = CompletableFuture.supplyAsync(() -> {
        try {
          return one(b, "SELECT * FROM sf WHERE id = (SELECT MIN(id) FROM sf)");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(1, poolWaiting(),
          "b waits: a keeps the connection until its next statement"));
      assertEquals(total, one(a, "SELECT FOUND_ROWS()"));
      assertTrue(other.get(20, TimeUnit.SECONDS) != null, "then b runs");
    }
  }

  private static int poolWaiting() {
    for (JsonNode c : proxy.status().path("clusters")) {
      if ("db".equals(c.path("name").asText())) {
        return c.path("backends").path(0).path("pool").path("waiting").asInt();
      }
    }
    throw new AssertionError("no cluster db in /api/status");
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }
}
