package io.mproxy.core.fingerprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class FingerprintStatsTest {

  private static final double[] QUANTILES = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};

  /** Thread {@code t}'s {@code i}-th latency in nanoseconds: spread over many buckets, widening as it goes. */
  private static long latencyNanos(int t, int i) {
    SplittableRandom r = new SplittableRandom(31L * t + i);
    return 1_000L * (1 + r.nextLong(1L << (1 + (i % 24))));
  }

  /** RU in halves: every partial sum is exact in a double, in any order. */
  private static double ru(int t, int i) {
    return 0.5 * (1 + (t + i) % 7);
  }

  @Test
  void recordsRacingOnSeveralThreadsSumToTheSingleThreadedCountsAndQuantilesExactly() throws Exception {
    FingerprintStats shared = new FingerprintStats("GET ?", "redis");
    int threads = 4;
    int each = 100_000;
    CountDownLatch start = new CountDownLatch(1);
    Thread[] writers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      writers[t] = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < each; i++) {
          shared.record(ru(id, i), latencyNanos(id, i));
        }
      });
      writers[t].start();
    }
    // a reader summing the cells while they are written and widened
    AtomicBoolean done = new AtomicBoolean();
    long[] lastCount = {0};
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        lastCount[0] = Math.max(lastCount[0], shared.count());
        shared.latencyMicros(0.99);
        shared.ruTotal();
      }
    });
    reader.start();
    start.countDown();
    for (Thread w : writers) {
      w.join(120_000);
      assertFalse(w.isAlive(), "a recording thread did not finish");
    }
    done.set(true);
    reader.join(60_000);
    assertFalse(reader.isAlive(), "the reader did not finish");

    LogHistogram expected = new LogHistogram();
    double expectedRu = 0;
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < each; i++) {
        expected.record(latencyNanos(t, i) / 1_000);
        expectedRu += ru(t, i);
      }
    }
    assertEquals((long) threads * each, shared.count());
    assertEquals(expected.count(), shared.count());
    assertEquals(expectedRu, shared.ruTotal(), 0.0);
    for (double q : QUANTILES) {
      assertEquals(expected.quantile(q), shared.latencyMicros(q), "quantile " + q);
    }
  }

  @Test
  void theMeanIsPublishedOnlyWhenAThreadsEwmaMovesMoreThanAThirtySecondOfIt() throws Exception {
    FingerprintStats s = new FingerprintStats("GET ?", "redis");
    s.record(100, 1_000);
    assertEquals(100.0, s.meanRu(), 0.0, "the first record publishes");
    s.record(102, 1_000); // EWMA 100.2: within 100/32 of the published mean
    assertEquals(100.0, s.meanRu(), 0.0, "a small move is not stored");
    s.record(140, 1_000); // EWMA 100.2 + 0.1 * 39.8 = 104.18: more than 100/32 away
    assertEquals(104.18, s.meanRu(), 1e-9);
    // another thread's EWMA starts at its own first record and is published when it differs
    Thread other = new Thread(() -> s.record(10, 1_000));
    other.start();
    other.join(60_000);
    assertFalse(other.isAlive());
    assertEquals(10.0, s.meanRu(), 0.0);
    assertEquals(4, s.count());
    assertEquals(352.0, s.ruTotal(), 0.0);
  }

  @Test
  void aNewShapeHasNoMeanNoCountAndZeroLatency() {
    FingerprintStats s = new FingerprintStats("GET ?", "redis");
    assertEquals(0.0, s.meanRu(), 0.0);
    assertEquals(0, s.count());
    assertEquals(0, s.latencyMicros(0.5));
  }
}
