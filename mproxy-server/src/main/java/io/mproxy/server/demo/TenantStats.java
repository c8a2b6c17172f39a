package io.mproxy.server.demo;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one demo tenant's clients saw: answered, refused by mproxy ({@code mproxy:} errors),
 * other errors, and the latency of answered queries in a fixed log-scale histogram (bounded
 * memory, lock-free). {@link #interval} returns the counts since the previous call, so the
 * terminal table shows rates and a p99 of the last refresh period.
 */
public final class TenantStats {

  /** Bucket i holds latencies below 2^(i/4) microseconds: about 19% resolution up to ~70 s. */
  static final int BUCKETS = 105;

  /** Counts over one refresh period. */
  public record Interval(long ok, long refused, long failed, double p99Millis, String lastRefusal,
      String lastFailure) {
  }

  private final AtomicLong ok = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong okTotal = new AtomicLong();
  private final AtomicLong refusedTotal = new AtomicLong();
  private final AtomicLong failedTotal = new AtomicLong();
  private final AtomicLongArray latency = new AtomicLongArray(BUCKETS);
  private final AtomicReference<String> lastRefusal = new AtomicReference<>();
  private final AtomicReference<String> lastFailure = new AtomicReference<>();

  void answered(long nanos) {
    ok.incrementAndGet();
    okTotal.incrementAndGet();
    latency.incrementAndGet(bucket(nanos));
  }

  void refused(String message) {
    refused.incrementAndGet();
    refusedTotal.incrementAndGet();
    lastRefusal.set(message);
  }

  void failed(String message) {
    failed.incrementAndGet();
    failedTotal.incrementAndGet();
    lastFailure.set(message);
  }

  public long okTotal() {
    return okTotal.get();
  }

  public long refusedTotal() {
    return refusedTotal.get();
  }

  public long failedTotal() {
    return failedTotal.get();
  }

  /** The counts since the previous call (resets them). */
  public Interval interval() {
    long[] counts = new long[BUCKETS];
    long total = 0;
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] = latency.getAndSet(i, 0);
      total += counts[i];
    }
    return new Interval(ok.getAndSet(0), refused.getAndSet(0), failed.getAndSet(0),
        quantileMillis(counts, total, 0.99), lastRefusal.get(), lastFailure.get());
  }

  static int bucket(long nanos) {
    double micros = Math.max(1.0, nanos / 1e3);
    int b = (int) Math.ceil(4 * Math.log(micros) / Math.log(2));
    return Math.max(0, Math.min(BUCKETS - 1, b));
  }

  /** The upper edge of the bucket holding quantile {@code q}; 0 when nothing was recorded. */
  static double quantileMillis(long[] counts, long total, double q) {
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.pow(2, i / 4.0) / 1e3;
      }
    }
    return Math.pow(2, (counts.length - 1) / 4.0) / 1e3;
  }
}
