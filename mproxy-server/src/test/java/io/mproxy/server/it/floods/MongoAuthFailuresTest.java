package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.mproxy.protocol.mongo.codec.MongoReplies;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Password guessing against a MongoDB listener that terminates SCRAM, through mongodb-driver-sync
 * (whose SCRAM starts speculatively inside the hello) and raw {@code saslStart} messages: after
 * {@code auth_max_failures} wrong passwords from one address even the right password is refused
 * with AuthenticationFailed (18) and the limiter's message, once per attempt in
 * {@code mproxy_auth_failures_total{result="blocked"}}, while another source address is not
 * blocked; once {@code auth_block_ms} has passed the right password gets in again.
 */
class MongoAuthFailuresTest {

  private static final String PASSWORD = "m0ngo-flood-pw";
  private static final long BLOCK_MS = 5_000;

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    String yaml = """
        server: { watch_config: false, shutdown_grace_ms: 2000 }
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: mguarded
            protocol: mongodb
            bind: 127.0.0.1:0
            cluster: m
            auth_max_failures: 3
            auth_failure_window_ms: 600000
            auth_block_ms: %d
            auth: { mode: terminate, users: [ { name: app, password: %s } ] }
        clusters:
          m:
            protocol: mongodb
            backends: [ { address: %s, role: primary } ]
            health: { interval_ms: 500, timeout_ms: 2000, retry_base_ms: 100, retry_max_ms: 500 }
        """.formatted(BLOCK_MS, PASSWORD, mongo.address());
    proxy = ProxyFixture.startYaml(yaml, "mguarded");
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy first
    }
  }

  private static MongoClient client(String password) {
    return MongoClients.create(MongoClientSettings.builder()
        .applyConnectionString(new ConnectionString("mongodb://127.0.0.1:" + proxy.port()))
        .applyToClusterSettings(c -> c.serverSelectionTimeout(10, TimeUnit.SECONDS))
        .applyToSocketSettings(s -> s.connectTimeout(5, TimeUnit.SECONDS).readTimeout(30, TimeUnit.SECONDS))
        .credential(MongoCredential.createScramSha256Credential("app", "admin", password.toCharArray()))
        .retryWrites(false)
        .retryReads(false)
        .build());
  }

  /** Runs a ping; returns the authentication error the driver raised, or null when it got in. */
  private static MongoCommandException login(String password) {
    try (MongoClient c = client(password)) {
      c.getDatabase("admin").runCommand(new Document("ping", 1));
      c.getDatabase("flood").getCollection("c").find().first();
      return null;
    } catch (MongoSecurityException e) {
      if (e.getCause() instanceof MongoCommandException cmd) {
        return cmd;
      }
      throw new AssertionError("an authentication error without the server's answer", e);
    }
  }

  @Test
  void wrongPasswordsBlockTheAddressUntilTheBlockEnds() throws Exception {
    for (int i = 0; i < 3; i++) {
      MongoCommandException e = login("wrong-" + i);
      assertTrue(e != null, "attempt " + i + " with a wrong password got in");
      assertEquals(18, e.getErrorCode(), "attempt " + i + ": " + e);
      assertEquals("Authentication failed.", e.getErrorMessage(), "attempt " + i);
    }
    assertEquals(3, FloodMetrics.auth(proxy, "mguarded", "failed"), 0.0);
    assertEquals(0, FloodMetrics.auth(proxy, "mguarded", "blocked"), 0.0);

    // the driver's speculative saslStart is refused at its proof: one refusal for one attempt
    MongoCommandException blocked = login(PASSWORD);
    if (blocked == null) {
      fail("the right password got in from a blocked address");
    }
    assertEquals(18, blocked.getErrorCode(), blocked.toString());
    assertEquals("AuthenticationFailed", blocked.getErrorCodeName());
    assertTrue(blocked.getErrorMessage().startsWith("mproxy: too many failed logins from 127.0.0.1; refused for "),
        blocked.getErrorMessage());
    assertEquals(1, FloodMetrics.auth(proxy, "mguarded", "blocked"), 0.0);

    // an ordinary saslStart from the blocked address is refused at once; another address is not
    BsonDocument refused = saslStart(null);
    assertEquals(18, refused.getInt32("code").getValue(), refused.toJson());
    assertTrue(refused.getString("errmsg").getValue().startsWith("mproxy: too many failed logins from 127.0.0.1"),
        refused.toJson());
    assertEquals(2, FloodMetrics.auth(proxy, "mguarded", "blocked"), 0.0);
    BsonDocument other = saslStart("127.0.0.2");
    assertEquals(1.0, other.getNumber("ok").doubleValue(), "another source address is not blocked: " + other.toJson());
    assertTrue(other.containsKey("payload"), other.toJson());
    assertEquals(3, FloodMetrics.auth(proxy, "mguarded", "failed"), 0.0, "refusals are not failures");

    Eventually.assertWithin(Duration.ofMillis(BLOCK_MS * 6), () -> {
      MongoCommandException e = login(PASSWORD);
      assertTrue(e == null, "still refused: " + e);
    });
    assertFalse(proxy.metrics().text().contains(PASSWORD), "the password is not in the metrics");
  }

  /** Sends one OP_MSG {@code saslStart} (SCRAM-SHA-256, user app) from {@code from} and returns the reply's body. */
  private static BsonDocument saslStart(String from) throws Exception {
    byte[] clientFirst = "n,,n=app,r=rawClientNonce0123456789".getBytes(StandardCharsets.US_ASCII);
    byte[] doc = MongoReplies.encode(new BsonDocument("saslStart", new BsonInt32(1))
        .append("mechanism", new BsonString("SCRAM-SHA-256"))
        .append("payload", new BsonBinary(clientFirst))
        .append("$db", new BsonString("admin")));
    ByteBuffer msg = ByteBuffer.allocate(21 + doc.length).order(ByteOrder.LITTLE_ENDIAN);
    msg.putInt(21 + doc.length).putInt(11).putInt(0).putInt(2013).putInt(0).put((byte) 0).put(doc);
    try (RawSocket s = RawSocket.open(proxy.port(), from)) {
      s.write(msg.array());
      byte[] header = s.readExactly(16);
      int length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt();
      byte[] rest = s.readExactly(length - 16);
      // flagBits (4), section kind 0 (1), then the body document
      return new org.bson.RawBsonDocument(rest, 5, rest.length - 5).decode(new org.bson.codecs.BsonDocumentCodec());
    }
  }
}
