package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.ssl.ProgrammaticSslEngineFactory;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.CqlProbe;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS between CQL clients and the proxy (listener {@code tls: { cert, key }}: implicit TLS, as a
 * node with {@code client_encryption_options: { enabled: true, optional: false }} speaks it) in
 * front of the shared plain Cassandra node: the Apache Cassandra Java driver over TLS, trusting
 * only the test certificate and validating the host name against its SAN, runs queries; a
 * plain-text driver cannot connect; a refusal is answered inside TLS; a certificate rotated in
 * place reaches new handshakes.
 */
class CassandraTlsTest {

  private static TestCertificates certs;
  private static CassandraServer node;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.create();
    node = CassandraServer.shared();
    proxy = ProxyFixture.startYaml(CassandraProxy.yaml(node.address(), "{ watch_config: false, shutdown_grace_ms: 5000 }",
        1, "", tlsListener(certs.certificate(), certs.privateKey()), "", ""), CassandraProxy.LISTENER);
  }

  @AfterAll
  static void stop() throws Exception {
    try (TestCertificates c = certs; ProxyFixture p = proxy) {
      // closed in reverse order: proxy, certificate files
    }
  }

  static String tlsListener(Path cert, Path key) {
    return "    tls: { cert: " + cert + ", key: " + key + " }\n";
  }

  /** A driver session over TLS to {@code port}, trusting only {@code ca}, with host name validation. */
  static CqlSession tlsSession(int port, Path ca) {
    return CassandraProxy.builder(port, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null, false, null)
        .withSslEngineFactory(new ProgrammaticSslEngineFactory(trusting(ca), null, true))
        .build();
  }

  /** A TLS context that trusts exactly the PEM certificate {@code ca}. */
  static SSLContext trusting(Path ca) {
    try {
      return CqlProbe.trusting(ca);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void driverOverTlsRunsQueriesThroughTheProxy() {
    try (CqlSession s = tlsSession(proxy.port(), certs.certificate())) {
      Row local = s.execute("SELECT release_version FROM system.local").one();
      assertNotNull(local, "system.local through the TLS listener");
      assertTrue(local.getString("release_version").startsWith("5."), local.getFormattedContents());

      s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS cql_tls"
          + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS cql_tls.kv (k text PRIMARY KEY, v text)")
          .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
      PreparedStatement insert = s.prepare("INSERT INTO cql_tls.kv (k, v) VALUES (?, ?)");
      s.execute(insert.bind("client-side", "over-tls"));
      Row row = s.execute(s.prepare("SELECT v FROM cql_tls.kv WHERE k = ?").bind("client-side")).one();
      assertNotNull(row, "the row written over TLS is on the node");
      assertEquals("over-tls", row.getString("v"));
    }
  }

  @Test
  void plainTextDriverCannotConnect() {
    AllNodesFailedException e = assertThrows(AllNodesFailedException.class,
        () -> CassandraProxy.builder(proxy.port(), CassandraProxy.USER, CassandraProxy.PASSWORD, null, null, false, null)
            .build().close());
    assertTrue(e.getAllErrors().size() == 1, "the one contact point failed: " + e);
  }

  @Test
  void plainTextLoginGetsNoCqlAnswer() {
    // a plain STARTUP is not TLS: the proxy closes the connection without a CQL frame
    IOException e = assertThrows(IOException.class, () -> CqlProbe.login(CassandraServer.HOST, proxy.port(),
        CassandraProxy.USER, CassandraProxy.PASSWORD, Duration.ofSeconds(10)));
    assertTrue(!(e instanceof java.net.SocketTimeoutException), "closed, not left hanging: " + e);
  }

  /** A refusal (here: max_client_connections) answers the first frame inside TLS, with mproxy's Overloaded error. */
  @Test
  void refusalIsAnsweredInsideTls() throws Exception {
    String yaml = CassandraProxy.yaml(node.address(), "{ watch_config: false, shutdown_grace_ms: 5000 }", 1, "",
        tlsListener(certs.certificate(), certs.privateKey()) + "    max_client_connections: 1\n", "", "");
    try (ProxyFixture limited = ProxyFixture.startYaml(yaml, CassandraProxy.LISTENER);
        Socket plain = new Socket()) {
      plain.connect(new InetSocketAddress(CassandraServer.HOST, limited.port()), 10_000);
      plain.setSoTimeout(10_000);
      try (SSLSocket first = (SSLSocket) trusting(certs.certificate()).getSocketFactory()
          .createSocket(plain, CassandraServer.HOST, limited.port(), true)) {
        first.startHandshake(); // the one allowed connection is up
        String refused = CqlProbe.loginTls(CassandraServer.HOST, limited.port(), certs.certificate(),
            CassandraProxy.USER, CassandraProxy.PASSWORD, Duration.ofSeconds(10));
        assertNotNull(refused, "the second connection must be refused");
        assertTrue(refused.startsWith("ERROR 0x1001") && refused.contains("mproxy: too many client connections"),
            refused);
      }
    }
  }

  /**
   * Two certificates with the same names and different keys: a driver trusting only one of them
   * proves which one the proxy serves.
   */
  @Test
  void rotatedCertificateReachesNewHandshakes() throws Exception {
    try (TestCertificates second = TestCertificates.create()) {
      Path dir = Files.createTempDirectory("mproxy-cql-rotation-");
      Path cert = Files.copy(certs.certificate(), dir.resolve("server.crt"));
      Path key = Files.copy(certs.privateKey(), dir.resolve("server.key"));
      String yaml = CassandraProxy.yaml(node.address(), "{ watch_config: true, shutdown_grace_ms: 5000 }", 1, "",
          tlsListener(cert, key), "", "");
      try (ProxyFixture rotating = ProxyFixture.startYaml(yaml, CassandraProxy.LISTENER);
          CqlSession before = tlsSession(rotating.port(), certs.certificate())) {
        assertNotNull(before.execute("SELECT release_version FROM system.local").one());

        Files.copy(second.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);

        Eventually.assertWithin(Duration.ofSeconds(30), () -> {
          try (CqlSession after = tlsSession(rotating.port(), second.certificate())) {
            assertNotNull(after.execute("SELECT release_version FROM system.local").one());
          }
        });
        assertThrows(AllNodesFailedException.class,
            () -> tlsSession(rotating.port(), certs.certificate()).close(),
            "the old certificate is no longer served");
        assertNotNull(before.execute("SELECT release_version FROM system.local").one(),
            "the session made before the rotation carries on");
      } finally {
        Files.deleteIfExists(cert);
        Files.deleteIfExists(key);
        Files.deleteIfExists(dir);
      }
    }
  }
}
