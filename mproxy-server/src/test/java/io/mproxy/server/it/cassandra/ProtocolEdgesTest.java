package io.mproxy.server.it.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import io.mproxy.server.it.PromScrape;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.CassandraServer;
import io.mproxy.testkit.CqlProbe;
import java.io.DataInputStream;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a driver seldom sends or gets, against the real node: malformed frames and unsupported
 * versions (answered PROTOCOL_ERROR the way Cassandra does, then closed, nobody else affected),
 * a shed request (ERROR Overloaded with an {@code mproxy:} message), and a prepared id the
 * backend forgot (re-prepared transparently).
 */
class ProtocolEdgesTest {

  private static CassandraServer node;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    node = CassandraServer.shared();
    proxy = CassandraProxy.start(node, 2, ", { name: limited, password: pw }",
        "resource_groups:\n"
            + "  default: { ru_per_sec: 100000, burst: 200000, on_exhausted: reject }\n"
            + "  tiny: { ru_per_sec: 1, burst: 300, on_exhausted: reject }\n"
            + "tenants:\n"
            + "  - { match: { user: limited }, group: tiny }\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void malformedFramesGetProtocolErrorAndClose() throws Exception {
    // an opcode no client may send
    assertProtocolError(new byte[] {0x04, 0, 0, 3, 0x33, 0, 0, 0, 0}, 0x84, 3, "Unknown opcode 51");
    // a body longer than max_frame_bytes
    assertProtocolError(new byte[] {0x04, 0, 0, 4, 0x07, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, 0x84, 4,
        "Request is too big");
    // a negative stream id
    assertProtocolError(new byte[] {0x04, 0, (byte) 0xff, (byte) 0xfe, 0x05, 0, 0, 0, 0}, 0x84, 0, "out of range");
    // versions mproxy does not speak: newer answered in v5, older in their own (drivers downgrade)
    assertProtocolError(new byte[] {0x42, 0, 0, 1, 0x05, 0, 0, 0, 0}, 0x85, 1,
        "Invalid or unsupported protocol version (66)");
    assertProtocolError(new byte[] {0x03, 0, 0, 2, 0x05, 0, 0, 0, 0}, 0x83, 2,
        "Invalid or unsupported protocol version (3)");
    try (Socket s = new Socket("127.0.0.1", proxy.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(new byte[] {0x02, 0, 7, 0x05, 0, 0, 0, 0});
      DataInputStream in = new DataInputStream(s.getInputStream());
      assertEquals(0x82, in.readUnsignedByte(), "v2 is answered with a v2 (8-byte) header");
      assertEquals(0, in.readUnsignedByte());
      assertEquals(7, in.readUnsignedByte());
      assertEquals(0, in.readUnsignedByte(), "ERROR");
    }
    // a QUERY whose body is cut short: an error for that frame, then close
    try (RawCql raw = new RawCql(proxy.port()).login(CassandraProxy.USER, CassandraProxy.PASSWORD)) {
      raw.send(CqlProbe.frame(4, 9, RawCql.QUERY, new byte[] {0, 0, 0, 50, 'S'}));
      CqlProbe.Frame f = raw.read();
      assertEquals(0x000A, f.errorCode());
      assertEquals(9, f.stream());
      assertTrue(raw.closedByPeer());
    }
    // everyone else is fine
    assertNull(CqlProbe.login("127.0.0.1", proxy.port(), CassandraProxy.USER, CassandraProxy.PASSWORD,
        Duration.ofSeconds(20)));
  }

  private static void assertProtocolError(byte[] frame, int versionByte, int stream, String message) throws Exception {
    try (RawCql raw = new RawCql(proxy.port())) {
      raw.send(frame);
      CqlProbe.Frame f = raw.read();
      assertEquals(versionByte, f.version(), "version byte of the answer");
      assertEquals(0x00, f.opcode(), "ERROR");
      assertEquals(0x000A, f.errorCode(), "PROTOCOL_ERROR");
      assertEquals(stream, f.stream());
      assertTrue(f.errorMessage().contains(message), f.errorMessage());
      assertTrue(raw.closedByPeer(), "closed after a protocol error");
    }
  }

  @Test
  void shedRequestIsAnsweredOverloaded() {
    // without schema metadata: the driver's own reads must not spend the budget before the test does
    try (CqlSession s = CassandraProxy.session(proxy, "limited", "pw", "V4", null, false)) {
      OverloadedException refused = null;
      for (int i = 0; i < 2_000 && refused == null; i++) {
        try {
          s.execute(SimpleStatement.newInstance("SELECT release_version FROM system.local"));
        } catch (OverloadedException e) {
          refused = e;
        }
      }
      assertTrue(refused != null, "a 1 RU/s group must refuse within 2000 reads");
      assertTrue(refused.getMessage().contains("mproxy: rejected group=tiny reason=ru_limit"), refused.getMessage());
    }
    PromScrape m = proxy.metrics();
    assertTrue(m.sum("mproxy_shed_total", "group", "tiny", "reason", "ru_limit") >= 1, m.text());
    assertTrue(m.sum("mproxy_requests_total", "protocol", "cassandra", "group", "tiny", "outcome", "rejected") >= 1,
        m.text());
    assertTrue(m.sum("mproxy_requests_total", "protocol", "cassandra", "group", "tiny", "outcome", "ok") >= 1,
        m.text());
  }

  @Test
  void forgottenPreparedIdIsPreparedAgain() throws Exception {
    try (CqlSession direct = CqlSession.builder()
        .addContactPoint(new java.net.InetSocketAddress(node.host(), node.port()))
        .withLocalDatacenter(CassandraProxy.DATACENTER)
        .withAuthCredentials(CassandraServer.SUPERUSER, CassandraServer.SUPERUSER_PASSWORD)
        .withConfigLoader(com.datastax.oss.driver.api.core.config.DriverConfigLoader.programmaticBuilder()
            .withDuration(com.datastax.oss.driver.api.core.config.DefaultDriverOption.REQUEST_TIMEOUT,
                CassandraProxy.REQUEST_TIMEOUT).build())
        .build();
        RawCql viaProxy = new RawCql(proxy.port()).login(CassandraProxy.USER, CassandraProxy.PASSWORD)) {
      DriverThroughProxyTest.createKeyspace(direct, "unprep");
      direct.execute("DROP TABLE IF EXISTS unprep.t");
      direct.execute("CREATE TABLE unprep.t (k int PRIMARY KEY, v text)");
      direct.execute("INSERT INTO unprep.t (k, v) VALUES (1, 'one')");

      viaProxy.send(RawCql.prepare(5, "SELECT v FROM unprep.t WHERE k = ?"));
      CqlProbe.Frame prepared = viaProxy.read();
      assertEquals(RawCql.RESULT, prepared.opcode());
      byte[] id = RawCql.preparedId(prepared);

      // dropping the table makes the node forget every statement on it; the same text gets the same id
      direct.execute("DROP TABLE unprep.t");
      direct.execute("CREATE TABLE unprep.t (k int PRIMARY KEY, v text)");
      direct.execute("INSERT INTO unprep.t (k, v) VALUES (1, 'again')");
      try (RawCql toNode = new RawCql(node.port()).login(CassandraServer.SUPERUSER, CassandraServer.SUPERUSER_PASSWORD)) {
        toNode.send(RawCql.executeInt(1, id, 1));
        assertEquals(0x2500, toNode.read().errorCode(), "the node itself answers UNPREPARED");
      }

      viaProxy.send(RawCql.executeInt(6, id, 1));
      CqlProbe.Frame rows = viaProxy.read();
      assertEquals(RawCql.RESULT, rows.opcode(), "re-prepared by the proxy, not UNPREPARED");
      assertEquals(6, rows.stream());
      assertEquals(2, RawCql.resultKind(rows));
      assertTrue(new String(rows.body(), java.nio.charset.StandardCharsets.UTF_8).contains("again"));
    }
  }

  @Test
  void startupWithSnappyIsRefused() throws Exception {
    try (RawCql raw = new RawCql(proxy.port())) {
      raw.send(CqlProbe.frame(4, 1, CqlProbe.OPCODE_STARTUP,
          CqlProbe.stringMap("CQL_VERSION", "3.0.0", "COMPRESSION", "snappy")));
      CqlProbe.Frame f = raw.read();
      assertEquals(0x000A, f.errorCode());
      assertTrue(f.errorMessage().contains("Unknown compression algorithm: snappy"), f.errorMessage());
      assertTrue(raw.closedByPeer(), "the connection is closed after the refusal");
    }
  }
}
