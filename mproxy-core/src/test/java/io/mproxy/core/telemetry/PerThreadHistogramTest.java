package io.mproxy.core.telemetry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mproxy.core.time.ManualClock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PerThreadHistogramTest {

  private final ManualClock clock = new ManualClock();

  private PerThreadHistogram histogram() {
    return new PerThreadHistogram(new long[] {10, 100, 1000}, clock::nanoTime, TimeUnit.SECONDS.toNanos(20), 3);
  }

  @Test
  void boundsAreInclusiveAndTheOverflowBucketTakesTheRest() {
    PerThreadHistogram h = histogram();
    for (long v : new long[] {0, 10, 11, 100, 101, 1000, 1001, 5000, -1}) {
      h.record(v);
    }
    PerThreadHistogram.Snapshot s = h.snapshot();
    assertArrayEquals(new long[] {2, 2, 2, 2}, s.bucketCounts());
    assertEquals(8, s.count(), "the negative value is ignored");
    assertEquals(0 + 10 + 11 + 100 + 101 + 1000 + 1001 + 5000, s.sumNanos());
    assertEquals(5000, s.maxNanos());
  }

  @Test
  void threadsThatEndedAreStillCountedAndASuccessorContinuesTheirCells() throws Exception {
    PerThreadHistogram h = histogram();
    for (int round = 0; round < 3; round++) {
      Thread t = new Thread(() -> {
        for (int i = 0; i < 1000; i++) {
          h.record(50);
        }
      });
      t.start();
      t.join(30_000);
      assertFalse(t.isAlive());
    }
    h.record(500);
    PerThreadHistogram.Snapshot s = h.snapshot();
    assertArrayEquals(new long[] {0, 3000, 1, 0}, s.bucketCounts());
    assertEquals(3001, s.count());
    assertEquals(3000 * 50 + 500, s.sumNanos());
  }

  @Test
  void rejectsBadConfiguration() {
    assertThrows(IllegalArgumentException.class,
        () -> new PerThreadHistogram(new long[0], clock::nanoTime, 1, 1));
    assertThrows(IllegalArgumentException.class,
        () -> new PerThreadHistogram(new long[] {5, 5}, clock::nanoTime, 1, 1));
    assertThrows(IllegalArgumentException.class,
        () -> new PerThreadHistogram(new long[] {5}, clock::nanoTime, 0, 1));
    assertThrows(IllegalArgumentException.class,
        () -> new PerThreadHistogram(new long[] {5}, clock::nanoTime, 1, 4));
  }
}
