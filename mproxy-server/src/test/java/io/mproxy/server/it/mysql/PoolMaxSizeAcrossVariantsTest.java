package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * MariaDB Connector/J and MySQL Connector/J ask for different capabilities, so their backend
 * connections live in different pool variants; {@code pool.max_size: 2} still caps the backend at
 * two connections: a MySQL Connector/J statement waits while two MariaDB Connector/J transactions
 * hold both, and runs once one of them ends (its idle connection is closed to make room).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PoolMaxSizeAcrossVariantsTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    proxy = new MysqlProxy(db)
        .pool("pool: { mode: transaction, min_idle: 0, max_size: 2, acquire_timeout_ms: 30000 }").start();
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
  void maxSizeCapsTheBackendWhateverTheClientKind() throws Exception {
    try (Connection m1 = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection m2 = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection j = MysqlProxy.connect(MysqlProxy.mysqlUrl(proxy, ""))) {
      m1.createStatement().execute("START TRANSACTION");
      m2.createStatement().execute("START TRANSACTION");
      assertEquals(2, backendConnections(), "two transactions hold two backend connections");
      CompletableFuture<String> waiting = CompletableFuture.supplyAsync(() -> {
        try {
          return one(j, "SELECT 'mysql-cj'");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      for (int i = 0; i < 10; i++) {
        assertTrue(backendConnections() <= 2, "never more than max_size to the backend");
        assertTrue(!waiting.isDone() || waiting.isCompletedExceptionally(),
            "the other client kind waits for a slot");
        Thread.sleep(100);
      }
      m1.createStatement().execute("COMMIT");
      assertEquals("mysql-cj", waiting.get(30, TimeUnit.SECONDS));
      assertTrue(backendConnections() <= 2, "still at most max_size");
      m2.createStatement().execute("COMMIT");
    }
  }

  /** Backend sessions of the proxy's user (the KILL side connection is not used here). */
  private static int backendConnections() {
    return Integer.parseInt(db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = '"
        + MariaDbServer.USER + "'"));
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }
}
