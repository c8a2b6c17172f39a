package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import java.util.List;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Users configured with {@code scram_verifier} (stored SCRAM keys, no password in the file) log
 * in through the official driver with the mechanisms they have keys for. The verifiers were made
 * with the Python recipe in docs/mongo.md, so the documented way to produce one is tested too.
 */
class MongoScramVerifierTest {

  /** For password {@code both-pass}. */
  private static final String BOTH = "SCRAM-SHA-256$15000:k+h5jl1V0VyNKP6ZXi4g1dPoNktMpg4j4QbcBg==$5V5FYyG2X0S3paZpt+8IwAHscL6t99U31D16fJRrbTE=:JRYvp+kgtkVZEnd2oF1FtceWFraJcYfn513BTGPF2ko="
      + " SCRAM-SHA-1$10000:DVjtTDQeiYdCUTowacrJjw==$cglrYFMI+ZqpiyKLUbmQ38v/iiU=:U+O6EnN028acWAAg42V6/Mb9NH0=";
  /** For password {@code v1-pass}: SCRAM-SHA-1 only. */
  private static final String V1 = "SCRAM-SHA-1$10000:QyQAYB0mnACDJv9Q9lUwGQ==$8lKYNz3NGZ2ot4flYT2XRTAyewA=:EMAFCrD+Pn/Xvrz5JChVApC5qaY=";
  /** For password {@code v256-pass}: SCRAM-SHA-256 only. */
  private static final String V256 = "SCRAM-SHA-256$15000:g8zuD3CzilqoRzQGGlX4gOp7beTTNmGbG7yCDQ==$qlfFjAtimc/bP6XR1IiWi7H8UgADdaMbRbYtKXI4UVw=:1Tx8SK52/lFfzNp24WHQ//eRK0CqFGT8JTPHZWmOANQ=";

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("auth:")
        .listener("  users:")
        .listener("    - { name: both, scram_verifier: \"" + BOTH + "\" }")
        .listener("    - { name: v1, scram_verifier: \"" + V1 + "\" }")
        .listener("    - { name: v256, scram_verifier: \"" + V256 + "\" }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy first
    }
  }

  private static void works(MongoCredential credential) {
    try (MongoClient c = MongoClients.through(proxy.port(), credential)) {
      c.getDatabase("ver").getCollection("c").insertOne(new Document("by", credential.getUserName()));
      assertEquals(1.0, c.getDatabase("ver").runCommand(new Document("ping", 1)).get("ok", Number.class).doubleValue());
    }
  }

  private static int refusedWith(MongoCredential credential) {
    try (MongoClient c = MongoClients.through(proxy.port(), credential)) {
      MongoSecurityException e = assertThrows(MongoSecurityException.class,
          () -> c.getDatabase("ver").getCollection("c").find().first());
      return ((MongoCommandException) e.getCause()).getErrorCode();
    }
  }

  @Test
  void aUserWithBothVerifiersLogsInWithEitherMechanism() {
    works(MongoCredential.createScramSha256Credential("both", "admin", "both-pass".toCharArray()));
    works(MongoCredential.createScramSha1Credential("both", "admin", "both-pass".toCharArray()));
    works(MongoCredential.createCredential("both", "admin", "both-pass".toCharArray()));
  }

  @Test
  void aUserWithOneVerifierLogsInWithThatMechanismAndNegotiatesIt() {
    works(MongoCredential.createScramSha1Credential("v1", "admin", "v1-pass".toCharArray()));
    works(MongoCredential.createScramSha256Credential("v256", "admin", "v256-pass".toCharArray()));
    // the driver speculates SCRAM-SHA-256, is told the user has none, and picks SCRAM-SHA-1 from
    // saslSupportedMechs
    works(MongoCredential.createCredential("v1", "admin", "v1-pass".toCharArray()));
    works(MongoCredential.createCredential("v256", "admin", "v256-pass".toCharArray()));
  }

  @Test
  void aMechanismTheUserHasNoVerifierForIsUnavailable() {
    assertEquals(334, refusedWith(MongoCredential.createScramSha256Credential("v1", "admin", "v1-pass".toCharArray())));
    assertEquals(334, refusedWith(MongoCredential.createScramSha1Credential("v256", "admin", "v256-pass".toCharArray())));
  }

  @Test
  void aWrongPasswordFailsAsWithAPlainPassword() {
    assertEquals(18, refusedWith(MongoCredential.createScramSha1Credential("v1", "admin", "v1-wrong".toCharArray())));
    assertEquals(18, refusedWith(MongoCredential.createScramSha256Credential("both", "admin", "nope".toCharArray())));
  }

  @Test
  void saslSupportedMechsListsWhatTheUserHas() throws Exception {
    assertEquals(List.of("SCRAM-SHA-1"), mechs("admin.v1"));
    assertEquals(List.of("SCRAM-SHA-256"), mechs("admin.v256"));
    assertEquals(List.of("SCRAM-SHA-256", "SCRAM-SHA-1"), mechs("admin.both"));
    assertEquals(List.of(), mechs("admin.nobody"));
  }

  private static List<String> mechs(String user) throws Exception {
    try (MongoWire w = new MongoWire(proxy.port())) {
      w.send(MongoWire.opMsg(1, 0, new BsonDocument("hello", new org.bson.BsonInt32(1))
          .append("saslSupportedMechs", new BsonString(user)).append("$db", new BsonString("admin")).toJson()));
      BsonDocument hello = w.read();
      if (!hello.containsKey("saslSupportedMechs")) {
        return List.of();
      }
      return hello.getArray("saslSupportedMechs").stream().map(BsonValue::asString).map(BsonString::getValue).toList();
    }
  }
}
