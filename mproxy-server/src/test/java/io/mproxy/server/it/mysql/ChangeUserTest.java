package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mysql.cj.jdbc.JdbcConnection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * COM_CHANGE_USER through MySQL Connector/J's {@code changeUser}: the new user is checked against
 * the listener's users (both password plugins), the session starts over (user variables, session
 * variables, prepared statements gone) and its requests are classified as the new user's.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ChangeUserTest {

  private static MariaDbServer db;
  private static ProxyFixture proxy;
  private static ProxyFixture sha2Proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    String groups = "resource_groups:\n"
        + "  default: { ru_per_sec: 100000, burst: 200000, on_exhausted: reject }\n"
        + "  others: { ru_per_sec: 100000, burst: 200000, on_exhausted: reject }\n"
        + "tenants:\n"
        + "  - { match: { user: other }, group: others }\n";
    proxy = new MysqlProxy(db).user("other", "other-pw").tail(groups).start();
    sha2Proxy = new MysqlProxy(db).user("other", "other-pw").listener("auth_plugin: caching_sha2_password")
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

  @Test
  void changeUserResetsTheSessionAndReclassifiesIt() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(proxy, "useServerPrepStmts=true"))) {
      Statement s = c.createStatement();
      s.execute("SET @pinned = 7");
      s.execute("SET SESSION sql_mode = 'ANSI_QUOTES'");
      assertEquals("7", one(c, "SELECT @pinned"));
      assertEquals("ANSI_QUOTES", one(c, "SELECT @@session.sql_mode"));
      double othersBefore = proxy.metrics().sum("mproxy_requests_total", "group", "others");

      c.unwrap(JdbcConnection.class).changeUser("other", "other-pw");

      assertNull(one(c, "SELECT @pinned"), "user variables do not survive COM_CHANGE_USER");
      assertFalse(one(c, "SELECT @@session.sql_mode").contains("ANSI_QUOTES"), "session variables are reset");
      try (PreparedStatement ps = c.prepareStatement("SELECT ? + 1")) {
        ps.setInt(1, 41);
        try (ResultSet rs = ps.executeQuery()) {
          assertTrue(rs.next());
          assertEquals(42, rs.getInt(1));
        }
      }
      assertTrue(proxy.metrics().sum("mproxy_requests_total", "group", "others") > othersBefore,
          "requests after the change are classified as user 'other'");

      SQLException wrong = assertThrows(SQLException.class,
          () -> c.unwrap(JdbcConnection.class).changeUser(MysqlProxy.USER, "not-the-password"));
      assertEquals(1045, wrong.getErrorCode(), wrong.getMessage());
    }
  }

  @Test
  void changeUserBackAndForthKeepsTheConnectionUsable() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(proxy, ""))) {
      for (int i = 0; i < 3; i++) {
        c.unwrap(JdbcConnection.class).changeUser("other", "other-pw");
        assertEquals("1", one(c, "SELECT 1"));
        c.unwrap(JdbcConnection.class).changeUser(MysqlProxy.USER, MysqlProxy.PASSWORD);
        assertEquals("2", one(c, "SELECT 2"));
      }
    }
  }

  @Test
  void changeUserWithCachingSha2() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(sha2Proxy, ""))) {
      c.unwrap(JdbcConnection.class).changeUser("other", "other-pw");
      assertEquals("3", one(c, "SELECT 3"));
      c.unwrap(JdbcConnection.class).changeUser("other", "other-pw");
      assertEquals("4", one(c, "SELECT 4"));
      SQLException wrong = assertThrows(SQLException.class,
          () -> c.unwrap(JdbcConnection.class).changeUser("other", "wrong"));
      assertEquals(1045, wrong.getErrorCode(), wrong.getMessage());
    }
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }
}
