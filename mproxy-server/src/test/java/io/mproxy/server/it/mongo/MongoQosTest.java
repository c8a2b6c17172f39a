package io.mproxy.server.it.mongo;

import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import io.mproxy.core.admission.ResourceGroup;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.FreePort;
import io.mproxy.testkit.MongoServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The core's QoS applied to MongoDB, through the official sync driver: the priority gate with
 * CoDel sheds a LOW flood with the documented error while HIGH requests all succeed; a
 * {@code mode: shadow} group admits everything and counts what it would have refused; two proxy
 * nodes share one group's RU budget over gossip.
 */
class MongoQosTest {

  private static final int DOCS = 10_000;
  private static MongoServer mongo;

  @BeforeAll
  static void start() {
    mongo = MongoServer.start();
    try (MongoClient d = MongoClients.direct(mongo.connectionString())) {
      d.getDatabase("qos").getCollection("c").insertMany(IntStream.range(0, DOCS)
          .mapToObj(i -> new Document("_id", i).append("v", i)).toList());
      d.getDatabase("qos").getCollection("big").insertOne(new Document("_id", 1).append("pad", "x".repeat(9 * 1024)));
    }
  }

  @AfterAll
  static void stop() {
    mongo.close();
  }

  /** A refusal as docs/mongo.md documents it: 16500, no labels, errmsg naming group and reason. */
  private static void assertDocumentedRefusal(MongoCommandException e, String group, String reasons) {
    assertEquals(16500, e.getErrorCode(), e.getMessage());
    assertEquals("RequestRateTooLarge", e.getErrorCodeName());
    assertTrue(e.getErrorLabels().isEmpty(), "no error labels: " + e.getErrorLabels());
    assertTrue(e.getErrorMessage().matches("mproxy: rejected group=" + group + " reason=(" + reasons + ") .*"),
        e.getErrorMessage());
  }

