package io.mproxy.server.metrics;

import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.request.Outcome;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The per-thread request-duration histogram renders exactly what the Micrometer timer it
 * replaced rendered, and loses or double-counts nothing across threads.
 */
class RequestDurationHistogramTest {

  /** Durations across every bucket, on and around bounds, above the last bound and negative. */
  private static final long[] SAMPLES = {
      0, 1, 99_999, 100_000, 100_001, 250_000, 777_777, 1_000_000, 2_000_000, 2_500_000, 4_999_999,
      10_000_000, 33_000_000, 50_000_000, 120_000_000, 250_000_001, 500_000_000, 999_999_999,
      1_000_000_000, 2_500_000_000L, 7_000_000_000L, 10_000_000_000L, 29_000_000_000L, 60_000_000_000L,
      60_000_000_001L, 3_600_000_000_000L, -5};

  @Test
  void rendersTheSameLinesAsTheMicrometerTimerItReplaced() {
    MockClock clock = new MockClock();
    PrometheusMeterRegistry mine = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock);
    PrometheusMeterRegistry reference =
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(mine);
    Timer a = MicrometerTelemetry.latencyTimer(reference, "mproxy_request_duration",
        "Time from a request's arrival to its end", "listener", "l1", "group", "g1");
    Timer b = MicrometerTelemetry.latencyTimer(reference, "mproxy_request_duration",
        "Time from a request's arrival to its end", "listener", "l2", "group", "g2");
    for (int round = 0; round < 3; round++) {
      for (long d : SAMPLES) {
        telemetry.requestCompleted("l1", "redis", "g1", Outcome.OK, d);
        a.record(d, TimeUnit.NANOSECONDS);
      }
      telemetry.requestCompleted("l2", "postgres", "g2", Outcome.ERROR, 3_000_000L * (round + 1));
      b.record(3_000_000L * (round + 1), TimeUnit.NANOSECONDS);
      assertEquals(family(reference.scrape()), family(mine.scrape()), "round " + round);
    }
    String s = mine.scrape();
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"g1\",listener=\"l1\",le=\"1.0E-4\"} 12");
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"g1\",listener=\"l1\",le=\"60.0\"} 72");
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"g1\",listener=\"l1\"} 78");
    assertSample(s, "mproxy_request_duration_seconds_max{group=\"g1\",listener=\"l1\"} 3600.0");
  }

  @Test
  void theMaximumCoversTheLastMinuteWithRegularScrapesAndExpires() {
    MockClock clock = new MockClock();
    PrometheusMeterRegistry mine = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new PrometheusRegistry(), clock);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(mine);
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 5_000_000_000L);
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 5.0");
    for (int i = 0; i < 2; i++) {
      clock.add(20, TimeUnit.SECONDS);
      telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 1_000_000);
      assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 5.0");
    }
    clock.add(20, TimeUnit.SECONDS);
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 2_000_000);
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 0.002");
    clock.add(10, TimeUnit.MINUTES);
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 0.0");
    // Recording reads no clock: a value recorded since the previous scrape counts however long ago
    // that scrape was (the timer would have let it expire), and expires with the next rotation.
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 3_000_000);
    clock.add(10, TimeUnit.MINUTES);
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 0.003");
    clock.add(20, TimeUnit.SECONDS);
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_max{group=\"g\",listener=\"l1\"} 0.0");
    assertSample(mine.scrape(), "mproxy_request_duration_seconds_count{group=\"g\",listener=\"l1\"} 5");
  }

  @Test
  void severalThreadsRecordAndAScrapeSeesExactBucketsCountAndSum() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(registry);
    int threads = 4;
    int perThread = 20_000;
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Thread w = new Thread(() -> {
        for (int i = 0; i < perThread; i++) {
          // Three of four in le=1.0E-4 (50 µs), one in le=0.001 (700 µs).
          telemetry.requestCompleted("l1", "redis", "mt", Outcome.OK, i % 4 == 3 ? 700_000 : 50_000);
        }
      });
      workers.add(w);
      w.start();
    }
    // Scrapes while the workers record: counts only ever grow and stay consistent with their buckets.
    long last = 0;
    for (int i = 0; i < 20; i++) {
      long count = sampleValue(registry.scrape(), "mproxy_request_duration_seconds_count{group=\"mt\",listener=\"l1\"}");
      long inf = sampleValue(registry.scrape(),
          "mproxy_request_duration_seconds_bucket{group=\"mt\",listener=\"l1\",le=\"+Inf\"}");
      assertFalse(count < last, "count went down: " + last + " -> " + count);
      assertFalse(inf < count, "+Inf bucket " + inf + " below an earlier count " + count);
      last = count;
    }
    for (Thread w : workers) {
      w.join(60_000);
      assertFalse(w.isAlive(), "worker did not finish");
    }
    long n = (long) threads * perThread;
    String s = registry.scrape();
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"mt\",listener=\"l1\",le=\"1.0E-4\"} " + n * 3 / 4);
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"mt\",listener=\"l1\",le=\"2.5E-4\"} " + n * 3 / 4);
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"mt\",listener=\"l1\",le=\"0.001\"} " + n);
    assertSample(s, "mproxy_request_duration_seconds_bucket{group=\"mt\",listener=\"l1\",le=\"+Inf\"} " + n);
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"mt\",listener=\"l1\"} " + n);
    // 60000 x 50 µs + 20000 x 700 µs = 3 s + 14 s.
    assertSample(s, "mproxy_request_duration_seconds_sum{group=\"mt\",listener=\"l1\"} 17.0");
    assertSample(s, "mproxy_request_duration_seconds_max{group=\"mt\",listener=\"l1\"} 7.0E-4");
  }

  @Test
  void otherRegistriesOfACompositeStillGetATimer() {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    SimpleMeterRegistry other = new SimpleMeterRegistry();
    CompositeMeterRegistry composite = new CompositeMeterRegistry();
    composite.add(prometheus);
    composite.add(other);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(composite);
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 2_000_000);
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 4_000_000);
    Timer t = other.get("mproxy_request_duration").tags("listener", "l1", "group", "g").timer();
    assertEquals(2, t.count());
    assertEquals(6.0, t.totalTime(TimeUnit.MILLISECONDS), 1e-9);
    String s = prometheus.scrape();
    assertSample(s, "mproxy_request_duration_seconds_count{group=\"g\",listener=\"l1\"} 2");
    assertSample(s, "mproxy_request_duration_seconds_sum{group=\"g\",listener=\"l1\"} 0.006");
  }

  @Test
  void aRegistryWithoutPrometheusGetsTheTimer() {
    SimpleMeterRegistry simple = new SimpleMeterRegistry();
    MicrometerTelemetry telemetry = new MicrometerTelemetry(simple);
    telemetry.requestCompleted("l1", "redis", "g", Outcome.OK, 2_000_000);
    assertEquals(1, simple.get("mproxy_request_duration").tags("group", "g").timer().count());
  }

  /** The HELP, TYPE and sample lines of mproxy_request_duration_seconds (histogram and max). */
  private static List<String> family(String scrape) {
    return scrape.lines().filter(l -> l.contains("mproxy_request_duration_seconds")).sorted()
        .collect(Collectors.toList());
  }

  private static long sampleValue(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).findFirst()
        .map(l -> (long) Double.parseDouble(l.substring(series.length() + 1))).orElse(0L);
  }
}
