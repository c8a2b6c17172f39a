package io.mproxy.sim;

import io.mproxy.core.time.RandomSource;
import java.nio.charset.StandardCharsets;

/**
 * The simulation's only randomness: a SplitMix64 generator. Every stream (each client's arrivals,
 * each backend's service times, the balancer, the faults) is {@link #derive derived} from the run's
 * one seed by name, so adding a stream never shifts the draws of another, and a seed replays the
 * whole run. Uses {@link StrictMath} so draws are identical on every JVM and CPU.
 */
public final class SimRandom implements RandomSource {

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private final long seed;
  private long state;

  public SimRandom(long seed) {
    this.seed = seed;
    this.state = seed;
  }

  /** A new independent stream for {@code name}, a pure function of this stream's seed and the name. */
  public SimRandom derive(String name) {
    long h = seed ^ 0x6A09E667F3BCC908L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xFF));
    }
    return new SimRandom(mix(h + GOLDEN));
  }

  public long nextLong() {
    state += GOLDEN;
    return mix(state);
  }

  @Override
  public int nextInt(int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be > 0: " + bound);
    }
    return (int) ((nextLong() >>> 33) % bound);
  }

  @Override
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  public boolean chance(double p) {
    return p > 0 && nextDouble() < p;
  }

  /** An exponential draw with the given mean (Poisson inter-arrival and think times). */
  public double exponential(double mean) {
    return -mean * StrictMath.log(1.0 - nextDouble());
  }

  /** A standard normal draw (Box–Muller). */
  public double gaussian() {
    double u1 = 1.0 - nextDouble();
    double u2 = nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2 * StrictMath.PI * u2);
  }

  /** A uniform draw in {@code [lo, hi)}. */
  public double uniform(double lo, double hi) {
    return lo + (hi - lo) * nextDouble();
  }

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
