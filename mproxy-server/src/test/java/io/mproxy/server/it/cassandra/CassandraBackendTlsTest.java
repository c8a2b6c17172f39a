package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.ssl.ProgrammaticSslEngineFactory;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.CqlProbe;
import io.mproxy.testkit.TestCertificates;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS from the proxy to Cassandra nodes (cluster {@code tls: { mode, ca }}) against a real
 * Cassandra 5.0 node of this class whose CQL port speaks only TLS ({@code client_encryption_options}
 * with {@code optional: false}, PEM files): plain-text drivers of the proxy work in {@code require}
 * and in {@code verify-full} with the node's CA; {@code verify-full} with another CA gives the
 * client the proxy's error and nothing reaches the node. One TLS node for the whole class (a
 * node costs 15-60 s and about 1 GB), killed at the end.
 */
class CassandraBackendTlsTest {

  private static final String SERVER = "{ watch_config: false, shutdown_grace_ms: 5000 }";

  private static TestCertificates nodeCert;
  private static TestCertificates otherCa;
  private static CassandraServer node;
  /** Straight to the node over TLS, as its superuser: sets up the table and checks what arrived. */
  private static CqlSession direct;

  @BeforeAll
  static void start() throws Exception {
    nodeCert = TestCertificates.create();
    otherCa = TestCertificates.create();
    node = CassandraServer.startNewTlsOnly(nodeCert.certificate(), nodeCert.privateKey());
    System.out.printf("TLS-only cassandra node up in %d ms, RSS %d KiB%n", node.startMillis(), node.rssKib());
    direct = CassandraProxy.builder(node.port(), CassandraServer.SUPERUSER, CassandraServer.SUPERUSER_PASSWORD,
            null, null, false, null)
        .withSslEngineFactory(new ProgrammaticSslEngineFactory(CqlProbe.trusting(nodeCert.certificate()), null, true))
        .build();
    direct.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS backend_tls"
        + " WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
    direct.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS backend_tls.kv (k text PRIMARY KEY, v text)")
        .setTimeout(CassandraProxy.REQUEST_TIMEOUT));
  }

  @AfterAll
  static void stop() throws Exception {
    try (TestCertificates a = nodeCert; TestCertificates b = otherCa; CqlSession d = direct) {
      if (node != null) {
        node.kill();
      }
    }
  }

  private static ProxyFixture proxy(String tls) throws Exception {
    return ProxyFixture.startYaml(CassandraProxy.yaml(node.address(), SERVER, 1, "", "", "    tls: " + tls + "\n", ""),
        CassandraProxy.LISTENER);
  }

  @Test
  void nodeServesOnlyTls() {
    assertTrue(node.tlsOnly());
    assertThrows(IOException.class, () -> CqlProbe.login(CassandraServer.HOST, node.port(), CassandraServer.SUPERUSER,
        CassandraServer.SUPERUSER_PASSWORD, Duration.ofSeconds(10)), "a plain STARTUP must not be answered");
    assertThrows(IOException.class, () -> CqlProbe.loginTls(CassandraServer.HOST, node.port(), otherCa.certificate(),
        CassandraServer.SUPERUSER, CassandraServer.SUPERUSER_PASSWORD, Duration.ofSeconds(10)),
        "the node's certificate is not signed by the other CA");
  }

  @Test
  void requireModeCarriesPlainClientsOverTls() throws Exception {
    try (ProxyFixture proxy = proxy("{ mode: require }")) {
      writeAndRead(proxy, "require");
    }
  }

  @Test
  void verifyFullWithTheNodesCaWorks() throws Exception {
    try (ProxyFixture proxy = proxy("{ mode: verify-full, ca: " + nodeCert.certificate() + " }")) {
      writeAndRead(proxy, "verify-full");
    }
  }

  @Test
  void verifyFullWithAnotherCaLeavesTheNodeUnreached() throws Exception {
    try (ProxyFixture proxy = proxy("{ mode: verify-full, ca: " + otherCa.certificate() + " }")) {
      AllNodesFailedException e = assertThrows(AllNodesFailedException.class,
          () -> CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null, false).close());
      assertTrue(e.toString().contains("mproxy"), "the proxy's own error, not a driver timeout: " + e);

      String error = rawInsert(proxy.port(), "INSERT INTO backend_tls.kv (k, v) VALUES ('wrong-ca', 'x')");
      assertTrue(error.contains("mproxy") && error.contains("backend_unavailable"),
          "the proxy answers the write itself: " + error);
    }
    assertNull(direct.execute("SELECT v FROM backend_tls.kv WHERE k = 'wrong-ca'").one(), "nothing reached the node");
  }

  @Test
  void preferIsRefusedForCassandra() {
    Exception e = assertThrows(Exception.class, () -> proxy("{ mode: prefer }").close());
    assertTrue(String.valueOf(e.getMessage()).contains("prefer"), "names the refused mode: " + e);
  }

  /** A plain-text driver through the proxy writes and reads a row; the row is on the TLS-only node. */
  private static void writeAndRead(ProxyFixture proxy, String key) {
    try (CqlSession s = CassandraProxy.session(proxy, CassandraProxy.USER, CassandraProxy.PASSWORD, null, null, false)) {
      s.execute(s.prepare("INSERT INTO backend_tls.kv (k, v) VALUES (?, ?)").bind(key, "through-tls"));
      Row row = s.execute(s.prepare("SELECT v FROM backend_tls.kv WHERE k = ?").bind(key)).one();
      assertNotNull(row, "read back through the proxy");
      assertEquals("through-tls", row.getString("v"));
    }
    Row onNode = direct.execute(SimpleStatement.newInstance("SELECT v FROM backend_tls.kv WHERE k = ?", key)).one();
    assertNotNull(onNode, "the row is on the TLS-only node");
    assertEquals("through-tls", onNode.getString("v"));
  }

  /**
   * Logs in to the proxy over plain text with protocol v4 and sends one QUERY; returns the error
   * the proxy answers with ("ERROR 0x…: message"), or the opcode of another answer.
   */
  private static String rawInsert(int port, String cql) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(CassandraServer.HOST, port), 10_000);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      out.write(CqlProbe.frame(4, 0, CqlProbe.OPCODE_STARTUP, CqlProbe.stringMap("CQL_VERSION", "3.0.0")));
      out.flush();
      assertEquals(CqlProbe.OPCODE_AUTHENTICATE, CqlProbe.read(in).opcode(), "the listener asks for a password");
      out.write(CqlProbe.frame(4, 1, CqlProbe.OPCODE_AUTH_RESPONSE,
          CqlProbe.bytes(CqlProbe.plainToken(CassandraProxy.USER, CassandraProxy.PASSWORD))));
      out.flush();
      assertEquals(CqlProbe.OPCODE_AUTH_SUCCESS, CqlProbe.read(in).opcode(), "the proxy checks passwords itself");
      byte[] text = cql.getBytes(StandardCharsets.UTF_8);
      byte[] query = ByteBuffer.allocate(4 + text.length + 2 + 1)
          .putInt(text.length).put(text).putShort((short) 0x0001).put((byte) 0).array(); // consistency ONE, no flags
      out.write(CqlProbe.frame(4, 2, 0x07, query)); // QUERY
      out.flush();
      CqlProbe.Frame reply = CqlProbe.read(in);
      return reply.opcode() == CqlProbe.OPCODE_ERROR
          ? "ERROR 0x" + Integer.toHexString(reply.errorCode()) + ": " + reply.errorMessage()
          : "opcode 0x" + Integer.toHexString(reply.opcode());
    }
  }
}
