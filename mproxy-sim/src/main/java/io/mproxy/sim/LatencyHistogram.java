package io.mproxy.sim;

/**
 * A log-linear histogram of latencies in microseconds: 32 buckets per power of two (values are
 * reported within about 3% of themselves), from 1 µs to about 1.2 hours. Single-threaded,
 * deterministic, O(1) per record.
 */
public final class LatencyHistogram {

  private static final int SUB_BITS = 5;
  private static final int SUB = 1 << SUB_BITS;
  private static final int MAX_LOG2 = 32;
  private final long[] counts = new long[(MAX_LOG2 + 1) * SUB];
  private long total;

  public void recordNanos(long nanos) {
    record(Math.max(1, nanos / 1_000));
  }

  public void record(long micros) {
    counts[index(Math.max(1, micros))]++;
    total++;
  }

  public void add(LatencyHistogram other) {
    for (int i = 0; i < counts.length; i++) {
      counts[i] += other.counts[i];
    }
    total += other.total;
  }

  public long count() {
    return total;
  }

  /** The latency at quantile {@code q} in microseconds (bucket upper bound); 0 when empty. */
  public long quantileMicros(double q) {
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return upper(i);
      }
    }
    return upper(counts.length - 1);
  }

  static int index(long v) {
    int log2 = 63 - Long.numberOfLeadingZeros(v);
    if (log2 > MAX_LOG2) {
      return counts(MAX_LOG2) - 1;
    }
    if (log2 < SUB_BITS) {
      return (int) v;
    }
    int sub = (int) ((v >>> (log2 - SUB_BITS)) & (SUB - 1));
    return (log2 - SUB_BITS + 1) * SUB + sub;
  }

  private static int counts(int log2) {
    return (log2 + 1) * SUB;
  }

  static long upper(int index) {
    if (index < SUB) {
      return index;
    }
    int block = index / SUB;
    int sub = index % SUB;
    int log2 = block + SUB_BITS - 1;
    long step = 1L << (log2 - SUB_BITS);
    return (1L << log2) + (sub + 1) * step - 1;
  }
}
