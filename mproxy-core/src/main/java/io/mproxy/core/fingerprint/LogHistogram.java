package io.mproxy.core.fingerprint;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A lock-free log-scale histogram of non-negative values (here: microseconds): four buckets per
 * power of two, from 1 to 2^40, so any recorded value is reported within ~19% of itself.
 */
public final class LogHistogram {

  private static final int SUB_BUCKETS = 4;
  private static final int BUCKETS = 41 * SUB_BUCKETS;
  private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

  public void record(long value) {
    counts.incrementAndGet(bucket(Math.max(1, value)));
  }

  public long count() {
    long n = 0;
    for (int i = 0; i < BUCKETS; i++) {
      n += counts.get(i);
    }
    return n;
  }

  /** The value at quantile {@code q} (0..1): the upper bound of its bucket; 0 when empty. */
  public long quantile(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts.get(i);
      if (seen >= Math.max(1, rank)) {
        return upperBound(i);
      }
    }
    return upperBound(BUCKETS - 1);
  }

  static int bucket(long v) {
    int log2 = 63 - Long.numberOfLeadingZeros(v);
    if (log2 >= 40) {
      return BUCKETS - 1;
    }
    int sub = log2 < 2 ? (int) (v - (1L << log2)) : (int) ((v >>> (log2 - 2)) & (SUB_BUCKETS - 1));
    return Math.min(BUCKETS - 1, log2 * SUB_BUCKETS + Math.min(sub, SUB_BUCKETS - 1));
  }

  static long upperBound(int bucket) {
    int log2 = bucket / SUB_BUCKETS;
    int sub = bucket % SUB_BUCKETS;
    if (log2 < 2) {
      return (1L << log2) + sub;
    }
    long step = 1L << (log2 - 2);
    return (1L << log2) + (sub + 1) * step - 1;
  }
}
