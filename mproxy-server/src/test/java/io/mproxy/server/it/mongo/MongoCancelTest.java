package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Aggregates;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * How the proxy stops a Mongo operation, through mongodb-driver-sync against mongo-java-server
 * (which has neither killOp nor currentOp, and cannot run a real mongod here):
 * <ul>
 *   <li>a runaway {@code cancel} rule closes the backend connection running the operation (mongod
 *       4.2+ kills the operation of a client that disconnected); the client gets Interrupted
 *       (11601) with the {@code mproxy:} message, its next command works, and the backend's
 *       connection count comes back to the pool's;</li>
 *   <li>a hinted {@code timeout_ms} reaches the backend as {@code maxTimeMS} on a read that has
 *       none, and a client's own {@code maxTimeMS} is left alone (seen by a relay between proxy
 *       and backend).</li>
 * </ul>
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MongoCancelTest {

  /** Documents of the self-join: its cost grows with their square. */
  private static final int DOCS = 3_000;
  private static final long ELAPSED_MS = 300;

  private static MongoServer mongo;
  /** The backend behind the relay: its own, so the cancel test counts only its proxy's connections. */
  private static MongoServer relayedMongo;
  private static ProxyFixture proxy;
  private static CommandRecordingRelay relay;
  private static ProxyFixture relayed;
  private static long directMs;

  /** Every document looks up every other (no index; no match): a quadratic scan in the backend. */
  private static final List<Bson> SELF_JOIN = List.of(
      Aggregates.lookup("big", "k", "never", "joined"),
      Aggregates.count("n"));

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    try (MongoClient direct = MongoClients.direct(mongo.connectionString())) {
      MongoCollection<Document> c = direct.getDatabase("t").getCollection("big");
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < DOCS; i++) {
        docs.add(new Document("_id", i).append("k", i).append("never", -1 - i));
      }
      c.insertMany(docs);
      long t0 = System.nanoTime();
      Document n = c.aggregate(SELF_JOIN).first();
      directMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      if (n == null || n.getInteger("n") != DOCS || directMs < 3 * ELAPSED_MS) {
        throw new IllegalStateException("the self-join must take well over " + ELAPSED_MS + " ms on the backend to"
            + " test a cancel; it took " + directMs + " ms and returned " + n);
      }
    }
    String runaway = "runaway:\n  rules:\n"
        + "    - { name: slow-batch, match: { group: batch }, elapsed_ms_above: " + ELAPSED_MS + ", action: cancel }\n";
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .cluster("pool: { min_idle: 1, max_size: 4 }")
        .group("batch", "{ ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }")
        .tenant("{ match: { application: batch }, group: batch }")
        .render() + runaway, MongoProxyConfig.LISTENER);
    relayedMongo = MongoServer.start();
    try (MongoClient direct = MongoClients.direct(relayedMongo.connectionString())) {
      direct.getDatabase("t").getCollection("big").insertOne(new Document("_id", 5));
    }
    relay = new CommandRecordingRelay(relayedMongo.port());
    relayed = ProxyFixture.startYaml(MongoProxyConfig.forBackend("127.0.0.1:" + relay.port())
        .tenant("{ match: { application: hinted }, group: default, allow_hints: true }")
        .tenant("{ match: { application: plain }, group: default }")
        .render(), MongoProxyConfig.LISTENER);
  }

  @AfterAll
  static void stop() throws Exception {
    try (ProxyFixture p = proxy; ProxyFixture r = relayed; CommandRecordingRelay rr = relay; MongoServer m = mongo;
        MongoServer rm = relayedMongo) {
      // proxies first, then the relay, then the backend
    }
  }

  @Test
  void aCancelRuleClosesTheBackendConnectionAndAnswersInterrupted() {
    try (MongoClient c = MongoClients.through(proxy.port(), "batch")) {
      MongoCollection<Document> big = c.getDatabase("t").getCollection("big");
      assertEquals(1, big.countDocuments(new Document("_id", 7)), "a short command is not cancelled");
      MongoCommandException e = assertThrows(MongoCommandException.class, () -> big.aggregate(SELF_JOIN).first(),
          "the self-join (" + directMs + " ms direct) is cancelled past " + ELAPSED_MS + " ms");
      assertEquals(11601, e.getErrorCode(), e.getMessage());
      assertTrue(e.getMessage().contains("mproxy: operation was interrupted group=batch reason=runaway"),
          e.getMessage());
      assertEquals(1, big.countDocuments(new Document("_id", 8)), "the same client's next command works");
    }
    assertTrue(proxy.metrics().sum("mproxy_runaway_actions_total", "rule", "slow-batch", "action", "cancel") >= 1,
        "the rule fired");
    // mongo-java-server finishes the aggregation before it sees the close (it does not kill on
    // disconnect, mongod 4.2+ does): then only the pool's own connections are left
    Eventually.assertWithin(Duration.ofSeconds(90), () -> assertEquals(MongoProxyAdmin.poolConnections(proxy),
        mongo.currentConnections(), "backend connections = the pool's: the cancelled one is gone (the self-join"
            + " took " + directMs + " ms direct)"));
  }

  @Test
  void aHintedTimeoutReachesTheBackendAsMaxTimeMs() {
    try (MongoClient hinted = MongoClients.through(relayed.port(), "hinted");
        MongoClient plain = MongoClients.through(relayed.port(), "plain")) {
      MongoCollection<Document> h = hinted.getDatabase("t").getCollection("big");
      assertEquals(5, h.find(new Document("_id", 5)).comment("mproxy: timeout_ms=4000 tag=a").first().getInteger("_id"));
      assertEquals(5, h.find(new Document("_id", 5)).comment("mproxy: timeout_ms=4000 tag=b")
          .maxTime(60_000, TimeUnit.MILLISECONDS).first().getInteger("_id"));
      assertEquals(5, plain.getDatabase("t").getCollection("big").find(new Document("_id", 5))
          .comment("mproxy: timeout_ms=4000 tag=c").first().getInteger("_id"));
    }
    BsonDocument a = sentWithComment("mproxy: timeout_ms=4000 tag=a");
    assertTrue(a.isNumber("maxTimeMS"), "the hint became maxTimeMS: " + a.toJson());
    long ms = a.getNumber("maxTimeMS").longValue();
    assertTrue(ms >= 1 && ms <= 4000, "what was left of timeout_ms at dispatch: " + ms);
    BsonDocument b = sentWithComment("mproxy: timeout_ms=4000 tag=b");
    assertEquals(60_000, b.getNumber("maxTimeMS").longValue(), "the client's own maxTimeMS stays: " + b.toJson());
    BsonDocument c = sentWithComment("mproxy: timeout_ms=4000 tag=c");
    assertFalse(c.containsKey("maxTimeMS"), "a tenant without allow_hints gets nothing added: " + c.toJson());
  }

  private static BsonDocument sentWithComment(String comment) {
    for (BsonDocument d : relay.bodies()) {
      if (d.isString("comment") && d.getString("comment").getValue().equals(comment)) {
        return d;
      }
    }
    throw new AssertionError("no command with comment '" + comment + "' reached the backend");
  }
}
