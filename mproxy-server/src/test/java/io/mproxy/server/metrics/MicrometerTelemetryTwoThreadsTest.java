package io.mproxy.server.metrics;

import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.request.Outcome;
import java.lang.ref.Reference;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The values a scrape exposes for a known sequence of requests recorded on two threads at once,
 * over a label set both threads record and one of each thread's own: request counts per outcome, RU per kind, and
 * the duration histogram's buckets, count and sum, all exactly what the sequence implies.
 */
class MicrometerTelemetryTwoThreadsTest {

  private static final long[] DURATIONS = {50_000, 300_000, 1_500_000, 20_000_000, 7_000_000_000L};
  private static final int EACH = 1_000_000;
  private static final int CHUNK = 2_000;

  /** The {@code i}-th request of a thread: its duration. */
  private static long duration(int i) {
    return DURATIONS[i % DURATIONS.length];
  }

  private static Outcome outcome(int i) {
    return i % 10 == 0 ? Outcome.ERROR : i % 25 == 1 ? Outcome.TIMEOUT : Outcome.OK;
  }

  @Test
  void twoThreadsRecordingAKnownSequenceExposeExactlyItsValues() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(registry);
    CountDownLatch start = new CountDownLatch(1);
    // both threads start every chunk of the sequence together, so their records overlap as much
    // as the host lets them (the values asserted do not depend on it)
    CyclicBarrier chunk = new CyclicBarrier(2);
    // both threads record group "shared" on l1/redis; each also its own group, thread 0 on
    // l1/redis and thread 1 on l2/postgres
    Thread[] threads = new Thread[2];
    for (int t = 0; t < 2; t++) {
      String listener = t == 0 ? "l1" : "l2";
      String protocol = t == 0 ? "redis" : "postgres";
      String own = "own" + t;
      threads[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < EACH; i++) {
          if (i % CHUNK == 0) {
            try {
              chunk.await(60, TimeUnit.SECONDS);
            } catch (Exception e) {
              return;
            }
          }
          boolean shared = i % 2 == 0;
          String group = shared ? "shared" : own;
          telemetry.requestCompleted(shared ? "l1" : listener, shared ? "redis" : protocol, group, outcome(i),
              duration(i));
          telemetry.ruCharged("shared", i % 3 == 0, 0.25);
          telemetry.ruCharged(group, i % 4 == 0, 0.5);
        }
      });
      threads[t].start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(60_000);
      assertFalse(t.isAlive(), "a recording thread did not finish");
    }
    String s = registry.scrape();

    long[] outcomes = new long[Outcome.values().length];
    long[] outcomesOwn = new long[Outcome.values().length];
    long[] buckets = new long[MicrometerTelemetry.LATENCY_BUCKETS.length];
    long[] bucketsOwn = new long[buckets.length];
    long sum = 0;
    long sumOwn = 0;
    double sharedRead = 0;
    double sharedWrite = 0;
    double ownRead = 0;
    double ownWrite = 0;
    for (int i = 0; i < EACH; i++) {
      boolean shared = i % 2 == 0;
      (shared ? outcomes : outcomesOwn)[outcome(i).ordinal()]++;
      long d = duration(i);
      for (int b = 0; b < buckets.length; b++) {
        if (d <= MicrometerTelemetry.LATENCY_BUCKETS[b].toNanos()) {
          (shared ? buckets : bucketsOwn)[b]++;
        }
      }
      if (shared) {
        sum += d;
      } else {
        sumOwn += d;
      }
      if (i % 3 == 0) {
        sharedWrite += 0.25;
      } else {
        sharedRead += 0.25;
      }
      if (shared == (i % 4 == 0)) {
        // a write of "shared" (i % 4 == 0 is always even) or a read of the thread's own group
        if (shared) {
          sharedWrite += 0.5;
        } else {
          ownRead += 0.5;
        }
      } else if (shared) {
        sharedRead += 0.5;
      } else {
        ownWrite += 0.5;
      }
    }
    for (int t = 0; t < 2; t++) {
      String listener = t == 0 ? "l1" : "l2";
      String protocol = t == 0 ? "redis" : "postgres";
      for (Outcome o : Outcome.values()) {
        assertSample(s, "mproxy_requests_total{group=\"own" + t + "\",listener=\"" + listener + "\",outcome=\""
            + o.label() + "\",protocol=\"" + protocol + "\"} " + (double) outcomesOwn[o.ordinal()]);
      }
      assertHistogram(s, "own" + t, listener, bucketsOwn, EACH / 2, sumOwn);
      assertSample(s, "mproxy_ru_total{group=\"own" + t + "\",kind=\"read\"} " + ownRead);
      assertSample(s, "mproxy_ru_total{group=\"own" + t + "\",kind=\"write\"} " + ownWrite);
    }
    for (Outcome o : Outcome.values()) {
      assertSample(s, "mproxy_requests_total{group=\"shared\",listener=\"l1\",outcome=\"" + o.label()
          + "\",protocol=\"redis\"} " + (double) (2 * outcomes[o.ordinal()]));
    }
    long[] both = new long[buckets.length];
    for (int b = 0; b < both.length; b++) {
      both[b] = 2 * buckets[b];
    }
    assertHistogram(s, "shared", "l1", both, EACH, 2 * sum);
    assertSample(s, "mproxy_ru_total{group=\"shared\",kind=\"read\"} " + 2 * sharedRead);
    assertSample(s, "mproxy_ru_total{group=\"shared\",kind=\"write\"} " + 2 * sharedWrite);
    // the counters hold their meters weakly: the telemetry (which holds them) must outlive the scrape
    Reference.reachabilityFence(telemetry);
  }

  private static void assertHistogram(String s, String group, String listener, long[] cumulative, long count,
      long sumNanos) {
    String labels = "{group=\"" + group + "\",listener=\"" + listener + "\"";
    for (int b = 0; b < cumulative.length; b++) {
      double le = MicrometerTelemetry.LATENCY_BUCKETS[b].toNanos() / 1e9;
      assertSample(s, "mproxy_request_duration_seconds_bucket" + labels + ",le=\"" + le + "\"} " + cumulative[b]);
    }
    assertSample(s, "mproxy_request_duration_seconds_bucket" + labels + ",le=\"+Inf\"} " + count);
    assertSample(s, "mproxy_request_duration_seconds_count" + labels + "} " + count);
    String prefix = "mproxy_request_duration_seconds_sum" + labels + "} ";
    String line = s.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse(null);
    if (line == null) {
      fail("no " + prefix + " in the scrape");
    }
    assertEquals(sumNanos / 1e9, Double.parseDouble(line.substring(prefix.length())), 0.0, line);
    assertSample(s, "mproxy_request_duration_seconds_max" + labels + "} 7.0");
  }
}
