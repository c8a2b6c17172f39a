package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the proxy refuses, with which MySQL error codes: too many connections (1040), too many
 * per user (1203), an exhausted RU budget (1226), a statement past query_timeout_ms (3024, after
 * KILL QUERY on the backend), and malformed packets (1153, 1156: ERR and close, nobody else hurt).
 */
class LimitsAndRefusalsTest {

  private static final long QUERY_TIMEOUT_MS = 1500;
  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    proxy = new MysqlProxy(db)
        .user("limited", "pw")
        .user("budget", "pw")
        .user("u0", "pw").user("u1", "pw").user("u2", "pw").user("u3", "pw").user("u4", "pw")
        .user("u5", "pw").user("u6", "pw").user("u7", "pw").user("u8", "pw").user("u9", "pw")
        .listener("max_client_connections: 12")
        .listener("max_frame_bytes: 1mb")
        .listener("max_connections_per_user: 2")
        .listener("query_timeout_ms: " + QUERY_TIMEOUT_MS)
        .tail("resource_groups:\n"
            + "  default: { ru_per_sec: 100000, burst: 200000, on_exhausted: reject }\n"
            + "  tiny: { ru_per_sec: 1, burst: 20, on_exhausted: reject }\n"
            + "tenants:\n"
            + "  - { match: { user: budget }, group: tiny }\n")
        .start();
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

  private static String url(String user, String password) {
    return "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app?user=" + user + "&password=" + password;
  }

  @Test
  void queryTimeoutKillsTheStatementOnTheBackend() throws Exception {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""))) {
      long start = System.nanoTime();
      SQLException e = assertThrows(SQLException.class, () -> {
        try (Statement s = c.createStatement()) {
          s.executeQuery("SELECT SLEEP(30)");
        }
      });
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(3024, e.getErrorCode(), e.getMessage());
      assertTrue(e.getMessage().contains("mproxy:"), e.getMessage());
      assertTrue(elapsedMs < QUERY_TIMEOUT_MS + 1000, "stopped after " + elapsedMs + " ms");
      assertEquals("0", db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%'"));
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 41 + 1")) {
        assertTrue(rs.next());
        assertEquals(42, rs.getInt(1), "the connection stays usable after the timeout");
      }
    }
  }

  @Test
  void perUserLimitRefusesTheThirdConnection() throws Exception {
    try (Connection a = MysqlProxy.connect(url("limited", "pw"));
        Connection b = MysqlProxy.connect(url("limited", "pw"))) {
      SQLException e = assertThrows(SQLException.class, () -> MysqlProxy.connect(url("limited", "pw")).close());
      assertEquals(1203, e.getErrorCode(), e.getMessage());
      assertTrue(a.isValid(5) && b.isValid(5));
    }
    try (Connection again = MysqlProxy.connect(url("limited", "pw"))) {
      assertTrue(again.isValid(5), "closed connections no longer count");
    }
  }

  @Test
  void listenerConnectionLimitAnswers1040() throws Exception {
    List<Connection> open = new ArrayList<>();
    try {
      SQLException refused = null;
      for (int i = 0; i < 20 && refused == null; i++) {
        try {
          open.add(MysqlProxy.connect(url("u" + (i % 10), "pw")));
        } catch (SQLException e) {
          refused = e;
        }
      }
      assertTrue(refused != null, "more than max_client_connections were accepted");
      assertEquals(1040, refused.getErrorCode(), refused.getMessage());
      assertTrue(refused.getMessage().contains("mproxy:"), refused.getMessage());
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
  }

  @Test
  void exhaustedRuBudgetAnswers1226AndTheConnectionStaysUsable() throws Exception {
    try (Connection c = MysqlProxy.connect(url("budget", "pw"))) {
      SQLException refused = null;
      for (int i = 0; i < 200 && refused == null; i++) {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT REPEAT('x', 1000)")) {
          rs.next();
        } catch (SQLException e) {
          refused = e;
        }
      }
      assertTrue(refused != null, "a 1 RU/s group never refused");
      assertEquals(1226, refused.getErrorCode(), refused.getMessage());
      assertTrue(refused.getMessage().contains("mproxy: rejected group=tiny reason=ru_limit"), refused.getMessage());
      assertTrue(c.isValid(5));
    }
  }

  @Test
  void malformedPacketsGetAnErrAndACloseAndNobodyElseNotices() throws Exception {
    try (Connection bystander = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""))) {
      try (RawMysqlClient raw = new RawMysqlClient(proxy.port())) {
        raw.login(MysqlProxy.USER, MysqlProxy.PASSWORD);
        raw.write(3, new byte[] {0x03, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'});
        RawMysqlClient.Packet err = raw.read();
        assertEquals(1156, err.errorCode(), err.text());
        assertTrue(raw.closedByPeer());
      }
      try (RawMysqlClient raw = new RawMysqlClient(proxy.port())) {
        raw.login(MysqlProxy.USER, MysqlProxy.PASSWORD);
        raw.writeHeader(0xFF_FFFF, 0);
        RawMysqlClient.Packet err = raw.read();
        assertEquals(1153, err.errorCode(), err.text());
        assertTrue(raw.closedByPeer());
      }
      try (RawMysqlClient raw = new RawMysqlClient(proxy.port())) {
        raw.read();
        raw.write(1, new byte[] {1, 2, 3});
        RawMysqlClient.Packet err = raw.read();
        assertEquals(0xFF, err.header(), err.text());
        assertTrue(raw.closedByPeer());
      }
      try (Statement s = bystander.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
        assertTrue(rs.next());
        assertEquals(7, rs.getInt(1));
      }
    }
  }
}
