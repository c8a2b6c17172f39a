package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MariaDbServer;
import io.mproxy.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A MySQL listener's certificate rewritten in place and applied with {@code POST /api/reload}
 * (this daemon does not watch files): MariaDB Connector/J with {@code sslMode=verify-ca} and one
 * certificate as {@code serverSslCert} proves which certificate the proxy serves (the two test
 * certificates share a subject, not a key). The connection made before the reload carries on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MysqlTlsRotationTest {

  @Test
  void reloadServesTheRewrittenCertificateToNewClients() throws Exception {
    Path dir = Files.createTempDirectory("mproxy-rotation-");
    try (MariaDbServer db = MariaDbServer.start();
        TestCertificates first = TestCertificates.create();
        TestCertificates second = TestCertificates.create()) {
      Path cert = Files.copy(first.certificate(), dir.resolve("server.crt"));
      Path key = Files.copy(first.privateKey(), dir.resolve("server.key"));
      try (ProxyFixture proxy = new MysqlProxy(db).listener("tls: { cert: " + cert + ", key: " + key + " }").start();
          Connection before = trusting(proxy, first.certificate())) {
        assertEquals("1", one(before, "SELECT 1"));

        Files.copy(second.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
        ProxyFixture.Http reload = proxy.post("/api/reload");
        assertEquals(200, reload.status(), reload.body());

        try (Connection after = trusting(proxy, second.certificate())) {
          assertEquals("2", one(after, "SELECT 2"));
        }
        assertThrows(SQLException.class, () -> trusting(proxy, first.certificate()).close(),
            "the first certificate is no longer served");
        assertEquals("3", one(before, "SELECT 3"), "the connection made before the reload carries on");
      }
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          Files.deleteIfExists(p);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  private static Connection trusting(ProxyFixture proxy, Path certificate) throws SQLException {
    return MysqlProxy.connect(MysqlProxy.mariadbUrl(proxy, "sslMode=verify-ca&serverSslCert=" + certificate));
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
