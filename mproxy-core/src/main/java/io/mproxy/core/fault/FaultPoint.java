package io.mproxy.core.fault;

import io.mproxy.core.time.RandomSource;

/**
 * One named place where a deterministic simulation may inject a fault, in the style of
 * FoundationDB's BUGGIFY. In production nothing ever arms a point, so {@link #fires()} is one read
 * of a plain boolean field that is always false: free enough to sit on the request path.
 *
 * <p>A simulation arms a chosen set of points for one seeded run through {@link FaultInjection};
 * while armed, each check fires with the point's probability, drawn from the run's seeded
 * {@link RandomSource}, so a seed reproduces the same faults at the same moments.
 *
 * <p>Not thread-safe while armed: simulations are single-threaded by design.
 */
public final class FaultPoint {

  private final String name;
  private final String description;
  private boolean armed;
  private double probability;
  private RandomSource random;
  private long fired;

  FaultPoint(String name, String description) {
    this.name = name;
    this.description = description;
  }

  public String name() {
    return name;
  }

  public String description() {
    return description;
  }

  /** True when this point is armed and its coin came up; always false in production. */
  public boolean fires() {
    return armed && roll();
  }

  /** How often this point fired since it was last armed. */
  public long firedCount() {
    return fired;
  }

  public boolean armed() {
    return armed;
  }

  /** A uniform draw in [0, 1) from the arming run's random source; 0 when disarmed. */
  public double draw() {
    return armed ? random.nextDouble() : 0;
  }

  private boolean roll() {
    if (random.nextDouble() >= probability) {
      return false;
    }
    fired++;
    return true;
  }

  void arm(double p, RandomSource r) {
    this.probability = p;
    this.random = r;
    this.fired = 0;
    this.armed = true;
  }

  void disarm() {
    this.armed = false;
    this.random = null;
    this.probability = 0;
  }

  @Override
  public String toString() {
    return name;
  }
}
