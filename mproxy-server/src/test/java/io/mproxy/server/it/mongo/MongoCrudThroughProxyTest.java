package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.InsertOneModel;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.UpdateOneModel;
import com.mongodb.client.model.Updates;
import com.mongodb.bulk.BulkWriteResult;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.MongoServer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official sync driver through the proxy in front of mongo-java-server: CRUD, a cursor
 * whose 10,000 documents come in batches of 100 (99 getMores), aggregation and bulk writes,
 * each checked against what the backend holds when read directly.
 */
class MongoCrudThroughProxyTest {

  private static MongoServer mongo;
  private static ProxyFixture proxy;
  private static MongoClient client;
  private static MongoClient direct;

  @BeforeAll
  static void start() throws Exception {
    mongo = MongoServer.start();
    proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address()).render(), MongoProxyConfig.LISTENER);
    client = MongoClients.through(proxy.port(), "crud-test");
    direct = MongoClients.direct(mongo.connectionString());
  }

  @AfterAll
  static void stop() {
    try (MongoClient c = client; MongoClient d = direct; ProxyFixture p = proxy; MongoServer m = mongo) {
      // closes in reverse order: server last
    }
  }

  private static MongoCollection<Document> viaProxy(String name) {
    return client.getDatabase("app").getCollection(name);
  }

  private static MongoCollection<Document> viaBackend(String name) {
    return direct.getDatabase("app").getCollection(name);
  }

  @Test
  void insertFindUpdateDelete() {
    MongoCollection<Document> users = viaProxy("users");
    users.insertOne(new Document("_id", 1).append("name", "ada").append("age", 36));
    users.insertMany(List.of(new Document("_id", 2).append("name", "bob").append("age", 25),
        new Document("_id", 3).append("name", "cy").append("age", 41)));

    assertEquals("ada", users.find(eq("_id", 1)).first().getString("name"));
    assertEquals(2, users.countDocuments(gte("age", 30)));
    assertEquals(3, viaBackend("users").countDocuments(), "the backend holds what was written through the proxy");

    assertEquals(1, users.updateOne(eq("name", "bob"), Updates.set("age", 26)).getModifiedCount());
    assertEquals(26, viaBackend("users").find(eq("_id", 2)).first().getInteger("age"));

    Document replaced = users.findOneAndUpdate(eq("_id", 3), Updates.inc("age", 1));
    assertEquals(41, replaced.getInteger("age"));

    assertEquals(1, users.deleteOne(eq("_id", 1)).getDeletedCount());
    assertNull(viaBackend("users").find(eq("_id", 1)).first());
    List<Object> names = users.distinct("name", String.class).into(new ArrayList<>()).stream()
        .map(Object.class::cast).toList();
    assertEquals(List.of("bob", "cy"), names.stream().sorted().toList());
  }

  @Test
  void cursorOverTenThousandDocumentsInBatchesOfHundred() {
    MongoCollection<Document> big = viaBackend("big");
    List<Document> docs = IntStream.range(0, 10_000)
        .mapToObj(i -> new Document("_id", i).append("pad", "x".repeat(20))).toList();
    big.insertMany(docs);

    long getMoresBefore = getMores();
    int seen = 0;
    int expected = 0;
    try (MongoCursor<Document> it = viaProxy("big").find().sort(Sorts.ascending("_id")).batchSize(100).iterator()) {
      while (it.hasNext()) {
        assertEquals(expected++, it.next().getInteger("_id"));
        seen++;
      }
    }
    assertEquals(10_000, seen);
    long getMores = getMores() - getMoresBefore;
    assertTrue(getMores >= 99, "the documents came in batches of 100 through getMore; getMores counted: " + getMores);
  }

  @Test
  void aggregation() {
    MongoCollection<Document> orders = viaProxy("orders");
    orders.insertMany(List.of(
        new Document("cust", "a").append("amount", 10),
        new Document("cust", "a").append("amount", 5),
        new Document("cust", "b").append("amount", 7)));
    List<Document> totals = orders.aggregate(List.of(
        Aggregates.group("$cust", Accumulators.sum("total", "$amount")),
        Aggregates.sort(Sorts.ascending("_id")))).into(new ArrayList<>());
    assertEquals(2, totals.size());
    assertEquals("a", totals.get(0).getString("_id"));
    assertEquals(15, totals.get(0).getInteger("total"));
    assertEquals(7, totals.get(1).getInteger("total"));
  }

  @Test
  void bulkWrites() {
    MongoCollection<Document> items = viaProxy("items");
    items.insertOne(new Document("_id", "keep").append("n", 1));
    items.insertOne(new Document("_id", "drop").append("n", 1));
    BulkWriteResult r = items.bulkWrite(List.of(
        new InsertOneModel<>(new Document("_id", "new").append("n", 1)),
        new UpdateOneModel<>(eq("_id", "keep"), Updates.inc("n", 1)),
        new DeleteOneModel<>(eq("_id", "drop"))));
    assertEquals(1, r.getInsertedCount());
    assertEquals(1, r.getModifiedCount());
    assertEquals(1, r.getDeletedCount());
    assertEquals(2, viaBackend("items").find(eq("_id", "keep")).first().getInteger("n"));
    assertNotNull(viaBackend("items").find(eq("_id", "new")).first());
    assertNull(viaBackend("items").find(eq("_id", "drop")).first());
  }

  private static long getMores() {
    return MongoProxyAdmin.fingerprintCount(proxy, "getMore big");
  }
}
