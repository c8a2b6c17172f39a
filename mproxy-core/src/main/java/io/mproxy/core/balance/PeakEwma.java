package io.mproxy.core.balance;

/**
 * Peak-sensitive exponentially weighted moving average of latency (Finagle's peak EWMA): a
 * sample above the average replaces it at once, samples below decay it with time constant
 * {@code tauNanos}. Reacts to a backend slowing down immediately and forgives slowly.
 * Not thread-safe by itself; {@link Backend} guards it.
 */
public final class PeakEwma {

  private final long tauNanos;
  private double valueNanos;
  private long lastNanos;
  private boolean initialised;

  public PeakEwma(long tauNanos) {
    this.tauNanos = tauNanos;
  }

  public void observe(long sampleNanos, long nowNanos) {
    if (!initialised) {
      valueNanos = sampleNanos;
      lastNanos = nowNanos;
      initialised = true;
      return;
    }
    if (sampleNanos > valueNanos) {
      valueNanos = sampleNanos;
    } else {
      double elapsed = Math.max(0, nowNanos - lastNanos);
      double w = Math.exp(-elapsed / tauNanos);
      valueNanos = valueNanos * w + sampleNanos * (1 - w);
    }
    lastNanos = nowNanos;
  }

  /** Current estimate in nanoseconds (0 before the first sample). */
  public double valueNanos() {
    return valueNanos;
  }
}
