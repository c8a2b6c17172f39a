package io.mproxy.core.share;

/**
 * A node's demand for one group: the exponentially weighted moving average of the rate of RU
 * asked for (admitted or refused), sampled from a monotonically growing total. Refused requests
 * count because a node whose clients are being turned away is exactly the node that needs a
 * bigger share. Time-based weights make the average independent of the sampling interval.
 *
 * <p>Not thread-safe: one sampler (the gossip tick) owns it.
 */
public final class DemandEwma {

  private final long tauNanos;
  private double ratePerSec;
  private double lastTotal;
  private long lastNanos;
  private boolean started;

  /** @param tauNanos time constant: after {@code tau} a step in demand is ~63% reflected */
  public DemandEwma(long tauNanos) {
    if (tauNanos <= 0) {
      throw new IllegalArgumentException("tauNanos: " + tauNanos + " (expected: > 0)");
    }
    this.tauNanos = tauNanos;
  }

  /**
   * Takes a sample of the cumulative RU asked for; returns the updated rate. The first sample only
   * sets the baseline. A total that goes backwards (a group re-created by a reload) restarts it.
   */
  public double sample(double totalAsked, long nowNanos) {
    if (!started || totalAsked < lastTotal) {
      started = true;
      lastTotal = totalAsked;
      lastNanos = nowNanos;
      return ratePerSec;
    }
    long elapsed = nowNanos - lastNanos;
    if (elapsed <= 0) {
      return ratePerSec;
    }
    double instant = (totalAsked - lastTotal) * 1e9 / elapsed;
    double w = Math.exp(-(double) elapsed / tauNanos);
    ratePerSec = ratePerSec * w + instant * (1 - w);
    lastTotal = totalAsked;
    lastNanos = nowNanos;
    return ratePerSec;
  }

  /** The current estimate in RU per second (0 before two samples). */
  public double ratePerSec() {
    return ratePerSec;
  }
}
