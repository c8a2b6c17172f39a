package io.mproxy.core.fingerprint;

import io.mproxy.core.telemetry.PerThread;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Running statistics of one query shape: count, RU, a latency histogram, and the shape's id.
 *
 * <p>Every completed request of the shape records here, from whichever event loop it ran on, so
 * what a request adds is kept in the recording thread's own cell ({@link PerThread}: each
 * written by one thread with release stores, summed when read): its RU total, its latency
 * histogram (whose count is the executions) and its EWMA of RU. The count, RU total and
 * quantiles are exact once the writers stop.
 *
 * <p>The mean RU read at admission ({@link #meanRu}) is one field, as cheap to read as before,
 * but a thread stores its EWMA there only when it differs from the published value by more
 * than {@code 1/32} of it: the first record publishes, a shape whose cost changes is followed
 * within that step, and a shape whose cost holds steady stops writing the field, so the event
 * loops do not take its line from each other on every request. It is an estimate for
 * admission, not an account (the charge at completion is exact).
 */
public final class FingerprintStats {

  private static final double EWMA_ALPHA = 0.1;
  /** How far (relative) a thread's EWMA may drift from the published mean before it is stored. */
  private static final double MEAN_STEP = 1.0 / 32;
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
  /** Per thread: what that thread recorded, written by it alone. */
  private final PerThread<Cell> cells = new PerThread<>(Cell::new);
  private final String id;
  private final double ruError;
  /** The published mean RU: see the class comment. */
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
    double m = cells.get().record(ruCharged, latencyNanos / 1_000);
    double published = (double) MEAN_RU.getOpaque(this);
    if (Math.abs(m - published) > published * MEAN_STEP) {
      MEAN_RU.setRelease(this, m);
    }
  }

  public String fingerprint() {
    return fingerprint;
  }

  public String protocol() {
    return protocol;
  }

  /** Executions recorded: the latency histograms' count (each records one value). */
  public long count() {
    return cells.sum(Cell::count);
  }

  public double ruTotal() {
    return cells.sumDouble(Cell::ru);
  }

  /**
   * Recent mean RU per execution (a thread's EWMA, stored here when it moved more than
   * {@code 1/32} away from the value here): the admission estimate for the next one; 0 before
   * the first record.
   */
  public double meanRu() {
    return meanRu;
  }

  /** Latency at quantile {@code q}, in microseconds. */
  public long latencyMicros(double q) {
    long[] totals = new long[LogHistogram.BUCKETS];
    cells.forEach(c -> c.latencyMicros.addTo(totals));
    return LogHistogram.quantile(totals, q);
  }

  /**
   * One thread's share of the shape: written by that thread alone with release stores (no
   * read-modify-write), read by any; its EWMA is the thread's own and read by it alone.
   */
  private static final class Cell {
    private static final VarHandle RU;

    static {
      try {
        RU = MethodHandles.lookup().findVarHandle(Cell.class, "ru", double.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final LogHistogram latencyMicros = new LogHistogram();
    private double ru;
    private double mean;

    /** Records one execution; returns the thread's EWMA of RU after it. */
    double record(double charged, long micros) {
      RU.setRelease(this, ru + charged);
      double m = mean;
      m = m == 0 ? charged : m + EWMA_ALPHA * (charged - m);
      mean = m;
      latencyMicros.record(micros);
      return m;
    }

    long count() {
      return latencyMicros.count();
    }

    double ru() {
      return (double) RU.getAcquire(this);
    }
  }
}
