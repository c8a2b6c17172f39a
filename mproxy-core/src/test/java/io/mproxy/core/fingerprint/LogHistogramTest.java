package io.mproxy.core.fingerprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogHistogramTest {

  @Test
  void emptyHistogramReportsZero() {
    LogHistogram h = new LogHistogram();
    assertEquals(0, h.count());
    assertEquals(0, h.quantile(0.5));
    assertEquals(0, h.quantile(1.0));
  }

  @Test
  void quantilesOfAUniformDistributionAreWithinTwentyPercent() {
    LogHistogram h = new LogHistogram();
    for (long v = 1; v <= 100_000; v++) {
      h.record(v);
    }
    assertEquals(100_000, h.count());
    for (double q : new double[] {0.5, 0.75, 0.9, 0.99, 0.999}) {
      assertClose((long) Math.ceil(q * 100_000), h.quantile(q), q);
    }
  }

  @Test
  void quantilesOfASkewedDistributionAreWithinTwentyPercent() {
    // latencies in microseconds: exponential body with mean 2 ms, rare 300 ms outliers
    SplittableRandom r = new SplittableRandom(1);
    int n = 200_000;
    long[] values = new long[n];
    LogHistogram h = new LogHistogram();
    for (int i = 0; i < n; i++) {
      long v = i % 500 == 0
          ? 300_000 + r.nextInt(50_000)
          : 1 + (long) (-2_000 * Math.log(1 - r.nextDouble()));
      values[i] = v;
      h.record(v);
    }
    Arrays.sort(values);
    for (double q : new double[] {0.5, 0.9, 0.99, 0.999}) {
      long truth = values[(int) Math.ceil(q * n) - 1];
      assertClose(truth, h.quantile(q), q);
    }
  }

  @Test
  void aSingleValueIsReportedAtOrAboveItselfAndLessThanAQuarterAbove() {
    for (int shift = 0; shift < 40; shift++) {
      for (long v : new long[] {1L << shift, (1L << shift) + 1, (3L << shift) / 2, (1L << (shift + 1)) - 1}) {
        if (v < 1) {
          continue;
        }
        LogHistogram h = new LogHistogram();
        h.record(v);
        long got = h.quantile(0.5);
        assertTrue(got >= v && got < v * 1.25 + 1, "v=" + v + " reported " + got);
      }
    }
  }

  @Test
  void smallValuesAreExact() {
    for (long v = 1; v <= 7; v++) {
      LogHistogram h = new LogHistogram();
      h.record(v);
      assertEquals(v, h.quantile(1.0));
    }
  }

  @Test
  void zeroAndNegativeValuesCountAsOne() {
    LogHistogram h = new LogHistogram();
    h.record(0);
    h.record(-5);
    assertEquals(2, h.count());
    assertEquals(1, h.quantile(1.0));
  }

  @Test
  void quantileZeroIsTheSmallestAndOneTheLargest() {
    LogHistogram h = new LogHistogram();
    h.record(3);
    h.record(1_000);
    h.record(1_000_000);
    assertEquals(3, h.quantile(0.0));
    long max = h.quantile(1.0);
    assertTrue(max >= 1_000_000 && max < 1_250_000, String.valueOf(max));
  }

  private static void assertClose(long truth, long got, double q) {
    double error = Math.abs(got - truth) / (double) truth;
    assertTrue(error <= 0.20, "q=" + q + " true=" + truth + " got=" + got + " error=" + error);
  }
}
