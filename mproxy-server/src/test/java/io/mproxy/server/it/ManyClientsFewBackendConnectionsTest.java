package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 500 client connections open at once, all busy, multiplexed over a pool of at most 4 backend
 * connections. Raw RESP sockets keep the client side cheap; every client speaks RESP2, so one
 * pool (one connection variant) serves them all.
 */
class ManyClientsFewBackendConnectionsTest {

  private static final int CLIENTS = 500;
  private static final int ROUNDS = 3;
  private static final int POOL_MAX = 4;
  private static final int THREADS = 25;

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("pool: { min_idle: 1, max_size: " + POOL_MAX + ", acquire_timeout_ms: 10000 }")
        // the product's default health settings (the fixture probes every 200 ms for outage tests)
        .withCluster("health: { interval_ms: 2000, timeout_ms: 1000 }"));
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void fiveHundredConcurrentClientsOverFourBackendConnections() throws Exception {
    List<RespConnection> clients = new ArrayList<>(CLIENTS);
    ExecutorService workers = Executors.newFixedThreadPool(THREADS);
    AtomicBoolean sampling = new AtomicBoolean(true);
    AtomicInteger maxBackendClients = new AtomicInteger();
    AtomicInteger maxPoolConnections = new AtomicInteger();
    ConcurrentLinkedQueue<String> overLimitSnapshots = new ConcurrentLinkedQueue<>();
    Thread sampler = new Thread(() -> {
      while (sampling.get()) {
        List<String> backendClients = RedisDirect.otherClients(redis);
        if (backendClients.size() > maxBackendClients.get()) {
          maxBackendClients.set(backendClients.size());
          if (backendClients.size() > POOL_MAX) {
            overLimitSnapshots.add(String.join("\n", backendClients));
          }
        }
        JsonNode stats = proxy.backendStatus().path("pool");
        int open = stats.path("idle").asInt() + stats.path("active").asInt() + stats.path("opening").asInt();
        maxPoolConnections.accumulateAndGet(open, Math::max);
      }
    }, "backend-sampler");
    try {
      for (int i = 0; i < CLIENTS; i++) {
        clients.add(proxy.connect());
      }
      Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(CLIENTS,
          proxy.status().path("listeners").path(0).path("client_connections").asInt(),
          "all clients are connected at once"));
      sampler.start();

      ConcurrentLinkedQueue<Long> sharedAnswers = new ConcurrentLinkedQueue<>();
      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> work = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        int first = t;
        work.add(workers.submit(() -> {
          go.await();
          // each thread drives its slice of clients round-robin, so all are mid-conversation together
          for (int round = 1; round <= ROUNDS; round++) {
            for (int i = first; i < CLIENTS; i += THREADS) {
              RespConnection c = clients.get(i);
              c.write("INCR", "shared:counter");
              c.write("INCR", "own:" + i);
              c.flush();
            }
            for (int i = first; i < CLIENTS; i += THREADS) {
              RespConnection c = clients.get(i);
              Object shared = c.read();
              Object own = c.read();
              assertTrue(shared instanceof Long,
                  "client " + i + " INCR shared:counter, round " + round + ": " + shared);
              assertEquals((long) round, own, "client " + i + "'s own counter");
              sharedAnswers.add((Long) shared);
            }
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : work) {
        f.get(60, TimeUnit.SECONDS);
      }
      sampling.set(false);
      sampler.join(10_000);

      int total = CLIENTS * ROUNDS;
      Set<Long> distinct = new HashSet<>(sharedAnswers);
      assertEquals(total, sharedAnswers.size());
      assertEquals(total, distinct.size(), "every INCR of the shared counter got its own answer");
      assertEquals(1L, distinct.stream().mapToLong(Long::longValue).min().orElseThrow());
      assertEquals(total, distinct.stream().mapToLong(Long::longValue).max().orElseThrow());
      assertEquals(Integer.toString(total), redis.cli("GET", "shared:counter"));
      assertEquals(Integer.toString(ROUNDS), redis.cli("GET", "own:" + (CLIENTS - 1)));
    } finally {
      sampling.set(false);
      sampler.join(10_000);
      workers.shutdownNow();
      for (RespConnection c : clients) {
        c.close();
      }
    }
    assertTrue(maxBackendClients.get() >= 1, "the sampler saw the pool");
    assertTrue(maxBackendClients.get() <= POOL_MAX, "redis-server saw at most " + POOL_MAX
        + " connections from the proxy (its pool is the only client), but " + maxBackendClients.get()
        + ":\n" + String.join("\n---\n", overLimitSnapshots));
    assertTrue(maxPoolConnections.get() <= POOL_MAX, "/api/status pool connections peaked at "
        + maxPoolConnections.get());
    List<String> finalClients = RedisDirect.otherClients(redis);
    assertTrue(finalClients.size() <= POOL_MAX, "after the run: " + finalClients);
  }
}
