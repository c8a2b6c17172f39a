package io.mproxy.core.fingerprint;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A log-scale histogram of non-negative values (here: microseconds): four buckets per power of
 * two, from 1 to 2^40, so any recorded value is reported within ~19% of itself.
 *
 * <p>One writer at a time, any number of readers: the owner (one event loop's cell of a
 * {@link FingerprintStats}) records with plain loads and release stores, with no
 * read-modify-write and no line another thread writes; readers load with acquire and sum
 * several histograms with {@link #addTo}. Only the buckets between the lowest and the highest
 * value recorded so far are held (most shapes' latencies span a few powers of two, and most
 * shapes of a full store are seen once), in an array the owner replaces, with a release store,
 * when a value falls outside it; a reader holding the array just replaced misses at most the
 * values recorded since, so every count is exact once the writer stops.
 */
public final class LogHistogram {

  private static final int SUB_BUCKETS = 4;
  static final int BUCKETS = 41 * SUB_BUCKETS;
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle SPAN;
  /** No bucket held: length 1, never written. */
  private static final long[] EMPTY = {0};

  static {
    try {
      SPAN = MethodHandles.lookup().findVarHandle(LogHistogram.class, "span", long[].class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** {@code span[0]} is the first bucket held, {@code span[1 + i]} the count of bucket {@code span[0] + i}. */
  private long[] span = EMPTY;

  /** Records one value; called by the histogram's one writer only. */
  public void record(long value) {
    int b = bucket(Math.max(1, value));
    long[] s = span;
    int i = b - (int) s[0] + 1;
    if (i >= 1 && i < s.length) {
      LONGS.setRelease(s, i, s[i] + 1);
    } else {
      SPAN.setRelease(this, widened(s, b));
    }
  }

  /** A copy of {@code s} that also holds bucket {@code b}, with one more count there. */
  private static long[] widened(long[] s, int b) {
    int first = b;
    int end = b + 1;
    if (s.length > 1) {
      int from = (int) s[0];
      first = Math.min(from, b);
      end = Math.max(from + s.length - 1, end);
    }
    long[] w = new long[end - first + 1];
    w[0] = first;
    if (s.length > 1) {
      System.arraycopy(s, 1, w, (int) s[0] - first + 1, s.length - 1);
    }
    w[b - first + 1]++;
    return w;
  }

  /** Adds this histogram's counts to {@code totals} (indexed by bucket, {@code BUCKETS} long). */
  void addTo(long[] totals) {
    long[] s = (long[]) SPAN.getAcquire(this);
    int from = (int) s[0];
    for (int i = 1; i < s.length; i++) {
      totals[from + i - 1] += (long) LONGS.getAcquire(s, i);
    }
  }

  public long count() {
    long[] s = (long[]) SPAN.getAcquire(this);
    long n = 0;
    for (int i = 1; i < s.length; i++) {
      n += (long) LONGS.getAcquire(s, i);
    }
    return n;
  }

  /** The value at quantile {@code q} (0..1): the upper bound of its bucket; 0 when empty. */
  public long quantile(double q) {
    long[] totals = new long[BUCKETS];
    addTo(totals);
    return quantile(totals, q);
  }

  /** {@link #quantile(double)} of summed bucket counts ({@link #addTo}). */
  static long quantile(long[] totals, double q) {
    long total = 0;
    for (long n : totals) {
      total += n;
    }
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += totals[i];
      if (seen >= rank) {
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
