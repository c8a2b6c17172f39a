package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * TLS from the proxy to MariaDB with the cluster option {@code tls: { mode, ca }}: the server
 * runs with {@code require_secure_transport=ON}, so every backend login (pooled connections and
 * the side connection that sends KILL QUERY) fails unless the proxy upgrades it with SSLRequest.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BackendTlsTest {

  private static TestCertificates certs;
  private static MariaDbServer db;

  @BeforeAll
  static void start() throws IOException {
    certs = TestCertificates.create();
    readableByTheServer(certs.certificate());
    db = MariaDbServer.start("--ssl-cert=" + certs.certificate(), "--ssl-key=" + certs.privateKey(),
        "--ssl-ca=" + certs.certificate(), "--require-secure-transport=ON");
  }

  /** mariadbd runs as user mysql when the tests run as root: let it read the key pair. */
  private static void readableByTheServer(Path cert) throws IOException {
    Files.setPosixFilePermissions(cert.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(cert, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(certs.privateKey(), PosixFilePermissions.fromString("rw-r--r--"));
  }

  @AfterAll
  static void stop() {
    try (TestCertificates c = certs; MariaDbServer d = db) {
      // the server, then its files
    }
  }

  private static MysqlProxy proxy(String tls) {
    return new MysqlProxy(db).cluster(tls)
        .pool("pool: { mode: transaction, min_idle: 0, max_size: 4, acquire_timeout_ms: 3000 }");
  }

  @Test
  void requireEncryptsTheBackendSessions() throws Exception {
    try (ProxyFixture proxy = proxy("tls: { mode: require }").listener("query_timeout_ms: 1000").start();
        Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_version'")) {
        assertTrue(rs.next());
        assertTrue(rs.getString(2).startsWith("TLSv1"), "the backend session is encrypted: " + rs.getString(2));
      }
      SQLException timedOut = assertThrows(SQLException.class, () -> s.executeQuery("SELECT SLEEP(20)"));
      assertEquals(3024, timedOut.getErrorCode(), "the KILL QUERY side connection logged in over TLS too: "
          + timedOut.getMessage());
      assertEquals("0", db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info = 'SELECT SLEEP(20)'"));
    }
  }

  /** Passthrough over a TLS backend leg: the client's HandshakeResponse follows the proxy's SSLRequest (seq 2). */
  @Test
  void passthroughClientsLogInOverTheTlsBackendLeg() throws Exception {
    db.sql("CREATE USER IF NOT EXISTS 'tlspt'@'%' IDENTIFIED BY 'tlspt-pw';"
        + " GRANT SELECT ON " + MariaDbServer.DATABASE + ".* TO 'tlspt'@'%'");
    try (ProxyFixture proxy = proxy("tls: { mode: require }").passthrough().start();
        Connection c = MysqlProxy.connect("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + MariaDbServer.DATABASE
            + "?user=tlspt&password=tlspt-pw");
        ResultSet rs = c.createStatement().executeQuery("SELECT CURRENT_USER(), VARIABLE_VALUE FROM"
            + " information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'SSL_VERSION'")) {
      assertTrue(rs.next());
      assertEquals("tlspt@%", rs.getString(1));
      assertTrue(rs.getString(2).startsWith("TLSv1"), "the client's own backend session is encrypted: "
          + rs.getString(2));
    }
  }

  @Test
  void verifyFullAcceptsTheServerSignedByTheCa() throws Exception {
    try (ProxyFixture proxy = proxy("tls: { mode: verify-full, ca: " + certs.certificate() + " }").start();
        Connection c = MysqlProxy.connect(MysqlProxy.mysqlUrl(proxy, ""));
        ResultSet rs = c.createStatement().executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'")) {
      assertTrue(rs.next());
      assertTrue(!rs.getString(2).isEmpty(), "a cipher is in use");
    }
  }

  @Test
  void verifyFullRefusesAServerSignedByAnotherCa() throws Exception {
    try (TestCertificates other = TestCertificates.create();
        ProxyFixture proxy = proxy("tls: { mode: verify-full, ca: " + other.certificate() + " }").start()) {
      SQLException e = assertThrows(SQLException.class, () -> query(proxy));
      assertTrue(messages(e).contains("mproxy: rejected"), "the proxy answered for the backend: " + messages(e));
    }
  }

  @Test
  void withoutTlsTheServerRefusesTheProxysLogin() throws Exception {
    try (ProxyFixture proxy = proxy("tls: { mode: disable }").start()) {
      SQLException e = assertThrows(SQLException.class, () -> query(proxy));
      assertTrue(messages(e).contains("mproxy: rejected"), messages(e));
    }
  }

  /** The messages of {@code t} and its causes (the connector wraps the server's error). */
  private static String messages(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c.getMessage()).append(" / ");
    }
    return b.toString();
  }

  private static void query(ProxyFixture proxy) throws SQLException {
    try (Connection c = MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, ""));
        ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
      rs.next();
    }
  }
}
