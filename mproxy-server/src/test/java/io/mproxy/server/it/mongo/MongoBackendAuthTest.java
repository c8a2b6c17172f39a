package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The proxy logging in to its backends with the cluster's credentials. mongo-java-server has no
 * SCRAM, so the backend here is a second mproxy that terminates SCRAM in front of it: the
 * driver talks to the first proxy without credentials, the first proxy authenticates to the
 * second with SCRAM-SHA-256 or SCRAM-SHA-1, and a wrong cluster password keeps the backend down
 * with a refusal the client can read.
 */
class MongoBackendAuthTest {

  private static MongoServer mongo;
  private static ProxyFixture inner;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    inner = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("auth: { users: [ { name: pool, password: 'p00l-secret' } ] }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = inner; MongoServer m = mongo) {
      // inner proxy first
    }
  }

  private static ProxyFixture outer(String mechanism, String password) throws Exception {
    return ProxyFixture.startYaml(MongoProxyConfig.forBackend("127.0.0.1:" + inner.port())
        .cluster("credentials: { user: pool, password: '" + password + "' }")
        .cluster("auth_mechanism: " + mechanism)
        .render(), MongoProxyConfig.LISTENER);
  }

  @Test
  void scramSha256ToTheBackend() throws Exception {
    try (ProxyFixture outer = outer("SCRAM-SHA-256", "p00l-secret");
        MongoClient c = MongoClients.through(outer.port())) {
      c.getDatabase("chain").getCollection("c").insertOne(new Document("_id", "via-two-proxies-256"));
      assertEquals(1, c.getDatabase("chain").getCollection("c").countDocuments(new Document("_id", "via-two-proxies-256")));
    }
  }

  @Test
  void scramSha1ToTheBackend() throws Exception {
    try (ProxyFixture outer = outer("SCRAM-SHA-1", "p00l-secret");
        MongoClient c = MongoClients.through(outer.port())) {
      c.getDatabase("chain").getCollection("c").insertOne(new Document("_id", "via-two-proxies-1"));
      assertEquals(1, c.getDatabase("chain").getCollection("c").countDocuments(new Document("_id", "via-two-proxies-1")));
    }
  }

  @Test
  void wrongClusterPasswordLeavesNoUsableBackend() throws Exception {
    try (ProxyFixture outer = outer("SCRAM-SHA-256", "wrong");
        MongoClient c = MongoClients.through(outer.port())) {
      MongoCommandException e = assertThrows(MongoCommandException.class,
          () -> c.getDatabase("chain").getCollection("c").find().first());
      assertEquals(133, e.getErrorCode());
      assertTrue(e.getErrorMessage().startsWith("mproxy: error group=default reason=backend_unavailable"),
          e.getErrorMessage());
      assertTrue(e.getErrorLabels().isEmpty());
    }
  }
}
