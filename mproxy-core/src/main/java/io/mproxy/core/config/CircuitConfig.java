package io.mproxy.core.config;

/**
 * A cluster's per-backend circuit breaker ({@code clusters: c: { circuit: {...} }}). Without it a
 * backend is only taken out by failed connections and health probes; with it, a backend whose
 * requests fail (or run slower than {@code latencyMs}) too often over a sliding window is taken
 * out for {@code openMs} and then let back in through a few probe requests.
 *
 * @param errorRate the failing share of a window's requests (errors, plus requests slower than
 *     {@code latencyMs} when that is set) at or above which the circuit opens, in (0, 1]
 * @param minRequests requests a window needs before its rate is judged
 * @param latencyMs a completed request slower than this counts as failed; 0 = latency not judged
 * @param windowMs the sliding window's length
 * @param openMs how long an open circuit refuses before it lets probes through (half-open)
 * @param halfOpenProbes most probe requests in flight while half-open
 * @param mode {@code enforce} skips open backends; {@code shadow} only counts would-open
 */
public record CircuitConfig(double errorRate, int minRequests, long latencyMs, long windowMs, long openMs,
    int halfOpenProbes, Mode mode) {

  /** Whether an open circuit takes its backend out, or only counts that it would have. */
  public enum Mode { ENFORCE, SHADOW }

  public static final double DEFAULT_ERROR_RATE = 0.5;
  public static final int DEFAULT_MIN_REQUESTS = 20;
  public static final long DEFAULT_LATENCY_MS = 0;
  public static final long DEFAULT_WINDOW_MS = 10_000;
  public static final long DEFAULT_OPEN_MS = 5_000;
  public static final int DEFAULT_HALF_OPEN_PROBES = 3;

  public CircuitConfig {
    mode = mode == null ? Mode.ENFORCE : mode;
    if (!(errorRate > 0 && errorRate <= 1)) {
      throw new IllegalArgumentException("error_rate: " + errorRate + " (expected: in (0, 1])");
    }
    if (minRequests < 1 || windowMs <= 0 || openMs <= 0 || halfOpenProbes < 1 || latencyMs < 0) {
      throw new IllegalArgumentException("circuit: invalid " + minRequests + "/" + windowMs + "/" + openMs
          + "/" + halfOpenProbes + "/" + latencyMs);
    }
  }

  /** Every key at its default, enforcing. */
  public static CircuitConfig defaults() {
    return new CircuitConfig(DEFAULT_ERROR_RATE, DEFAULT_MIN_REQUESTS, DEFAULT_LATENCY_MS, DEFAULT_WINDOW_MS,
        DEFAULT_OPEN_MS, DEFAULT_HALF_OPEN_PROBES, Mode.ENFORCE);
  }

  public boolean enforced() {
    return mode == Mode.ENFORCE;
  }
}
