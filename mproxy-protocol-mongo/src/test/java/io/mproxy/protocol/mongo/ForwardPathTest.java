package io.mproxy.protocol.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.testing.LoopbackListener;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward path end to end: the official driver, the proxy's MongoDB listener and cluster on
 * real loopback sockets, mongo-java-server behind it. On one event loop a client and its leased
 * backend connection share the thread; on two, some replies are handed across loops.
 */
class ForwardPathTest {

  private MongoServer mongo;

  @BeforeEach
  void startMongo() {
    mongo = MongoServer.start();
  }

  @AfterEach
  void stopMongo() {
    if (mongo != null) {
      mongo.close();
    }
  }

  /**
   * A forwarded point find reads the clock twice: once for the client's read (arrival,
   * admission, lease, dispatch) and once for the backend's read (release, completion). It used
   * to read it six times.
   */
  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void aForwardedFindReadsTheClockOncePerRead(int loops) throws Exception {
    try (LoopbackListener proxy = MiniMongoProxy.start(mongo.host(), mongo.port(), loops, 2);
        MongoClient client = MiniMongoProxy.client(proxy, 1)) {
      MongoCollection<Document> points = client.getDatabase("fp").getCollection("points");
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        docs.add(new Document("_id", i).append("v", "value-" + i));
      }
      points.insertMany(docs);
      for (int i = 0; i < 20; i++) {
        assertNotNull(points.find(eq("_id", i)).first());
      }
      // a request completes just after its reply is written: wait for the last one to be counted
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(21, proxy.completed(Outcome.OK)));
      int finds = 200;
      long readingsBefore = proxy.clockReadings();
      for (int i = 0; i < finds; i++) {
        Document d = points.find(eq("_id", i % 50)).first();
        assertNotNull(d, "find " + i);
        assertEquals("value-" + (i % 50), d.getString("v"));
      }
      Eventually.assertWithin(Duration.ofSeconds(10),
          () -> assertEquals(21 + finds, proxy.completed(Outcome.OK), "finds completed OK"));
      long readings = proxy.clockReadings() - readingsBefore;
      double perFind = (double) readings / finds;
      assertTrue(perFind <= 2.05, "clock readings per forwarded find: " + perFind + " (expected: 2)");
    }
  }

  /**
   * Eight driver threads over a pool of two backend connections: leases wait for each other and
   * cross loops. Every find gets its own document, every insert makes exactly one.
   */
  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void manyClientsOverTwoBackendConnectionsGetTheirOwnReplies(int loops) throws Exception {
    int threads = 8;
    int opsEach = 100;
    try (LoopbackListener proxy = MiniMongoProxy.start(mongo.host(), mongo.port(), loops, 2);
        MongoClient client = MiniMongoProxy.client(proxy, threads)) {
      MongoCollection<Document> points = client.getDatabase("fp").getCollection("points");
      MongoCollection<Document> inserts = client.getDatabase("fp").getCollection("inserts");
      List<Document> docs = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        docs.add(new Document("_id", i).append("v", "value-" + i));
      }
      points.insertMany(docs);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          done.add(pool.submit(() -> {
            for (int i = 0; i < opsEach; i++) {
              int key = (id * 31 + i * 7) % 100;
              Document d = points.find(eq("_id", key)).first();
              assertNotNull(d, "thread " + id + " find " + i);
              assertEquals("value-" + key, d.getString("v"), "thread " + id + " find " + i);
              inserts.insertOne(new Document("_id", id + "-" + i).append("t", id));
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(120, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals((long) threads * opsEach, inserts.countDocuments());
      for (int t = 0; t < threads; t++) {
        assertEquals(opsEach, inserts.countDocuments(eq("t", t)), "inserts of thread " + t);
      }
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(1 + 2L * threads * opsEach + 1 + threads,
          proxy.completed(Outcome.OK), "operations completed OK"));
      assertEquals(0, proxy.completed(Outcome.ERROR), "operations ended in error");
    }
  }
}
