package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import io.mproxy.testkit.TestCertificates;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS from the proxy to MongoDB backends (cluster {@code tls: { mode, ca }}). mongo-java-server has
 * no TLS, so the TLS backend is a second mproxy whose listener serves only TLS in front of it:
 * plain driver → proxy under test → (TLS) → inner proxy → mongo-java-server. Plain-text driver
 * clients work in {@code require} and in {@code verify-full} with the backend's CA;
 * {@code verify-full} with another CA never reaches the backend and the client gets the proxy's
 * error; {@code prefer} is refused at configuration.
 */
class MongoBackendTlsTest {

  private static TestCertificates backendCert;
  private static TestCertificates otherCa;
  private static MongoServer mongo;
  private static ProxyFixture inner;

  @BeforeAll
  static void start() throws Exception {
    backendCert = TestCertificates.create();
    otherCa = TestCertificates.create();
    mongo = MongoServer.start();
    inner = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("tls: { cert: " + backendCert.certificate() + ", key: " + backendCert.privateKey() + " }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (TestCertificates a = backendCert; TestCertificates b = otherCa; MongoServer m = mongo; ProxyFixture p = inner) {
      // inner proxy first, then the backend and the certificate files
    }
  }

  private static ProxyFixture outer(String tls) throws Exception {
    return ProxyFixture.startYaml(MongoProxyConfig.forBackend("127.0.0.1:" + inner.port())
        .cluster("tls: " + tls)
        .render(), MongoProxyConfig.LISTENER);
  }

  private static long onBackend(String id) {
    try (MongoClient direct = MongoClients.direct(mongo.connectionString())) {
      return direct.getDatabase("btls").getCollection("c").countDocuments(new Document("_id", id));
    }
  }

  @Test
  void theTestBackendServesOnlyTls() throws Exception {
    String seen = MongoTlsTest.plainHello(inner.port());
    assertFalse(seen.contains("maxWireVersion"), "the TLS backend must not answer plain text, got: " + seen);
  }

  @Test
  void requireModeCarriesPlainClientsOverTls() throws Exception {
    try (ProxyFixture outer = outer("{ mode: require }")) {
      insertAndFind(outer, "btls-require");
    }
  }

  @Test
  void verifyFullWithTheBackendsCaWorks() throws Exception {
    try (ProxyFixture outer = outer("{ mode: verify-full, ca: " + backendCert.certificate() + " }")) {
      insertAndFind(outer, "btls-verify");
    }
  }

  @Test
  void verifyFullWithAnotherCaLeavesTheBackendDown() throws Exception {
    try (ProxyFixture outer = outer("{ mode: verify-full, ca: " + otherCa.certificate() + " }");
        MongoClient c = MongoClients.through(outer.port())) {
      MongoCommandException e = assertThrows(MongoCommandException.class,
          () -> c.getDatabase("btls").getCollection("c").insertOne(new Document("_id", "btls-wrong-ca")));
      assertEquals(133, e.getErrorCode(), e.toString());
      assertTrue(e.getErrorMessage().startsWith("mproxy: error group=default reason=backend_unavailable"),
          "the proxy's own error, not a client timeout: " + e.getErrorMessage());
      assertTrue(e.getErrorLabels().isEmpty());
    }
    assertEquals(0, onBackend("btls-wrong-ca"), "nothing reached the backend");
  }

  @Test
  void disableModeCannotTalkToATlsBackend() throws Exception {
    try (ProxyFixture outer = outer("{ mode: disable }");
        MongoClient c = MongoClients.through(outer.port())) {
      MongoCommandException e = assertThrows(MongoCommandException.class,
          () -> c.getDatabase("btls").getCollection("c").insertOne(new Document("_id", "btls-plain")));
      assertEquals(133, e.getErrorCode(), e.toString());
    }
    assertEquals(0, onBackend("btls-plain"), "a plain connection to the TLS backend carried nothing");
  }

  @Test
  void preferIsRefusedForMongo() {
    Exception e = assertThrows(Exception.class, () -> outer("{ mode: prefer }").close());
    assertTrue(String.valueOf(e.getMessage()).contains("prefer"), "names the refused mode: " + e);
  }

  private static void insertAndFind(ProxyFixture outer, String id) {
    try (MongoClient c = MongoClients.through(outer.port())) {
      MongoCollection<Document> coll = c.getDatabase("btls").getCollection("c");
      coll.insertOne(new Document("_id", id).append("v", "through-tls"));
      assertEquals("through-tls", coll.find(new Document("_id", id)).first().getString("v"));
    }
    assertEquals(1, onBackend(id), "the document is on the backend behind the TLS listener");
  }
}
