package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.TestCertificates;
import java.sql.Connection;
import java.sql.DriverManager;
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
 * A listener without {@code auth:}: the client's handshake response goes to a backend connection
 * of its own and the server checks the password (a user only MariaDB knows; the proxy's config
 * has no users at all). The session keeps that connection until it leaves.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PassthroughTest {

  private static final String USER = "pt";
  private static final String PASSWORD = "pt-secret";

  private static MariaDbServer db;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    db = MariaDbServer.start();
    db.sql("CREATE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "';"
        + " GRANT ALL PRIVILEGES ON " + MariaDbServer.DATABASE + ".* TO '" + USER + "'@'%';"
        + " CREATE TABLE " + MariaDbServer.DATABASE + ".pt (id INT PRIMARY KEY AUTO_INCREMENT, v INT)");
    proxy = new MysqlProxy(db).passthrough().start();
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

  private static String url(String driver, String user, String password) {
    return "jdbc:" + driver + "://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE + "?user=" + user
        + "&password=" + password + (driver.equals("mysql") ? "&sslMode=DISABLED" : "");
  }

  @Test
  void theServerAuthenticatesTheClientsOwnUser() throws Exception {
    for (String driver : new String[] {"mariadb", "mysql"}) {
      try (Connection c = connect(url(driver, USER, PASSWORD))) {
        assertEquals(USER + "@%", one(c, "SELECT CURRENT_USER()"), driver);
        String backendThread = one(c, "SELECT @@pseudo_thread_id");
        Statement s = c.createStatement();
        s.execute("INSERT INTO pt (v) VALUES (1)");
        c.setAutoCommit(false);
        s.execute("INSERT INTO pt (v) VALUES (2)");
        c.commit();
        c.setAutoCommit(true);
        assertEquals(backendThread, one(c, "SELECT @@pseudo_thread_id"), "pinned to its own connection");
      }
    }
    assertEquals("4", db.sql("SELECT COUNT(*) FROM " + MariaDbServer.DATABASE + ".pt"));
  }

  /** TLS between client and proxy, plain to the server: the client's sequence ids are one ahead. */
  @Test
  void aTlsClientLogsInThroughToAPlainBackend() throws Exception {
    try (TestCertificates certs = TestCertificates.create();
        ProxyFixture tlsProxy = new MysqlProxy(db).passthrough()
            .listener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }").start();
        Connection c = connect("jdbc:mysql://127.0.0.1:" + tlsProxy.port() + "/" + MariaDbServer.DATABASE
            + "?user=" + USER + "&password=" + PASSWORD + "&sslMode=REQUIRED")) {
      assertEquals(USER + "@%", one(c, "SELECT CURRENT_USER()"));
    }
  }

  @Test
  void aWrongPasswordGetsTheServersRefusal() {
    SQLException e = assertThrows(SQLException.class, () -> connect(url("mariadb", USER, "wrong")).close());
    assertEquals(1045, e.getErrorCode(), e.getMessage());
    assertFalse(e.getMessage().contains("mproxy"), "MariaDB's own answer: " + e.getMessage());
  }

  @Test
  void theBackendConnectionEndsWithTheClient() throws Exception {
    try (Connection c = connect(url("mariadb", USER, PASSWORD))) {
      assertTrue(c.isValid(5));
      assertEquals("1", db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = '" + USER + "'"));
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals("0",
        db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = '" + USER + "'")));
  }

  @Test
  void theMariadbClientLogsInThroughTheProxy() {
    Tools.Result r = Tools.mariadb(proxy.port(), USER, PASSWORD, "--batch", "--skip-column-names", "-e",
        "SELECT CURRENT_USER()");
    assertEquals(0, r.exit(), r.output());
    assertEquals(USER + "@%", r.output().strip());
  }

  private static Connection connect(String url) throws SQLException {
    DriverManager.setLoginTimeout(10);
    return DriverManager.getConnection(url);
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }
}
