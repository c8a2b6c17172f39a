package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.TestCertificates;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS on the client side (SSLRequest, then caching_sha2_password full authentication in clear
 * text inside TLS), session pooling (a client keeps its backend connection; others wait for
 * acquire_timeout_ms and get 1040), and wait_timeout_ms closing idle clients.
 */
class TlsSessionPoolingAndIdleTest {

  private static MariaDbServer db;
  private static TestCertificates certs;
  private static ProxyFixture tlsProxy;
  private static ProxyFixture sessionProxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    certs = TestCertificates.create();
    tlsProxy = new MysqlProxy(db)
        .user("tlsuser", "tls-pw")
        .listener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }")
        .listener("auth_plugin: caching_sha2_password")
        .listener("server_version: 5.7.19-mproxy")
        .start();
    sessionProxy = new MysqlProxy(db)
        .pool("pool: { mode: session, min_idle: 0, max_size: 2, acquire_timeout_ms: 1500 }")
        .listener("wait_timeout_ms: 2000")
        .start();
  }

  @AfterAll
  static void stop() {
    for (ProxyFixture p : new ProxyFixture[] {tlsProxy, sessionProxy}) {
      if (p != null) {
        p.close();
      }
    }
    if (certs != null) {
      certs.close();
    }
    if (db != null) {
      db.close();
    }
  }

  /** Fails (read timeout) when the ClientHello bytes stay in the MySQL decoder behind the SSLRequest. */
  @Test
  void aClientHelloInTheSameReadAsTheSslRequestReachesTls() throws Exception {
    try (RawMysqlClient raw = new RawMysqlClient(tlsProxy.port())) {
      assertEquals(0x16, raw.sslRequestAndClientHelloTogether(), "a TLS handshake record answers");
    }
  }

  @Test
  void tlsWithCachingSha2FullAuthenticationInsideIt() throws Exception {
    String url = "jdbc:mysql://127.0.0.1:" + tlsProxy.port() + "/app?user=tlsuser&password=tls-pw"
        + "&sslMode=REQUIRED";
    try (Connection c = MysqlProxy.connect(url); ResultSet rs = c.createStatement().executeQuery("SELECT 'secure'")) {
      assertTrue(rs.next());
      assertEquals("secure", rs.getString(1));
    }
    try (Connection c = MysqlProxy.connect("jdbc:mariadb://127.0.0.1:" + tlsProxy.port()
        + "/app?user=tlsuser&password=tls-pw&sslMode=trust")) {
      assertTrue(c.isValid(5));
    }
    SQLException noTls = assertThrows(SQLException.class, () -> MysqlProxy.connect(
        "jdbc:mysql://127.0.0.1:" + sessionProxy.port() + "/app?user=" + MysqlProxy.USER + "&password="
            + MysqlProxy.PASSWORD + "&sslMode=REQUIRED").close());
    assertTrue(noTls.getMessage().toLowerCase().contains("ssl"), "a listener without a certificate offers no TLS: "
        + noTls.getMessage());
  }

  @Test
  void sessionPoolingKeepsTheConnectionAndMakesOthersWait() throws Exception {
    try (Connection a = MysqlProxy.connect(MysqlProxy.mariadbUrl(sessionProxy, ""))) {
      Connection b = MysqlProxy.connect(MysqlProxy.mariadbUrl(sessionProxy, ""));
      long backendA = backendId(a);
      assertEquals(backendA, backendId(a), "session pooling: same backend connection every time");
      assertTrue(backendId(b) != backendA);
      SQLException waited = assertThrows(SQLException.class,
          () -> backendId(MysqlProxy.connect(MysqlProxy.mariadbUrl(sessionProxy, ""))));
      assertEquals(1040, serverCode(waited), waited.getMessage());
      b.close();
      try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(sessionProxy, ""))) {
        assertTrue(backendId(c) > 0, "the connection b gave back serves c");
      }
    }
  }

  @Test
  void idleClientsAreDisconnectedAfterWaitTimeout() throws Exception {
    try (RawMysqlClient idle = new RawMysqlClient(sessionProxy.port())) {
      idle.login(MysqlProxy.USER, MysqlProxy.PASSWORD);
      RawMysqlClient.Packet bye = idle.read();
      assertEquals(4031, bye.errorCode(), bye.text());
      assertTrue(idle.closedByPeer());
    }
  }

  /** The server's error code, also when the connector wrapped it (a failed connection init). */
  private static int serverCode(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLException e && e.getErrorCode() > 0) {
        return e.getErrorCode();
      }
    }
    return -1;
  }

  private static long backendId(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT @@pseudo_thread_id")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
