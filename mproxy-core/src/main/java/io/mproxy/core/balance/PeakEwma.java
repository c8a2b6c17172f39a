package io.mproxy.core.balance;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Peak-sensitive exponentially weighted moving average of latency (Finagle's peak EWMA): a
 * sample above the average replaces it at once, samples below decay it with time constant
 * {@code tauNanos}. Reacts to a backend slowing down immediately and forgives slowly.
 *
 * <p>Thread-safe without a lock, because every request that ends on a backend updates it from
 * whichever event loop ran the request, and a monitor shared by all loops was the contended part
 * of settling a request. Each observer claims the time since the previous observation (a max on
 * the last timestamp, so every nanosecond of decay is counted once whatever the interleaving) and
 * then folds its sample into the value with a compare-and-set retry; a peak is never lost. Fed
 * from one thread it computes exactly what the sequential formula does. An observation that
 * changes nothing (its time already claimed, its sample not above the value) writes nothing:
 * the replies of one read batch share one clock reading, so only the first of them and the
 * peaks write the shared line.
 */
public final class PeakEwma {

  /** Value bits before the first sample (a NaN no arithmetic here produces). */
  private static final long UNSET = 0x7ff8_dead_beef_0001L;
  /** Below this {@code elapsed / tau}, {@link #decay} uses its series instead of {@link Math#exp}. */
  static final double SERIES_LIMIT = 1e-3;

  private static final VarHandle VALUE;
  private static final VarHandle LAST;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      VALUE = l.findVarHandle(PeakEwma.class, "valueBits", long.class);
      LAST = l.findVarHandle(PeakEwma.class, "lastNanos", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final double tauNanos;
  @SuppressWarnings("unused") // through VALUE
  private volatile long valueBits = UNSET;
  @SuppressWarnings("unused") // through LAST
  private volatile long lastNanos = Long.MIN_VALUE;

  public PeakEwma(long tauNanos) {
    this.tauNanos = tauNanos;
  }

  public void observe(long sampleNanos, long nowNanos) {
    long previous = claim(nowNanos);
    double w = previous == Long.MIN_VALUE ? 0 : decay(Math.max(0, nowNanos - previous) / tauNanos);
    double sample = sampleNanos;
    while (true) {
      long bits = (long) VALUE.getVolatile(this);
      double next;
      if (bits == UNSET) {
        next = sample;
      } else {
        double value = Double.longBitsToDouble(bits);
        next = sample > value ? sample : value * w + sample * (1 - w);
      }
      long nextBits = Double.doubleToRawLongBits(next);
      // unchanged (no time claimed and no peak: every reply after the first of one read batch,
      // which share the batch's clock reading): nothing to write, and no compare-and-set to
      // take the line from the other event loops for
      if (nextBits == bits || VALUE.compareAndSet(this, bits, nextBits)) {
        return;
      }
    }
  }

  /** Advances the last timestamp to {@code now} (never backwards); returns the one it replaced. */
  private long claim(long now) {
    while (true) {
      long last = (long) LAST.getVolatile(this);
      if (last != Long.MIN_VALUE && last - now >= 0) {
        return last;
      }
      if (LAST.compareAndSet(this, last, now)) {
        return last;
      }
    }
  }

  /**
   * {@code e^-x} for {@code x >= 0}. Requests end microseconds apart against a time constant of
   * seconds, so {@code x} is almost always tiny: there a third-order series is exact to within
   * {@code x^4/24} (below 5e-14) and costs a few multiplications instead of {@link Math#exp}.
   */
  static double decay(double x) {
    if (x < SERIES_LIMIT) {
      return 1 - x * (1 - x * 0.5 * (1 - x * (1.0 / 3)));
    }
    return Math.exp(-x);
  }

  /** Current estimate in nanoseconds (0 before the first sample). */
  public double valueNanos() {
    long bits = (long) VALUE.getVolatile(this);
    return bits == UNSET ? 0 : Double.longBitsToDouble(bits);
  }
}
