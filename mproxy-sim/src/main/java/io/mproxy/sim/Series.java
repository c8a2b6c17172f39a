package io.mproxy.sim;

/** A time series of sums per sample interval of virtual time (counts, RU). */
public final class Series {

  private final long sampleNanos;
  private final double[] values;

  Series(long sampleMs, long endMs) {
    this.sampleNanos = sampleMs * 1_000_000L;
    this.values = new double[(int) (endMs / sampleMs) + 1];
  }

  void add(long nowNanos, double v) {
    int i = (int) (nowNanos / sampleNanos);
    if (i >= 0 && i < values.length) {
      values[i] += v;
    }
  }

  public long sampleMs() {
    return sampleNanos / 1_000_000L;
  }

  public int size() {
    return values.length;
  }

  public double at(int i) {
    return values[i];
  }

  /** The sum over {@code [fromMs, toMs)} divided by its length in seconds: a rate per second. */
  public double ratePerSec(long fromMs, long toMs) {
    long s = sampleMs();
    int from = (int) (fromMs / s);
    int to = (int) Math.min(values.length, toMs / s);
    double sum = 0;
    for (int i = from; i < to; i++) {
      sum += values[i];
    }
    return to <= from ? 0 : sum / ((to - from) * s / 1000.0);
  }

  /** The sum over {@code [fromMs, toMs)}. */
  public double sum(long fromMs, long toMs) {
    long s = sampleMs();
    double sum = 0;
    for (int i = (int) (fromMs / s); i < Math.min(values.length, toMs / s); i++) {
      sum += values[i];
    }
    return sum;
  }
}
