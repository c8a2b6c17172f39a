package io.mproxy.core.fingerprint;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** Running statistics of one query shape: count, RU, a latency histogram, and the shape's id. */
public final class FingerprintStats {

  private static final double EWMA_ALPHA = 0.1;

  private final String fingerprint;
  private final String protocol;
  private final LongAdder count = new LongAdder();
  private final DoubleAdder ru = new DoubleAdder();
  private final LogHistogram latencyMicros = new LogHistogram();
  private final String id;
  private final double ruError;
  private volatile double meanRu;

  FingerprintStats(String fingerprint, String protocol) {
    this(fingerprint, protocol, 0);
  }

  FingerprintStats(String fingerprint, String protocol, double ruError) {
    this.fingerprint = fingerprint;
    this.protocol = protocol;
    this.id = FingerprintStore.id(fingerprint);
    this.ruError = ruError;
  }

  /** The fingerprint's stable short id ({@link FingerprintStore#id}). */
  public String id() {
    return id;
  }

  /**
   * RU this shape may have cost before the store (full at the time) began to keep it: the
   * space-saving sketch's over-estimate bound, inherited from the shapes evicted before it.
   */
  public double ruError() {
    return ruError;
  }

  /** The sketch's rank: own RU plus the inherited bound. */
  double rank() {
    return ru.sum() + ruError;
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
