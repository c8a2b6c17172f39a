package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.FreePort;
import io.mproxy.testkit.MongoServer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The same floods for the protocols whose server never speaks first. MongoDB (mongodb-driver-sync
 * over mongo-java-server): a refused connection answers the driver's {@code hello} with
 * IngressRequestRateLimitExceeded (462) and the driver reports it; a client trickling its
 * {@code hello} on a listener with users is closed at {@code handshake_timeout_ms} while a
 * SCRAM-authenticated client idles on. CQL (raw frames; the listener's backend is not running, as
 * neither check reaches it): a refused connection's OPTIONS is answered ERROR Overloaded on its
 * stream, and a client that never completes STARTUP is closed at the timeout.
 */
class MongoCqlFloodsTest {

  private static final long HANDSHAKE_MS = 1000;

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    String yaml = """
        server: { watch_config: false, shutdown_grace_ms: 2000 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - { name: mfull, protocol: mongodb, bind: 127.0.0.1:0, cluster: m, max_client_connections: 2 }
          - name: mlocked
            protocol: mongodb
            bind: 127.0.0.1:0
            cluster: m
            handshake_timeout_ms: %d
            auth: { mode: terminate, users: [ { name: app, password: app-secret } ] }
          - { name: cfull, protocol: cassandra, bind: 127.0.0.1:0, cluster: cass, max_client_connections: 1, handshake_timeout_ms: 60000 }
          - { name: cslow, protocol: cassandra, bind: 127.0.0.1:0, cluster: cass, handshake_timeout_ms: %d }
        clusters:
          m:
            protocol: mongodb
            backends: [ { address: %s, role: primary } ]
            health: { interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }
          cass:
            protocol: cassandra
            backends: [ { address: 127.0.0.1:%d, role: primary } ]
            pool: { mode: multiplex, min_idle: 0, max_size: 1 }
        """.formatted(HANDSHAKE_MS, HANDSHAKE_MS, mongo.address(), FreePort.loopback());
    proxy = ProxyFixture.startYaml(yaml, "mfull");
  }

  @AfterAll
  static void stop() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (mongo != null) {
      mongo.close();
    }
  }

  private static int port(String listener) {
    return proxy.daemon().server().listenerPort(listener);
  }

  private static MongoClient client(int port, MongoCredential credential) {
    MongoClientSettings.Builder b = MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + port))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(3, TimeUnit.SECONDS))
        .applyToSocketSettings(s -> s.connectTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS))
        .retryWrites(false)
        .retryReads(false);
    if (credential != null) {
      b.credential(credential);
    }
    return MongoClients.create(b.build());
  }

  /** An OP_MSG {@code { hello: 1, $db: admin }}. */
  static byte[] helloOpMsg() {
    byte[] doc = MongoReplies.encode(new BsonDocument("hello", new BsonInt32(1)).append("$db", new BsonString("admin")));
    ByteBuffer b = ByteBuffer.allocate(16 + 4 + 1 + doc.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(16 + 4 + 1 + doc.length).putInt(7).putInt(0).putInt(2013).putInt(0).put((byte) 0).put(doc);
    return b.array();
  }

  /** A CQL v4 request frame with an empty or given body. */
  static byte[] cqlFrame(int stream, int opcode, byte[] body) {
    ByteBuffer b = ByteBuffer.allocate(9 + body.length);
    b.put((byte) 0x04).put((byte) 0).putShort((short) stream).put((byte) opcode).putInt(body.length).put(body);
    return b.array();
  }

  /** STARTUP {CQL_VERSION: 3.0.0}. */
  static byte[] startupBody() {
    byte[] k = "CQL_VERSION".getBytes(StandardCharsets.US_ASCII);
    byte[] v = "3.0.0".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(2 + 2 + k.length + 2 + v.length);
    b.putShort((short) 1).putShort((short) k.length).put(k).putShort((short) v.length).put(v);
    return b.array();
  }

  @Test
  void aRefusedMongoConnectionAnswersHelloWithAnOverloadErrorTheDriverReports() throws Exception {
    List<RawSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        RawSocket s = RawSocket.open(port("mfull"));
        s.write(helloOpMsg());
        byte[] header = s.readExactly(16);
        int length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt();
        s.readExactly(length - 16);
        held.add(s);
      }
      try (RawSocket refused = RawSocket.open(port("mfull"))) {
        refused.write(helloOpMsg());
        String answer = new String(refused.readToEnd(), StandardCharsets.ISO_8859_1);
        assertTrue(answer.contains("IngressRequestRateLimitExceeded"), answer);
        assertTrue(answer.contains("mproxy: too many client connections on listener mfull"), answer);
        assertTrue(answer.contains("SystemOverloadedError"), answer);
      }
      try (MongoClient c = client(port("mfull"), null)) {
        RuntimeException e = assertThrows(RuntimeException.class,
            () -> c.getDatabase("admin").runCommand(new Document("ping", 1)));
        assertTrue(String.valueOf(e.getMessage()).contains("too many client connections"), e.toString());
      }
    } finally {
      for (RawSocket s : held) {
        s.close();
      }
    }
    assertTrue(FloodMetrics.refused(proxy, "mfull", "max_connections") >= 2);
  }

  @Test
  void aMongoSlowlorisIsClosedAtTheHandshakeTimeoutWhileAnAuthenticatedClientIdlesOn() throws Exception {
    double before = FloodMetrics.refused(proxy, "mlocked", "handshake_timeout");
    MongoCredential cred = MongoCredential.createScramSha256Credential("app", "admin", "app-secret".toCharArray());
    try (MongoClient idle = client(port("mlocked"), cred)) {
      assertEquals(1.0, ((Number) idle.getDatabase("admin").runCommand(new Document("ping", 1)).get("ok")).doubleValue());
      try (RawSocket slow = RawSocket.open(port("mlocked"))) {
        byte[] hello = helloOpMsg();
        int sent = slow.trickle(hello, 100);
        byte[] answer = slow.readToEnd();
        assertTrue(sent < hello.length, "the proxy let the slow client send all " + hello.length + " bytes");
        assertEquals(0, answer.length, "MongoDB has no unsolicited error: just the close");
      }
      assertEquals(1.0, ((Number) idle.getDatabase("admin").runCommand(new Document("ping", 1)).get("ok")).doubleValue(),
          "authenticated long before the timeout and still served");
    }
    assertEquals(before + 1, FloodMetrics.refused(proxy, "mlocked", "handshake_timeout"), 0.0);
  }

  @Test
  void aRefusedCqlConnectionAnswersOptionsWithOverloaded() throws Exception {
    try (RawSocket first = RawSocket.open(port("cfull"))) {
      first.write(cqlFrame(1, 0x05, new byte[0]));
      byte[] supported = first.readExactly(9);
      assertEquals(0x06, supported[4], "SUPPORTED to the client within the limit");
      first.readExactly(ByteBuffer.wrap(supported, 5, 4).getInt());
      try (RawSocket refused = RawSocket.open(port("cfull"))) {
        refused.write(cqlFrame(7, 0x05, new byte[0]));
        byte[] answer = refused.readToEnd();
        ByteBuffer b = ByteBuffer.wrap(answer);
        assertEquals((byte) 0x84, b.get(0), "a v4 response");
        assertEquals(7, b.getShort(2), "on the request's stream");
        assertEquals(0x00, b.get(4), "ERROR");
        assertEquals(0x1001, b.getInt(9), "Overloaded");
        String text = new String(answer, StandardCharsets.UTF_8);
        assertTrue(text.contains("mproxy: too many client connections on listener cfull"), text);
      }
    }
    assertTrue(FloodMetrics.refused(proxy, "cfull", "max_connections") >= 1);
  }

  @Test
  void aCqlClientThatNeverCompletesStartupIsClosedAtTheHandshakeTimeout() throws Exception {
    double before = FloodMetrics.refused(proxy, "cslow", "handshake_timeout");
    try (RawSocket slow = RawSocket.open(port("cslow"))) {
      byte[] startup = cqlFrame(1, 0x01, startupBody());
      int sent = slow.trickle(startup, 100);
      assertTrue(sent < startup.length, "the proxy let the slow client send all " + startup.length + " bytes");
      assertEquals(0, slow.readToEnd().length, "closed without an answer (no request to answer)");
    }
    assertEquals(before + 1, FloodMetrics.refused(proxy, "cslow", "handshake_timeout"), 0.0);
  }
}
