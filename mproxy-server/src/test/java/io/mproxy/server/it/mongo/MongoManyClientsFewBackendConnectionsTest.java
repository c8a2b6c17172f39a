package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.Document;
import org.junit.jupiter.api.Test;

/**
 * 200 driver connections busy at once over a backend pool of at most 8: the backend's own count
 * of its client connections never passes 8, and every operation is answered correctly.
 */
class MongoManyClientsFewBackendConnectionsTest {

  private static final int CLIENTS = 200;
  private static final int OPS_PER_CLIENT = 10;
  private static final int POOL_MAX = 8;

  @Test
  void twoHundredConcurrentClientsOverEightBackendConnections() throws Exception {
    try (MongoServer mongo = MongoServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
            .cluster("pool: { min_idle: 1, max_size: " + POOL_MAX + ", acquire_timeout_ms: 30000 }")
            .render(), MongoProxyConfig.LISTENER);
        MongoClient client = com.mongodb.client.MongoClients.create(
            MongoClients.settings("mongodb://127.0.0.1:" + proxy.port())
                .applyToConnectionPoolSettings(p -> p.minSize(CLIENTS).maxSize(CLIENTS)
                    .maxConnecting(CLIENTS).maxWaitTime(60, TimeUnit.SECONDS))
                .build())) {
      MongoCollection<Document> coll = client.getDatabase("many").getCollection("c");
      coll.insertOne(new Document("_id", "warm-up"));
      Eventually.assertWithin(Duration.ofSeconds(30), () -> assertTrue(
          proxy.status().path("listeners").path(0).path("client_connections").asInt() >= CLIENTS,
          "the driver opened its " + CLIENTS + " connections to the proxy"));

      AtomicBoolean sampling = new AtomicBoolean(true);
      AtomicInteger maxBackend = new AtomicInteger();
      AtomicInteger maxPool = new AtomicInteger();
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          maxBackend.accumulateAndGet(mongo.currentConnections(), Math::max);
          maxPool.accumulateAndGet(MongoProxyAdmin.poolConnections(proxy), Math::max);
        }
      }, "mongo-backend-sampler");
      ExecutorService workers = Executors.newFixedThreadPool(CLIENTS);
      try {
        sampler.start();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < CLIENTS; t++) {
          int id = t;
          work.add(workers.submit(() -> {
            go.await();
            for (int i = 0; i < OPS_PER_CLIENT; i++) {
              String key = id + ":" + i;
              coll.insertOne(new Document("_id", key).append("client", id));
              Document back = coll.find(eq("_id", key)).first();
              assertEquals(id, back.getInteger("client"), "client " + id + " reads its own write " + i);
            }
            return null;
          }));
        }
        go.countDown();
        for (Future<?> f : work) {
          f.get(120, TimeUnit.SECONDS);
        }
      } finally {
        sampling.set(false);
        sampler.join(10_000);
        workers.shutdownNow();
      }
      assertEquals(CLIENTS * OPS_PER_CLIENT + 1, coll.countDocuments());
      assertTrue(maxBackend.get() >= 1, "the sampler saw the backend's connections");
      assertTrue(maxBackend.get() <= POOL_MAX, "mongo-java-server saw at most " + POOL_MAX
          + " connections (the proxy's pool is its only client), but " + maxBackend.get());
      assertTrue(maxPool.get() <= POOL_MAX, "/api/status pool connections peaked at " + maxPool.get());
      assertTrue(proxy.status().path("listeners").path(0).path("client_connections").asInt() >= CLIENTS,
          "the clients stayed connected");
    }
  }
}