  /**
   * One request in flight at a time through the gate; LOW is a flood of 64 full-collection scans
   * (each a few ms), HIGH one point read at a time. LOW's sojourn in the gate is about 64 scans,
   * far above the 100 ms target, so CoDel sheds it; HIGH goes first whenever a slot frees, so it
   * waits at most one scan and is never shed. The bounds hold for scans between ~2 ms and 100 ms.
   */
  @Test
  void aLowFloodIsShedWhileHighIsNot() throws Exception {
    String yaml = MongoProxyConfig.forBackend(mongo.address())
        .cluster("pool: { min_idle: 1, max_size: 4, acquire_timeout_ms: 30000 }")
        .group("checkout", "{ ru_per_sec: 1000000000, burst: 1000000000, priority: high }")
        .group("flood", "{ ru_per_sec: 1000000000, burst: 1000000000, priority: low }")
        .tenant("{ match: { application: checkout }, group: checkout }")
        .tenant("{ match: { application: flood }, group: flood }")
        .render()
        + "codel: { target_ms: 100, interval_ms: 100, max_inflight: 1, max_queued: 1000, max_wait_ms: 20000 }\n";
    try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, MongoProxyConfig.LISTENER);
        MongoClient flood = MongoClients.through(proxy.port(), "flood");
        MongoClient checkout = MongoClients.through(proxy.port(), "checkout");
        Flood load = new Flood(flood.getDatabase("qos").getCollection("c"), 64)) {
      MongoCollection<Document> high = checkout.getDatabase("qos").getCollection("c");
      int highOk = 0;
      long deadline = System.nanoTime() + 60_000_000_000L;
      while ((load.shed.isEmpty() || highOk < 100) && System.nanoTime() < deadline) {
        // any refusal of HIGH fails the test here
        assertEquals(highOk % DOCS, high.find(eq("_id", highOk % DOCS)).first().getInteger("v"));
        highOk++;
      }
      load.stop();
      assertTrue(load.otherErrors.isEmpty(), "the flood only ever got refusals: " + load.otherErrors);
      assertTrue(!load.shed.isEmpty(), "CoDel shed some of the LOW flood within 60 s (ok " + load.ok + ")");
      assertTrue(highOk >= 100, "HIGH ran 100 requests, none refused: " + highOk);
      assertDocumentedRefusal(load.shed.peek(), "flood", "codel|queue_full");
      assertTrue(load.ok.get() > 0, "the flood was slowed, not blocked");
      assertTrue(proxy.metrics().sum("mproxy_shed_total", "group", "flood") >= 1);
      assertEquals(0, proxy.metrics().sum("mproxy_shed_total", "group", "checkout"));
    }
  }

  @Test
  void aShadowGroupAdmitsEverythingAndCountsWouldReject() throws Exception {
    String yaml = MongoProxyConfig.forBackend(mongo.address())
        .group("trial", "{ ru_per_sec: 2, burst: 5, on_exhausted: reject, mode: shadow }")
        .tenant("{ match: { application: trial }, group: trial }")
        .render();
    try (ProxyFixture proxy = ProxyFixture.startYaml(yaml, MongoProxyConfig.LISTENER);
        MongoClient c = MongoClients.through(proxy.port(), "trial")) {
      MongoCollection<Document> coll = c.getDatabase("qos").getCollection("c");
      for (int i = 0; i < 60; i++) {
        assertEquals(i, coll.find(eq("_id", i)).first().getInteger("v"), "shadow mode refuses nothing");
      }
      JsonNode g = proxy.groupStatus("trial");
      assertTrue(g.path("would_reject").asLong() >= 30,
          "60 reads against a 5 RU burst would have been refused many times: " + g);
      assertEquals(0, proxy.metrics().sum("mproxy_requests_total", "group", "trial", "outcome", "rejected"));
      assertTrue(proxy.metrics().sum("mproxy_requests_total", "group", "trial", "outcome", "ok") >= 60);
    }
  }

  /**
   * Two nodes, one group of 300 RU/s shared over gossip. Only node A has clients, flooding it
   * with reads of a 9 KiB document (about 10 RU each, with the latency term off, so the cost does
   * not depend on how loaded the machine is); alone A would hold its fallback half (150); sharing,
   * A's share grows to nearly the whole limit, and what A admits stays within the fleet's limit.
   */
  @Test
  void twoNodesShareAGroupsBudget() throws Exception {
    double limit = 300;
    int[] gossip = {FreePort.loopback(), FreePort.loopback()};
    List<ProxyFixture> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        String fleet = "cluster:\n"
            + "  bind: 127.0.0.1:" + gossip[i] + "\n"
            + "  seeds: [" + (i == 0 ? "" : "127.0.0.1:" + gossip[0]) + "]\n"
            + "  expected_nodes: 2\n"
            + "  gossip_interval_ms: 200\n"
            + "  stale_after_ms: 2000\n";
        nodes.add(ProxyFixture.startYaml(MongoProxyConfig.forBackend(mongo.address())
            .cluster("ru: { w_latency: 0 }")
            .group("fleet", "{ ru_per_sec: " + (long) limit + ", burst: 60, on_exhausted: reject }")
            .tenant("{ match: { application: fleet }, group: fleet }")
            .render() + fleet, MongoProxyConfig.LISTENER));
      }
      ProxyFixture a = nodes.get(0);
      ProxyFixture b = nodes.get(1);
      Eventually.assertWithin(Duration.ofSeconds(60), () -> {
        for (ProxyFixture n : nodes) {
          JsonNode g = n.groupStatus("fleet");
          assertEquals(2, g.path("fleet_members").asInt(), g.toString());
          assertEquals("shared", g.path("share_mode").asText(), g.toString());
        }
      });
      try (MongoClient c = MongoClients.through(a.port(), "fleet");
          PointReads load = new PointReads(c.getDatabase("qos").getCollection("big"), 4)) {
        Eventually.assertWithin(Duration.ofSeconds(60), () -> {
          double shareA = a.groupStatus("fleet").path("share_ru_per_sec").asDouble();
          double shareB = b.groupStatus("fleet").path("share_ru_per_sec").asDouble();
          assertTrue(shareA >= 0.8 * limit, "A, the only node with demand, holds most of the limit: A="
              + shareA + " B=" + shareB);
          assertTrue(shareA + shareB <= 1.05 * limit, "the shares add up to the limit: A=" + shareA + " B=" + shareB);
        });
        ResourceGroup groupA = a.daemon().server().gateway().groups().get("fleet");
        double before = groupA.ruChargedTotal();
        long t0 = System.nanoTime();
        Thread.sleep(4000);
        double rate = (groupA.ruChargedTotal() - before) / ((System.nanoTime() - t0) / 1e9);
        load.stop();
        assertTrue(load.refused.get() > 0, "A's clients asked for more than the limit and were refused");
        assertTrue(load.otherErrors.isEmpty(), "only budget refusals: " + load.otherErrors);
        assertDocumentedRefusal(load.firstRefusal, "fleet", "ru_limit");
        assertTrue(rate <= 1.2 * limit, "A admitted " + rate + " RU/s: within the fleet limit " + limit);
        assertTrue(rate >= 0.6 * limit, "A admitted " + rate + " RU/s: more than its fallback half of " + limit);
      }
    } finally {
      for (ProxyFixture n : nodes) {
        n.close();
      }
    }
  }

  /** Threads running full-collection scans (a filter no document matches) until stopped. */
  private static final class Flood implements AutoCloseable {
    final AtomicLong ok = new AtomicLong();
    final ConcurrentLinkedQueue<MongoCommandException> shed = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Throwable> otherErrors = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    Flood(MongoCollection<Document> coll, int n) {
      for (int i = 0; i < n; i++) {
        Thread t = new Thread(() -> {
          while (running.get()) {
            try {
              coll.find(eq("v", -1)).first();
              ok.incrementAndGet();
            } catch (MongoCommandException e) {
              if (e.getErrorCode() == 16500) {
                shed.add(e);
              } else {
                otherErrors.add(e);
              }
            } catch (RuntimeException e) {
              if (running.get()) {
                otherErrors.add(e);
              }
            }
          }
        }, "low-flood-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(30_000);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }

  /** Threads reading one document by id as fast as they can until stopped. */
  private static final class PointReads implements AutoCloseable {
    final AtomicLong ok = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final ConcurrentLinkedQueue<Throwable> otherErrors = new ConcurrentLinkedQueue<>();
    volatile MongoCommandException firstRefusal;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();

    PointReads(MongoCollection<Document> coll, int n) {
      for (int i = 0; i < n; i++) {
        Thread t = new Thread(() -> {
          while (running.get()) {
            try {
              coll.find(eq("_id", 1)).first();
              ok.incrementAndGet();
            } catch (MongoCommandException e) {
              if (e.getErrorCode() == 16500) {
                if (refused.getAndIncrement() == 0) {
                  firstRefusal = e;
                }
              } else {
                otherErrors.add(e);
              }
            } catch (RuntimeException e) {
              if (running.get()) {
                otherErrors.add(e);
              }
            }
          }
        }, "fleet-load-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join(30_000);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }
}
