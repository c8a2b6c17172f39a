package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import io.mproxy.testkit.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS between MongoDB drivers and the proxy (listener {@code tls: { cert, key }}, implicit TLS as
 * a driver's {@code tls=true} speaks it), with mongodb-driver-sync trusting only the test
 * certificate and checking the host name: insert and find reach mongo-java-server behind the
 * proxy; a plain-text client is closed without an answer and its driver gives up at server
 * selection; a refused connection is told so inside TLS; a certificate rotated in place is served
 * to new handshakes while a connection made before carries on.
 */
class MongoTlsTest {

  private static TestCertificates certs;
  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.create();
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (TestCertificates c = certs; MongoServer m = mongo; ProxyFixture p = proxy) {
      // closed in reverse order: proxy, backend, certificate files
    }
  }

  @Test
  void driverOverTlsInsertsAndFindsThroughTheProxy() {
    try (MongoClient c = MongoClients.overTls(proxy.port(), certs.certificate(), 10)) {
      MongoCollection<Document> coll = c.getDatabase("tlsdb").getCollection("c");
      coll.insertOne(new Document("_id", "over-tls").append("v", 42));
      assertEquals(42, coll.find(new Document("_id", "over-tls")).first().getInteger("v"));
    }
    try (MongoClient direct = MongoClients.direct(mongo.connectionString())) {
      assertEquals(1, direct.getDatabase("tlsdb").getCollection("c").countDocuments(new Document("_id", "over-tls")),
          "the document reached the plain backend");
    }
  }

  @Test
  void plainTextDriverGivesUpAtServerSelection() {
    try (MongoClient plain = com.mongodb.client.MongoClients.create(MongoClients.settings("mongodb://127.0.0.1:" + proxy.port())
        .applyToClusterSettings(c -> c.serverSelectionTimeout(3, java.util.concurrent.TimeUnit.SECONDS)).build())) {
      assertThrows(MongoTimeoutException.class,
          () -> plain.getDatabase("tlsdb").getCollection("c").insertOne(new Document("_id", "plain")));
    }
    try (MongoClient direct = MongoClients.direct(mongo.connectionString())) {
      assertEquals(0, direct.getDatabase("tlsdb").getCollection("c").countDocuments(new Document("_id", "plain")));
    }
  }

  @Test
  void plainTextHelloIsClosedWithoutAnAnswer() throws Exception {
    String seen = plainHello(proxy.port());
    assertFalse(seen.contains("maxWireVersion") || seen.contains("isdbgrid"),
        "a plain-text hello must not be answered, got: " + seen);
  }

  @Test
  void aRefusedConnectionIsToldInsideTls() throws Exception {
    String yaml = MongoProxyConfig.forBackend(mongo.address())
        .listener("tls: { cert: " + certs.certificate() + ", key: " + certs.privateKey() + " }")
        .listener("max_client_connections: 1")
        .listener("handshake_timeout_ms: 60000")
        .render();
    try (ProxyFixture full = ProxyFixture.startYaml(yaml, MongoProxyConfig.LISTENER);
        Socket holder = new Socket()) {
      holder.connect(new InetSocketAddress("127.0.0.1", full.port()), 5000);
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(1, clientConnections(full)));
      try (MongoClient c = MongoClients.overTls(full.port(), certs.certificate(), 3)) {
        MongoTimeoutException e = assertThrows(MongoTimeoutException.class,
            () -> c.getDatabase("admin").runCommand(new Document("ping", 1)));
        assertTrue(String.valueOf(e.getMessage()).contains("mproxy: too many client connections"),
            "the driver read the refusal through TLS: " + e.getMessage());
      }
    }
  }

  @Test
  void rotatedCertificateReachesNewHandshakes() throws Exception {
    try (TestCertificates second = TestCertificates.create()) {
      Path dir = Files.createTempDirectory("mproxy-mongo-rotation-");
      Path cert = Files.copy(certs.certificate(), dir.resolve("server.crt"));
      Path key = Files.copy(certs.privateKey(), dir.resolve("server.key"));
      String yaml = MongoProxyConfig.forBackend(mongo.address())
          .listener("tls: { cert: " + cert + ", key: " + key + " }")
          .render().replace("watch_config: false", "watch_config: true");
      try (ProxyFixture rotating = ProxyFixture.startYaml(yaml, MongoProxyConfig.LISTENER);
          MongoClient before = MongoClients.overTls(rotating.port(), certs.certificate(), 10)) {
        MongoCollection<Document> coll = before.getDatabase("tlsdb").getCollection("rot");
        coll.insertOne(new Document("_id", "before"));

        Files.copy(second.privateKey(), key, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(second.certificate(), cert, StandardCopyOption.REPLACE_EXISTING);

        Eventually.assertWithin(Duration.ofSeconds(30), () -> {
          try (MongoClient fresh = MongoClients.overTls(rotating.port(), second.certificate(), 2)) {
            fresh.getDatabase("admin").runCommand(new Document("ping", 1));
          }
        });
        try (MongoClient old = MongoClients.overTls(rotating.port(), certs.certificate(), 3)) {
          assertThrows(MongoTimeoutException.class, () -> old.getDatabase("admin").runCommand(new Document("ping", 1)),
              "the old certificate is no longer served");
        }
        coll.insertOne(new Document("_id", "after"));
        assertEquals(2, coll.countDocuments(), "the connection made before the rotation carries on");
      } finally {
        Files.deleteIfExists(cert);
        Files.deleteIfExists(key);
        Files.deleteIfExists(dir);
      }
    }
  }

  private static int clientConnections(ProxyFixture p) {
    for (var l : p.status().path("listeners")) {
      if (MongoProxyConfig.LISTENER.equals(l.path("name").asText())) {
        return l.path("client_connections").asInt(-1);
      }
    }
    throw new AssertionError("no listener in /api/status");
  }

  /**
   * Sends a plain OP_MSG hello and reads until the proxy closes the connection; fails if it
   * neither answers nor closes within 10 s. Returns what was read (a TLS alert at most).
   */
  static String plainHello(int port) throws Exception {
    byte[] doc = MongoReplies.encode(new BsonDocument("hello", new BsonInt32(1)).append("$db", new BsonString("admin")));
    ByteBuffer msg = ByteBuffer.allocate(21 + doc.length).order(ByteOrder.LITTLE_ENDIAN);
    msg.putInt(21 + doc.length).putInt(7).putInt(0).putInt(2013).putInt(0).put((byte) 0).put(doc);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(msg.array());
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream read = new ByteArrayOutputStream();
      byte[] buf = new byte[512];
      try {
        for (int n; (n = in.read(buf)) != -1; ) {
          read.write(buf, 0, n);
          if (read.size() > 64 * 1024) {
            throw new AssertionError("the proxy kept sending to a plain-text client");
          }
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the proxy neither closed nor answered a plain-text client within 10 s", e);
      } catch (SocketException reset) {
        // reset by the proxy: closed, as required
      }
      return read.toString(StandardCharsets.ISO_8859_1);
    }
  }
}
