package io.mproxy.core.telemetry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * A fixed-boundary histogram of nanosecond durations (bucket counts, sum and a decaying maximum)
 * that each recording thread keeps in its own cells ({@link PerThread}), so that recording a
 * request's duration on an event loop writes nothing another thread writes: no shared counter,
 * no compare-and-set. A publisher (a metrics scrape) sums the cells into a {@link Snapshot}.
 *
 * <p>Counts and sum are exact: every cell has one writer at a time (see {@link ThreadSlots}) that
 * publishes with release stores, and the publisher reads with acquire loads. A snapshot is not an
 * atomic cut across threads (neither was the shared timer it replaces), but its count is by
 * construction the sum of its buckets.
 *
 * <p>The maximum decays like Micrometer's {@code TimeWindowMax}: it is the largest duration of
 * the last {@code windows} rotation intervals. Recording has no clock, so rotation is driven by
 * the publisher: each snapshot advances the epoch by the intervals elapsed since the previous
 * one, and writers tag their per-epoch maximum with the epoch they read. Values recorded since
 * the previous snapshot always count (they are at most one publishing interval old).
 */
public final class PerThreadHistogram {

  /** Max slots per cell, a power of two larger than any supported window count. */
  private static final int SLOTS = 4;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  private final long[] bounds;
  private final int sumIndex;
  private final int maxBase;
  private final PerThread<long[]> cells;
  private final LongSupplier nanoTime;
  private final long intervalNanos;
  private final int windows;
  /** The current rotation epoch: written by the publisher, read by writers. */
  private volatile long epoch;
  /** Guarded by this: when the current epoch began. */
  private long epochStartNanos;

  /**
   * @param boundsNanos ascending finite upper bounds (inclusive) in nanoseconds; values above the
   *     last go to an overflow bucket
   * @param nanoTime the publisher's monotonic clock
   * @param maxIntervalNanos how long one rotation interval of the maximum lasts
   * @param maxWindows how many intervals the maximum covers (1 to 3)
   */
  public PerThreadHistogram(long[] boundsNanos, LongSupplier nanoTime, long maxIntervalNanos, int maxWindows) {
    if (boundsNanos.length == 0) {
      throw new IllegalArgumentException("no bucket bounds");
    }
    for (int i = 1; i < boundsNanos.length; i++) {
      if (boundsNanos[i] <= boundsNanos[i - 1]) {
        throw new IllegalArgumentException("bucket bounds must ascend: " + Arrays.toString(boundsNanos));
      }
    }
    if (maxWindows < 1 || maxWindows >= SLOTS) {
      throw new IllegalArgumentException("maxWindows must be 1.." + (SLOTS - 1) + ": " + maxWindows);
    }
    if (maxIntervalNanos <= 0) {
      throw new IllegalArgumentException("maxIntervalNanos must be positive: " + maxIntervalNanos);
    }
    this.bounds = boundsNanos.clone();
    this.sumIndex = bounds.length + 1;
    this.maxBase = sumIndex + 1;
    int cellLength = maxBase + 2 * SLOTS;
    // Epoch tags start at -1 so that a fresh cell's slots belong to no epoch.
    this.cells = new PerThread<>(() -> {
      long[] c = new long[cellLength];
      for (int s = 0; s < SLOTS; s++) {
        c[maxBase + 2 * s] = -1;
      }
      return c;
    });
    this.nanoTime = nanoTime;
    this.intervalNanos = maxIntervalNanos;
    this.windows = maxWindows;
    this.epochStartNanos = nanoTime.getAsLong();
  }

  /** Records one duration on the calling thread; negative durations are ignored (as Micrometer's timers do). */
  public void record(long nanos) {
    if (nanos < 0) {
      return;
    }
    long[] c = cells.get();
    int b = bucket(nanos);
    LONGS.setRelease(c, b, c[b] + 1);
    LONGS.setRelease(c, sumIndex, c[sumIndex] + nanos);
    long e = epoch;
    int tag = maxBase + 2 * (int) (e & (SLOTS - 1));
    if (c[tag] != e) {
      // The value first, then the tag: a reader that sees the new tag sees this value.
      LONGS.setRelease(c, tag + 1, nanos);
      LONGS.setRelease(c, tag, e);
    } else if (nanos > c[tag + 1]) {
      LONGS.setRelease(c, tag + 1, nanos);
    }
  }

  private int bucket(long nanos) {
    long[] b = bounds;
    int i = 0;
    while (i < b.length && nanos > b[i]) {
      i++;
    }
    return i;
  }

  /** The finite upper bounds in nanoseconds. */
  public long[] boundsNanos() {
    return bounds.clone();
  }

  /** Sums every thread's cells and rotates the maximum's epoch (publisher side; not for event loops). */
  public synchronized Snapshot snapshot() {
    long previous = epoch;
    long now = nanoTime.getAsLong();
    long elapsed = (now - epochStartNanos) / intervalNanos;
    long current = previous;
    if (elapsed > 0) {
      current = previous + Math.min(elapsed, SLOTS);
      epochStartNanos = elapsed >= SLOTS ? now : epochStartNanos + elapsed * intervalNanos;
      epoch = current;
    }
    long oldest = current - windows + 1;
    long[] counts = new long[bounds.length + 1];
    long[] sum = {0};
    long[] max = {0};
    long keepFrom = Math.min(oldest, previous);
    cells.forEach(c -> {
      for (int i = 0; i < counts.length; i++) {
        counts[i] += (long) LONGS.getAcquire(c, i);
      }
      sum[0] += (long) LONGS.getAcquire(c, sumIndex);
      for (int s = 0; s < SLOTS; s++) {
        int tag = maxBase + 2 * s;
        long e = (long) LONGS.getAcquire(c, tag);
        long v = (long) LONGS.getAcquire(c, tag + 1);
        if (e >= keepFrom && v > max[0]) {
          max[0] = v;
        }
      }
    });
    long count = 0;
    for (long n : counts) {
      count += n;
    }
    return new Snapshot(counts, count, sum[0], max[0]);
  }

  /**
   * Summed cells: {@code bucketCounts[i]} is the number of values in bucket {@code i} alone (not
   * cumulative), the last entry being the overflow above the last bound; {@code count} is their
   * sum.
   */
  public record Snapshot(long[] bucketCounts, long count, long sumNanos, long maxNanos) {
  }
}
