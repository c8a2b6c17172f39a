package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SCRAM terminated at the proxy, with the official driver: SCRAM-SHA-256 and SCRAM-SHA-1 with
 * the right password get in (and are classified by user), a wrong password or an unknown user
 * is refused with AuthenticationFailed, and a client without credentials is Unauthorized. The
 * proxy talks to mongo-java-server (which has no SCRAM) without credentials.
 */
class MongoScramAuthTest {

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("auth: { users: [ { name: app, password: 'sécret pass' }, { name: report, password: r3port } ] }")
        .group("reports", "{ ru_per_sec: 100000, burst: 100000 }")
        .tenant("{ match: { user: report }, group: reports }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy first
    }
  }

  @Test
  void scramSha256WithTheRightPassword() {
    try (MongoClient c = MongoClients.through(proxy.port(),
        MongoCredential.createScramSha256Credential("app", "admin", "sécret pass".toCharArray()))) {
      c.getDatabase("authdb").getCollection("c").insertOne(new Document("_id", "sha256"));
      assertEquals(1, c.getDatabase("authdb").getCollection("c").countDocuments(new Document("_id", "sha256")));
    }
  }

  @Test
  void scramSha1WithTheRightPasswordAndClassifiedByUser() {
    double before = proxy.metrics().sum("mproxy_requests_total", "group", "reports", "outcome", "ok");
    try (MongoClient c = MongoClients.through(proxy.port(),
        MongoCredential.createScramSha1Credential("report", "admin", "r3port".toCharArray()))) {
      c.getDatabase("authdb").getCollection("c").insertOne(new Document("_id", "sha1"));
    }
    assertTrue(proxy.metrics().sum("mproxy_requests_total", "group", "reports", "outcome", "ok") > before,
        "the authenticated user's requests count in the group its tenant rule names");
  }

  @Test
  void negotiatedMechanismWithoutNamingOne() {
    try (MongoClient c = MongoClients.through(proxy.port(),
        MongoCredential.createCredential("app", "admin", "sécret pass".toCharArray()))) {
      assertEquals(1.0, c.getDatabase("admin").runCommand(new Document("ping", 1)).get("ok", Number.class).doubleValue());
      c.getDatabase("authdb").getCollection("c").find().first();
    }
  }

  @Test
  void wrongPasswordIsRefused() {
    try (MongoClient c = MongoClients.through(proxy.port(),
        MongoCredential.createScramSha256Credential("app", "admin", "wrong".toCharArray()))) {
      MongoSecurityException e = assertThrows(MongoSecurityException.class,
          () -> c.getDatabase("authdb").getCollection("c").find().first());
      MongoCommandException cause = (MongoCommandException) e.getCause();
      assertEquals(18, cause.getErrorCode());
    }
  }

  @Test
  void unknownUserIsRefusedTheSameWay() {
    try (MongoClient c = MongoClients.through(proxy.port(),
        MongoCredential.createScramSha1Credential("nobody", "admin", "x".toCharArray()))) {
      MongoSecurityException e = assertThrows(MongoSecurityException.class,
          () -> c.getDatabase("authdb").getCollection("c").find().first());
      assertEquals(18, ((MongoCommandException) e.getCause()).getErrorCode());
    }
  }

  @Test
  void noCredentialsIsUnauthorized() {
    try (MongoClient c = MongoClients.through(proxy.port())) {
      MongoCommandException e = assertThrows(MongoCommandException.class,
          () -> c.getDatabase("authdb").getCollection("c").find().first());
      assertEquals(13, e.getErrorCode());
    }
  }
}
