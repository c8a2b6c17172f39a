package io.mproxy.core.fingerprint;

import io.mproxy.core.telemetry.PerThread;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Running statistics of one query shape: count, RU, a latency histogram, and the shape's id.
 *
 * <p>Every completed request of the shape records here, from whichever event loop it ran on, so
 * the RU total is kept in per-thread cells ({@link PerThread}: each written by one thread with
 * release stores, summed when read) rather than in an adder all loops update, and the count is
 * the histogram's (one record each). The mean is a last-writer-wins EWMA published with a
 * release store (no fence): an estimate for admission, not an account.
 */
public final class FingerprintStats {

  private static final double EWMA_ALPHA = 0.1;
  private static final VarHandle DOUBLES = MethodHandles.arrayElementVarHandle(double[].class);
  private static final VarHandle MEAN_RU;

  static {
    try {
      MEAN_RU = MethodHandles.lookup().findVarHandle(FingerprintStats.class, "meanRu", double.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String fingerprint;
  private final String protocol;
  /** Per thread: RU charged, written by that thread alone. */
  private final PerThread<double[]> ru = new PerThread<>(() -> new double[1]);
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
    return ruTotal() + ruError;
  }

  void record(double ruCharged, long latencyNanos) {
    double[] c = ru.get();
    DOUBLES.setRelease(c, 0, c[0] + ruCharged);
    latencyMicros.record(latencyNanos / 1_000);
    double m = meanRu;
    MEAN_RU.setRelease(this, m == 0 ? ruCharged : m + EWMA_ALPHA * (ruCharged - m));
  }

  public String fingerprint() {
    return fingerprint;
  }

  public String protocol() {
    return protocol;
  }

  /** Executions recorded: the latency histogram's count (each records one value). */
  public long count() {
    return latencyMicros.count();
  }

  public double ruTotal() {
    return ru.sumDouble(FingerprintStats::ruOf);
  }

  private static double ruOf(double[] cell) {
    return (double) DOUBLES.getAcquire(cell, 0);
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
