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
  void eachThreadReadsTheMeanOfWhatItRecordedAndAThreadThatRecordedNothingReadsAnother() throws Exception {
    FingerprintStats s = new FingerprintStats("GET ?", "redis");
    s.record(10, 1_000);
    s.record(20, 1_000);
    assertEquals(11.0, s.meanRu(), 1e-9);
    double[] seen = new double[2];
    Thread other = new Thread(() -> {
      seen[0] = s.meanRu();
      s.record(4, 1_000);
      seen[1] = s.meanRu();
    });
    other.start();
    other.join(60_000);
    assertFalse(other.isAlive());
    assertEquals(11.0, seen[0], 1e-9, "no mean of its own: the first thread's");
    assertEquals(4.0, seen[1], 1e-9, "its own mean once it has one");
    assertEquals(11.0, s.meanRu(), 1e-9, "the other thread's records do not move this thread's mean");
    assertEquals(3, s.count());
    assertEquals(34.0, s.ruTotal(), 0.0);
  }

  @Test
  void aNewShapeHasNoMeanNoCountAndZeroLatency() {
    FingerprintStats s = new FingerprintStats("GET ?", "redis");
    assertEquals(0.0, s.meanRu(), 0.0);
    assertEquals(0, s.count());
    assertEquals(0, s.latencyMicros(0.5));
  }
}
