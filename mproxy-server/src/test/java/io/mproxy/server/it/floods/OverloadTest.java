package io.mproxy.server.it.floods;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.mproxy.server.it.ProxyFixture;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Ten seconds of far more requests than the proxy admits (64 Redis clients sending GET as fast as
 * they are answered, against a group allowing a few per second): the admission queues stay within
 * their configured bounds at every sample of {@code /api/status}, the admin API answers every
 * sample, and every request gets an answer (served, or refused with {@code -mproxy: ...}), none
 * is lost. The 60 s version with heap figures is {@code bench/floods.sh overload}.
 */
class OverloadTest {

  private static final int CLIENTS = 64;
  private static final long SECONDS = 10;
  private static final int GATE_MAX_QUEUED = 50;
  private static final int GROUP_MAX_QUEUED = 20;

  @Test
  void tenSecondsOfOverloadKeepQueuesBoundedAndTheAdminApiAnswering() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ProxyFixture proxy = ProxyFixture.startYaml("""
            server: { watch_config: false, shutdown_grace_ms: 2000 }
            admin: { bind: 127.0.0.1:0 }
            listeners:
              - { name: r, protocol: redis, bind: 127.0.0.1:0, cluster: c }
            clusters:
              c:
                protocol: redis
                backends: [ { address: %s, role: primary } ]
                pool: { min_idle: 2, max_size: 4 }
            resource_groups:
              default: { ru_per_sec: 200, burst: 200, on_exhausted: queue, max_queue_ms: 200, max_queued: %d }
            codel: { max_inflight: 4, max_queued: %d, max_wait_ms: 500 }
            """.formatted(redis.address(), GROUP_MAX_QUEUED, GATE_MAX_QUEUED), "r")) {
      redis.cli("SET", "k", "v");
      proxy.status(); // the admin client's first request pays for its own start-up, not the proxy's
      AtomicLong ok = new AtomicLong();
      AtomicLong refused = new AtomicLong();
      List<String> odd = java.util.Collections.synchronizedList(new ArrayList<>());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
      ExecutorService load = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        done.add(load.submit(() -> {
          try (RawSocket s = RawSocket.open(proxy.port())) {
            while (System.nanoTime() < deadline) {
              s.write("GET k\r\n");
              String line = s.readLine();
              if ("$1".equals(line)) {
                assertEquals("v", s.readLine());
                ok.incrementAndGet();
              } else if (line != null && line.startsWith("-mproxy: ")) {
                refused.incrementAndGet();
              } else {
                odd.add(String.valueOf(line));
                return null;
              }
            }
          }
          return null;
        }));
      }
      int samples = 0;
      long maxAdminNanos = 0;
      int maxGate = 0;
      int maxGroup = 0;
      try {
        while (System.nanoTime() < deadline) {
          long t0 = System.nanoTime();
          JsonNode status = proxy.status();
          maxAdminNanos = Math.max(maxAdminNanos, System.nanoTime() - t0);
          samples++;
          int gate = status.path("priority_gate").path("queued").asInt(-1);
          int group = -1;
          for (JsonNode g : status.path("resource_groups")) {
            if ("default".equals(g.path("name").asText())) {
              group = g.path("queued").asInt(-1);
            }
          }
          assertTrue(gate >= 0 && gate <= GATE_MAX_QUEUED, "gate queued " + gate);
          assertTrue(group >= 0 && group <= GROUP_MAX_QUEUED, "group queued " + group);
          maxGate = Math.max(maxGate, gate);
          maxGroup = Math.max(maxGroup, group);
          Thread.sleep(100);
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        load.shutdownNow();
      }
      System.out.printf("[floods] overload %d s: %d ok, %d refused (%.1fx), %d admin samples, max %.0f ms,"
          + " max gate queued %d, max group queued %d%n", SECONDS, ok.get(), refused.get(),
          (ok.get() + refused.get()) / (double) Math.max(1, ok.get()), samples, maxAdminNanos / 1e6, maxGate, maxGroup);
      assertTrue(odd.isEmpty(), "answers that are neither a value nor a refusal: " + odd);
      assertTrue(ok.get() > 0, "some requests were served");
      assertTrue(ok.get() + refused.get() >= 10 * ok.get(),
          "offered at least 10x what was admitted: " + ok + " ok, " + refused + " refused");
      // generous: the 2-core build machine is shared; an admin port starved by the proxy would miss these
      assertTrue(samples >= 3, "the admin API answered only " + samples + " samples in " + SECONDS + " s");
      assertTrue(maxAdminNanos < TimeUnit.SECONDS.toNanos(10), "admin took " + maxAdminNanos / 1e6 + " ms");
      double counted = proxy.metrics().sum("mproxy_requests_total", "listener", "r");
      assertEquals(ok.get() + refused.get(), counted, 0.0, "every request counted once");
      Eventually.assertWithin(Duration.ofSeconds(10), () -> {
        try (RawSocket s = RawSocket.open(proxy.port())) {
          s.write("GET k\r\n");
          assertEquals("$1", s.readLine());
        }
      });
    }
  }
}
