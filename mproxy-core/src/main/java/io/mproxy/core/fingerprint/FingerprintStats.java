package io.mproxy.core.fingerprint;

import io.mproxy.core.telemetry.PerThread;
import io.mproxy.core.telemetry.ThreadSlots;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Running statistics of one query shape: count, RU, a latency histogram, and the shape's id.
 *
 * <p>Every completed request of the shape records here, from whichever event loop it ran on, so
 * everything a request writes is in the recording thread's own cell ({@link PerThread}: each
 * written by one thread with release stores, summed when read): its RU total, its latency
 * histogram (whose count is the executions) and its RU mean. No request writes a line another
 * event loop writes, and the count, RU total and quantiles are exact once the writers stop.
 *
 * <p>The mean is an EWMA per thread, an estimate for admission rather than an account: a thread
 * reads its own (the requests of the shape it completed lately), or, when it has completed none,
 * the first thread's that has.
 */
public final class FingerprintStats {

  private static final double EWMA_ALPHA = 0.1;

  private final String fingerprint;
  private final String protocol;
  /** Per thread: what that thread recorded, written by it alone. */
  private final PerThread<Cell> cells = new PerThread<>(Cell::new);
  private final String id;
  private final double ruError;

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
    cells.get().record(ruCharged, latencyNanos / 1_000);
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
   * Recent mean RU per execution (EWMA): the admission estimate for the next one. The calling
   * thread's own, else the first thread's that has one, else 0.
   */
  public double meanRu() {
    Cell own = cells.peek(ThreadSlots.current());
    if (own != null) {
      double m = own.mean();
      if (m != 0) {
        return m;
      }
    }
    Cell any = cells.first(Cell::hasMean);
    return any == null ? 0 : any.mean();
  }

  /** Latency at quantile {@code q}, in microseconds. */
  public long latencyMicros(double q) {
    long[] totals = new long[LogHistogram.BUCKETS];
    cells.forEach(c -> c.latencyMicros.addTo(totals));
    return LogHistogram.quantile(totals, q);
  }

  /**
   * One thread's share of the shape: written by that thread alone with release stores (no
   * read-modify-write), read by any.
   */
  private static final class Cell {
    private static final VarHandle RU;
    private static final VarHandle MEAN;

    static {
      try {
        MethodHandles.Lookup l = MethodHandles.lookup();
        RU = l.findVarHandle(Cell.class, "ru", double.class);
        MEAN = l.findVarHandle(Cell.class, "mean", double.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final LogHistogram latencyMicros = new LogHistogram();
    private double ru;
    private double mean;

    void record(double charged, long micros) {
      RU.setRelease(this, ru + charged);
      double m = mean;
      MEAN.setRelease(this, m == 0 ? charged : m + EWMA_ALPHA * (charged - m));
      latencyMicros.record(micros);
    }

    long count() {
      return latencyMicros.count();
    }

    double ru() {
      return (double) RU.getAcquire(this);
    }

    double mean() {
      return (double) MEAN.getAcquire(this);
    }

    boolean hasMean() {
      return mean() != 0;
    }
  }
}
