package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoClientSettings;
import com.mongodb.MongoExecutionTimeoutException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Sorts;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hints in the Mongo {@code comment} field through mongodb-driver-sync against mongo-java-server:
 * {@code "mproxy: timeout_ms=1"} on an aggregation over 100k documents ends it with
 * MaxTimeMSExpired (50) from the proxy, {@code "mproxy: group=batch"} moves the command to group
 * {@code batch} (so does the document form {@code {mproxy: {group: "batch"}}}), and a tenant without {@code allow_hints} has both ignored.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MongoHintsTest {

  private static MongoServer mongo;
  private static ProxyFixture proxy;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
        .group("batch", "{ ru_per_sec: 1000000, burst: 2000000, priority: low, on_exhausted: reject }")
        .tenant("{ match: { application: hinted }, group: default, allow_hints: true }")
        .tenant("{ match: { application: plain }, group: default }")
        .render(), MongoProxyConfig.LISTENER);
    try (MongoClient direct = MongoClients.direct("mongodb://" + mongo.address())) {
      MongoCollection<Document> c = direct.getDatabase("t").getCollection("big");
      List<Document> batch = new ArrayList<>();
      for (int i = 0; i < 100_000; i++) {
        batch.add(new Document("_id", i).append("k", i % 977).append("v", "value-" + i));
        if (batch.size() == 5_000) {
          c.insertMany(batch);
          batch.clear();
        }
      }
    }
  }

  @AfterAll
  static void stop() {
    try (ProxyFixture p = proxy; MongoServer m = mongo) {
      // proxy first
    }
  }

  private static final List<Bson> HEAVY = List.of(
      Aggregates.group("$k", Accumulators.sum("n", 1), Accumulators.push("vs", "$v")),
      Aggregates.sort(Sorts.descending("n")));

  @Test
  void aHintedTimeoutEndsTheCommandWithMaxTimeMsExpired() {
    try (MongoClient c = MongoClients.through(proxy.port(), "hinted")) {
      MongoCollection<Document> big = c.getDatabase("t").getCollection("big");
      // the driver turns code 50 into its own timeout exception, as for a server-side maxTimeMS
      MongoExecutionTimeoutException e = assertThrows(MongoExecutionTimeoutException.class,
          () -> big.aggregate(HEAVY).comment("mproxy: timeout_ms=1").first());
      assertEquals(50, e.getCode(), e.getMessage());
      assertTrue(e.getMessage().contains("mproxy: timeout group=default timeout_ms=1"), e.getMessage());
      assertEquals(1, big.countDocuments(new Document("_id", 5)), "the client keeps working");
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertTrue(proxy.metrics().sum("mproxy_hint_timeouts_total") >= 1));
  }

  @Test
  void aTenantWithoutAllowHintsHasItsHintIgnored() {
    // the whole aggregation runs here: 5-35 s on mongo-java-server depending on the machine's
    // load, so this client waits longer than the tests' default 30 s read timeout
    MongoClientSettings patient = MongoClients.settings("mongodb://127.0.0.1:" + proxy.port())
        .applicationName("plain")
        .applyToSocketSettings(s -> s.readTimeout(150, TimeUnit.SECONDS))
        .build();
    try (MongoClient c = com.mongodb.client.MongoClients.create(patient)) {
      Document top = c.getDatabase("t").getCollection("big").aggregate(HEAVY).comment("mproxy: timeout_ms=1").first();
      assertTrue(top != null && top.getInteger("n") > 0, "the aggregation ran to its end: " + top);
    }
    Eventually.assertWithin(Duration.ofSeconds(10),
        () -> assertTrue(proxy.metrics().sum("mproxy_hints_total", "result", "ignored") >= 1));
  }

  @Test
  void aHintedGroupMovesTheCommand() {
    double before = proxy.metrics().sum("mproxy_requests_total", "group", "batch");
    try (MongoClient c = MongoClients.through(proxy.port(), "hinted")) {
      MongoCollection<Document> big = c.getDatabase("t").getCollection("big");
      assertEquals(5, big.find(new Document("_id", 5)).comment("mproxy: group=batch priority=low").first().getInteger("_id"));
      assertEquals(5, big.find(new Document("_id", 5)).comment("just a comment").first().getInteger("_id"));
      assertEquals(5, big.find(new Document("_id", 5))
          .comment(new BsonDocument("mproxy", new BsonDocument("group", new BsonString("batch")))).first().getInteger("_id"));
    }
    Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(before + 2,
        proxy.metrics().sum("mproxy_requests_total", "group", "batch")));
  }
}
