package io.mproxy.core.fingerprint;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** Running statistics of one query shape: count, RU, and a latency histogram. */
public final class FingerprintStats {

  private static final double EWMA_ALPHA = 0.1;

  private final String fingerprint;
  private final String protocol;
  private final LongAdder count = new LongAdder();
  private final DoubleAdder ru = new DoubleAdder();
  private final LogHistogram latencyMicros = new LogHistogram();
  private volatile double meanRu;

  FingerprintStats(String fingerprint, String protocol) {
    this.fingerprint = fingerprint;
    this.protocol = protocol;
  }

  void record(double ruCharged, long latencyNanos) {
    count.increment();
    ru.add(ruCharged);
    latencyMicros.record(latencyNanos / 1_000);
    double m = meanRu;
    meanRu = m == 0 ? ruCharged : m + EWMA_ALPHA * (ruCharged - m);
  }

  public String fingerprint() {
    return fingerprint;
  }

  public String protocol() {
    return protocol;
  }

  public long count() {
    return count.sum();
  }

  public double ruTotal() {
    return ru.sum();
  }

  /** Recent mean RU per execution (EWMA): the admission estimate for the next one. */
  public double meanRu() {
    return meanRu;
  }

  /** Latency at quantile {@code q}, in microseconds. */
  public long latencyMicros(double q) {
    return latencyMicros.quantile(q);
  }
}
