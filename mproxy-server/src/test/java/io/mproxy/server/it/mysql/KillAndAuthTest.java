package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

/**
 * KILL with the connection ids clients see in the proxy's greeting (translated to the backend
 * connection that runs the statement; refused across users), and the two password plugins.
 */
class KillAndAuthTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;
  private static ProxyFixture sha2Proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    proxy = new MysqlProxy(db).user("other", "pw").start();
    sha2Proxy = new MysqlProxy(db).listener("auth_plugin: caching_sha2_password")
        .listener("server_version: 5.7.19-mproxy").start();
  }

  @AfterAll
  static void stop() {
    for (ProxyFixture p : new ProxyFixture[] {proxy, sha2Proxy}) {
      if (p != null) {
        p.close();
      }
    }
    if (db != null) {
      db.close();
    }
  }

  private static long threadId(Connection c) throws SQLException {
    return c.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
  }

  @Test
  void statementCancelStopsTheQueryOnTheBackend() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(proxy, ""));
        Statement s = c.createStatement()) {
      CompletableFuture<Object> running = CompletableFuture.supplyAsync(() -> {
        try (ResultSet rs = s.executeQuery("SELECT SLEEP(20)")) {
          rs.next();
          return rs.getInt(1);
        } catch (SQLException e) {
          return e;
        }
      });
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals("1",
          db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(20)'")));
      s.cancel();
      Object result = running.get(10, TimeUnit.SECONDS);
      assertTrue(result instanceof com.mysql.cj.jdbc.exceptions.MySQLStatementCancelledException
          || result.equals(1) || (result instanceof SQLException e && e.getErrorCode() == 1317),
          "SLEEP was interrupted: " + result);
      assertEquals("0", db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(20)'"));
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 5")) {
        assertTrue(rs.next());
        assertEquals(5, rs.getInt(1));
      }
    }
  }

  @Test
  void killUsesProxyIdsAndStaysWithinOneUser() throws Exception {
    try (Connection victim = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection sameUser = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Connection otherUser = MysqlProxy.connect(
            "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app?user=other&password=pw")) {
      long id = threadId(victim);
      SQLException denied = assertThrows(SQLException.class,
          () -> otherUser.createStatement().execute("KILL QUERY " + id));
      assertEquals(1095, denied.getErrorCode(), denied.getMessage());
      SQLException unknown = assertThrows(SQLException.class,
          () -> sameUser.createStatement().execute("KILL 4000000000"));
      assertEquals(1094, unknown.getErrorCode(), unknown.getMessage());
      assertTrue(victim.isValid(5));
      sameUser.createStatement().execute("KILL CONNECTION " + id);
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertFalse(victim.isValid(1)));
      assertTrue(sameUser.isValid(5));
    }
  }

  /**
   * MySQL Connector/J reads caching_sha2 exchanges correctly only from servers it believes are
   * 5.5.16 or newer (MariaDB says 5.5.5-...), hence {@code server_version} on this listener.
   */
  @Test
  void cachingSha2FullAuthenticationThenFastPath() throws Exception {
    for (int i = 0; i < 2; i++) {
      try (Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(sha2Proxy, ""));
          ResultSet rs = c.createStatement().executeQuery("SELECT CURRENT_USER()")) {
        assertTrue(rs.next());
        assertEquals(MariaDbServer.USER + "@%", rs.getString(1), "the proxy's own backend login");
      }
    }
    try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(sha2Proxy, "allowPublicKeyRetrieval=true"))) {
      assertTrue(c.isValid(5));
    }
    SQLException denied = assertThrows(SQLException.class, () -> MysqlProxy.connect(
        "jdbc:mysql://127.0.0.1:" + sha2Proxy.port() + "/app?user=" + MysqlProxy.USER
            + "&password=wrong&sslMode=DISABLED&allowPublicKeyRetrieval=true").close());
    assertEquals(1045, denied.getErrorCode(), denied.getMessage());
  }

  @Test
  void nativePasswordRefusesWrongPasswordsAndUnknownUsers() {
    SQLException wrong = assertThrows(SQLException.class, () -> MysqlProxy.connect(
        "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app?user=" + MysqlProxy.USER + "&password=nope").close());
    assertEquals(1045, wrong.getErrorCode(), wrong.getMessage());
    SQLException unknown = assertThrows(SQLException.class, () -> MysqlProxy.connect(
        "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app?user=nobody&password=x").close());
    assertEquals(1045, unknown.getErrorCode(), unknown.getMessage());
  }
}
