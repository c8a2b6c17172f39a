package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.client.MongoClient;
import io.mproxy.core.auth.ScramClient;
import io.mproxy.core.auth.ScramMechanism;
import io.mproxy.core.auth.SecureRandomSource;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code speculativeAuthenticate} in the hello: the driver puts its {@code saslStart} there, the
 * proxy answers the first SCRAM step in the hello's reply, and the driver goes straight to
 * {@code saslContinue}. A relay between driver and proxy records what each driver connection sent,
 * so the saved round trip is visible. A client that does not speculate still runs the full
 * exchange, and a wrong password fails with AuthenticationFailed (18) either way.
 */
class MongoSpeculativeAuthTest {

  private static MongoServer mongo;
  private static ProxyFixture proxy;
  private static CommandRecordingRelay relay;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .listener("auth: { users: [ { name: app, password: app-pass } ] }")
        .render(), MongoProxyConfig.LISTENER);
    relay = new CommandRecordingRelay(proxy.port());
  }

  @AfterAll
  static void stop() throws Exception {
    try (CommandRecordingRelay r = relay; ProxyFixture p = proxy; MongoServer m = mongo) {
      // relay, proxy, then the server
    }
  }

  /** The commands of the one relayed connection that ran {@code command}. */
  private static List<String> connectionThatRan(String command, int relayedBefore) {
    List<List<String>> all = relay.commands();
    List<List<String>> ran = all.subList(relayedBefore, all.size()).stream()
        .filter(c -> c.contains(command)).toList();
    assertEquals(1, ran.size(), "one driver connection ran " + command + ": " + all);
    return ran.get(0);
  }

  private static void assertSpeculated(List<String> commands) {
    assertTrue(commands.get(0).equals("isMaster") || commands.get(0).equals("hello"),
        "the connection opens with the handshake: " + commands);
    assertTrue(commands.contains("saslContinue"), "it finished the SCRAM exchange: " + commands);
    assertFalse(commands.contains("saslStart"), "its saslStart went inside the hello: " + commands);
  }

  @Test
  void scramSha256DriverSkipsSaslStart() {
    int before = relay.commands().size();
    try (MongoClient c = MongoClients.through(relay.port(),
        MongoCredential.createScramSha256Credential("app", "admin", "app-pass".toCharArray()))) {
      c.getDatabase("spec").getCollection("c").insertOne(new Document("_id", "sha256"));
    }
    assertSpeculated(connectionThatRan("insert", before));
  }

  @Test
  void scramSha1DriverSkipsSaslStart() {
    int before = relay.commands().size();
    try (MongoClient c = MongoClients.through(relay.port(),
        MongoCredential.createScramSha1Credential("app", "admin", "app-pass".toCharArray()))) {
      c.getDatabase("spec").getCollection("c").insertOne(new Document("_id", "sha1"));
    }
    assertSpeculated(connectionThatRan("insert", before));
  }

  @Test
  void negotiatedMechanismSpeculatesToo() {
    int before = relay.commands().size();
    try (MongoClient c = MongoClients.through(relay.port(),
        MongoCredential.createCredential("app", "admin", "app-pass".toCharArray()))) {
      c.getDatabase("spec").getCollection("c").countDocuments();
    }
    assertSpeculated(connectionThatRan("aggregate", before));
  }

  @Test
  void aWrongPasswordStillFailsWithAuthenticationFailed() {
    int before = relay.commands().size();
    try (MongoClient c = MongoClients.through(relay.port(),
        MongoCredential.createScramSha256Credential("app", "admin", "wrong".toCharArray()))) {
      MongoSecurityException e = assertThrows(MongoSecurityException.class,
          () -> c.getDatabase("spec").getCollection("c").find().first());
      assertEquals(18, ((MongoCommandException) e.getCause()).getErrorCode());
    }
    List<List<String>> tried = relay.commands().subList(before, relay.commands().size()).stream()
        .filter(c -> c.contains("saslContinue")).toList();
    assertFalse(tried.isEmpty(), "the driver got as far as saslContinue: " + relay.commands());
    tried.forEach(c -> assertFalse(c.contains("saslStart"), "it failed at saslContinue, after speculating: " + c));
  }

  @Test
  void aClientThatDoesNotSpeculateRunsTheWholeExchange() throws Exception {
    try (MongoWire w = new MongoWire(proxy.port())) {
      w.send(MongoWire.opMsg(1, 0, "{hello: 1, $db: 'admin'}"));
      BsonDocument hello = w.read();
      assertFalse(hello.containsKey("speculativeAuthenticate"), hello.toJson());

      ScramClient scram = ScramClient.create(ScramMechanism.SHA_256, "app", "app-pass", new SecureRandomSource());
      w.send(raw(2, new BsonDocument("saslStart", new BsonInt32(1))
          .append("mechanism", new BsonString("SCRAM-SHA-256"))
          .append("payload", payload(scram.clientFirst()))
          .append("options", new BsonDocument("skipEmptyExchange", BsonBoolean.TRUE))
          .append("$db", new BsonString("admin"))));
      BsonDocument first = w.read();
      assertEquals(1.0, first.getNumber("ok").doubleValue(), first.toJson());
      finish(w, scram, first);
    }
  }

  @Test
  void aRawSpeculativeHelloIsAnsweredWithTheServerFirstMessage() throws Exception {
    try (MongoWire w = new MongoWire(proxy.port())) {
      ScramClient scram = ScramClient.create(ScramMechanism.SHA_256, "app", "app-pass", new SecureRandomSource());
      w.send(raw(1, new BsonDocument("hello", new BsonInt32(1))
          .append("speculativeAuthenticate", new BsonDocument("saslStart", new BsonInt32(1))
              .append("mechanism", new BsonString("SCRAM-SHA-256"))
              .append("payload", payload(scram.clientFirst()))
              .append("options", new BsonDocument("skipEmptyExchange", BsonBoolean.TRUE))
              .append("db", new BsonString("admin")))
          .append("$db", new BsonString("admin"))));
      BsonDocument hello = w.read();
      assertEquals(1.0, hello.getNumber("ok").doubleValue());
      BsonDocument first = hello.getDocument("speculativeAuthenticate");
      assertFalse(first.getBoolean("done").getValue());
      finish(w, scram, first);
    }
  }

  @Test
  void aSpeculativeMechanismTheProxyLacksIsLeftOutOfTheHello() throws Exception {
    try (MongoWire w = new MongoWire(proxy.port())) {
      w.send(raw(1, new BsonDocument("hello", new BsonInt32(1))
          .append("speculativeAuthenticate", new BsonDocument("saslStart", new BsonInt32(1))
              .append("mechanism", new BsonString("PLAIN"))
              .append("payload", payload("\0app\0app-pass"))
              .append("db", new BsonString("$external")))
          .append("$db", new BsonString("admin"))));
      BsonDocument hello = w.read();
      assertEquals(1.0, hello.getNumber("ok").doubleValue());
      assertFalse(hello.containsKey("speculativeAuthenticate"), hello.toJson());
      w.send(MongoWire.opMsg(2, 0, "{find: 'c', $db: 'spec'}"));
      assertEquals(13, w.read().getInt32("code").getValue(), "not logged in");
    }
  }

  /** saslContinue with the client-final message, checks the server's signature, then a find works. */
  private static void finish(MongoWire w, ScramClient scram, BsonDocument serverFirst) throws Exception {
    String clientFinal = scram.clientFinal(text(serverFirst));
    w.send(raw(3, new BsonDocument("saslContinue", new BsonInt32(1))
        .append("conversationId", serverFirst.get("conversationId"))
        .append("payload", payload(clientFinal))
        .append("$db", new BsonString("admin"))));
    BsonDocument fin = w.read();
    assertEquals(1.0, fin.getNumber("ok").doubleValue(), fin.toJson());
    assertTrue(fin.getBoolean("done").getValue(), "skipEmptyExchange: done with the server-final message");
    scram.verifyServerFinal(text(fin));
    w.send(MongoWire.opMsg(4, 0, "{find: 'c', $db: 'spec'}"));
    BsonDocument found = w.read();
    assertEquals(1.0, found.getNumber("ok").doubleValue(), "logged in: " + found.toJson());
  }

  private static byte[] raw(int requestId, BsonDocument body) {
    return MongoWire.opMsg(requestId, 0, body.toJson());
  }

  private static BsonBinary payload(String text) {
    return new BsonBinary(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(BsonDocument reply) {
    return new String(reply.getBinary("payload").getData(), StandardCharsets.UTF_8);
  }
}
