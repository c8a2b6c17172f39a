package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.RedisServer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A group limited to N RU/s, driven about ten times past it for 5 s, is charged N×5 RU (plus
 * its burst) within 10 %, and the excess is refused with the {@code mproxy:} error; meanwhile a
 * second group on the same proxy, driven at a modest rate, is neither refused nor slowed.
 */
class RuLimiterAccuracyTest {

  private static final double LIMIT = 200;
  private static final double BURST = 20;
  private static final long FLOOD_NANOS = TimeUnit.SECONDS.toNanos(5);
  private static final int FLOOD_CONNECTIONS = 4;
  /** Per flood connection: a pipelined batch of 5 GETs every 10 ms, 500/s; 2,000/s in all. */
  private static final int FLOOD_BATCH = 5;
  private static final long FLOOD_BATCH_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
  private static final long BASELINE_NANOS = TimeUnit.SECONDS.toNanos(2);
  /** The neighbour's modest, paced rate. */
  private static final long NEIGHBOUR_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address())
        .withCluster("pool: { min_idle: 2, max_size: 8 }")
        .withGroup("metered", "{ ru_per_sec: " + LIMIT + ", burst: " + BURST + ", on_exhausted: reject }")
        .withGroup("neighbour", "{ ru_per_sec: 1000000, burst: 1000000, on_exhausted: reject }")
        .withTenant("{ match: { application: metered }, group: metered }")
        .withTenant("{ match: { application: neighbour }, group: neighbour }"));
    redis.cli("SET", "small", "v");
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  /** What one driver connection saw. */
  record Tally(long ok, long refused, long[] latenciesNanos) {
  }

  @Test
  void limitedGroupIsChargedItsLimitAndTheNeighbourIsNotSlowed() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    try {
      // Baseline: the neighbour alone.
      Tally baseline = threads.submit(() -> neighbour(BASELINE_NANOS)).get(30, TimeUnit.SECONDS);

      PromScrape before = proxy.metrics();
      double statusBefore = proxy.groupStatus("metered").path("ru_total").asDouble();
      long start = System.nanoTime();
      List<Future<Tally>> flood = new ArrayList<>();
      for (int i = 0; i < FLOOD_CONNECTIONS; i++) {
        flood.add(threads.submit(() -> flood(start + FLOOD_NANOS)));
      }
      Future<Tally> neighbourDuringFlood = threads.submit(() -> neighbour(FLOOD_NANOS));
      long admitted = 0;
      long refusedSum = 0;
      for (Future<Tally> f : flood) {
        Tally t = f.get(30, TimeUnit.SECONDS);
        admitted += t.ok();
        refusedSum += t.refused();
      }
      long ok = admitted;
      long refused = refusedSum;
      // every flood reply has been read: every admitted request has completed and settled
      double elapsedSec = (System.nanoTime() - start) / 1e9;
      Tally during = neighbourDuringFlood.get(30, TimeUnit.SECONDS);
      PromScrape after = proxy.metrics();
      double statusAfter = proxy.groupStatus("metered").path("ru_total").asDouble();

      // The measure: mproxy_ru_total, the RU settled by completed requests (bytes and exact
      // latency). /api/status ru_total also counts admission estimates and latency ticks of
      // requests still in flight, which is right for a live view but not for a total; once every
      // request has completed, as here, the two should agree (checked below).
      double charged = after.sum("mproxy_ru_total", "group", "metered")
          - before.sum("mproxy_ru_total", "group", "metered");
      // The bucket starts full (the group was idle), then refills at LIMIT for the window.
      double allowed = BURST + LIMIT * elapsedSec;
      double tolerance = 0.10 * LIMIT * elapsedSec;
      String summary = String.format("charged %.1f RU in %.2f s (allowed %.1f ± %.1f); %d GETs admitted,"
          + " %d refused; /api/fingerprints: %s", charged, elapsedSec, allowed, tolerance, ok, refused,
          proxy.get("/api/fingerprints?top=3").body());
      double statusCharged = statusAfter - statusBefore;
      // Paced at one GET per 5 ms, the neighbour keeps that rate unless the proxy slows it;
      // compare with what it did alone, not with a clock.
      double rateAlone = baseline.ok() / (BASELINE_NANOS / 1e9);
      double rateDuring = during.ok() / (FLOOD_NANOS / 1e9);
      String neighbourSummary = String.format("neighbour GET/s: %.0f during the flood vs %.0f alone; median"
          + " latency %d µs vs %d µs", rateDuring, rateAlone, median(during.latenciesNanos()) / 1000,
          median(baseline.latenciesNanos()) / 1000);
      assertAll(
          () -> assertTrue(Math.abs(charged - allowed) <= tolerance, summary),
          () -> assertTrue(refused > 3 * ok, "driven well past the limit, the excess is refused: " + summary),
          () -> assertTrue(Math.abs(statusCharged - charged) <= Math.max(1.0, 0.02 * charged),
              "/api/status ru_total moved by " + statusCharged + ", mproxy_ru_total by " + charged),
          () -> assertEquals(0, baseline.refused(), "the neighbour is never refused (baseline)"),
          () -> assertEquals(0, during.refused(), "the neighbour is never refused during the flood"),
          () -> assertEquals(0, proxy.groupStatus("neighbour").path("rejected").asLong()),
          () -> assertTrue(rateDuring >= 0.8 * rateAlone, neighbourSummary));
    } finally {
      threads.shutdownNow();
    }
  }

  /** Pipelined batches of GETs until {@code endNanos}; every reply is either the value or a refusal. */
  private static Tally flood(long endNanos) throws Exception {
    long ok = 0;
    long refused = 0;
    try (RespConnection c = proxy.connect()) {
      assertEquals("OK", c.call("CLIENT", "SETNAME", "metered"));
      long next = System.nanoTime();
      while (System.nanoTime() < endNanos) {
        for (int i = 0; i < FLOOD_BATCH; i++) {
          c.write("GET", "small");
        }
        c.flush();
        for (Object reply : c.read(FLOOD_BATCH)) {
          if (reply instanceof RespError e) {
            assertTrue(e.startsWith("mproxy: rejected group=metered reason=ru_limit retry_after_ms="),
                "refusal text: " + e.message());
            refused++;
          } else {
            assertEquals("v", reply);
            ok++;
          }
        }
        next += FLOOD_BATCH_PERIOD_NANOS;
        parkUntil(next);
      }
    }
    return new Tally(ok, refused, new long[0]);
  }

  /** One GET every 5 ms (catching up when late) for {@code durationNanos}. */
  private static Tally neighbour(long durationNanos) throws Exception {
    long ok = 0;
    long refused = 0;
    List<Long> latencies = new ArrayList<>();
    try (RespConnection c = proxy.connect()) {
      assertEquals("OK", c.call("CLIENT", "SETNAME", "neighbour"));
      long start = System.nanoTime();
      long end = start + durationNanos;
      long next = start;
      while (System.nanoTime() < end) {
        long sent = System.nanoTime();
        Object reply = c.call("GET", "small");
        latencies.add(System.nanoTime() - sent);
        if (reply instanceof RespError) {
          refused++;
        } else {
          assertEquals("v", reply);
          ok++;
        }
        next += NEIGHBOUR_PERIOD_NANOS;
        parkUntil(next);
      }
    }
    return new Tally(ok, refused, latencies.stream().mapToLong(Long::longValue).toArray());
  }

  private static void parkUntil(long deadlineNanos) {
    long left;
    while ((left = deadlineNanos - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
    }
  }

  private static long median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted.length == 0 ? 0 : sorted[sorted.length / 2];
  }
}
