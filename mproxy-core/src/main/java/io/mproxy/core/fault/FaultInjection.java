package io.mproxy.core.fault;

import io.mproxy.core.time.RandomSource;
import java.util.Map;

/**
 * Arms fault points for one simulation run and disarms them when the run closes. Only one run
 * may hold the points at a time in a JVM: the points are static, like BUGGIFY's, so that
 * production code needs no plumbing to reach them.
 */
public final class FaultInjection implements AutoCloseable {

  private static final Object LOCK = new Object();
  private static FaultInjection active;

  private final Map<FaultPoint, Double> armed;

  private FaultInjection(Map<FaultPoint, Double> armed) {
    this.armed = Map.copyOf(armed);
  }

  /**
   * Arms each given point with its probability, drawing from {@code random}. Throws when another
   * run holds the points.
   */
  public static FaultInjection arm(Map<FaultPoint, Double> points, RandomSource random) {
    synchronized (LOCK) {
      if (active != null) {
        throw new IllegalStateException("fault points are armed by another simulation run");
      }
      for (FaultPoint p : Faults.all()) {
        Double prob = points.get(p);
        if (prob != null && prob > 0) {
          p.arm(Math.min(1.0, prob), random);
        }
      }
      active = new FaultInjection(points);
      return active;
    }
  }

  /** The points this run armed and their probabilities. */
  public Map<FaultPoint, Double> armed() {
    return armed;
  }

  @Override
  public void close() {
    synchronized (LOCK) {
      if (active != this) {
        return;
      }
      for (FaultPoint p : Faults.all()) {
        p.disarm();
      }
      active = null;
    }
  }
}
