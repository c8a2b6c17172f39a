package io.mproxy.core.config;

/** How a backend is picked among the healthy ones: power of two choices over a load score. */
public record BalancerConfig(String strategy, Score score) {

  public static final BalancerConfig DEFAULT = new BalancerConfig("p2c", Score.LEAST_INFLIGHT);

  public enum Score { LEAST_INFLIGHT, PEAK_EWMA, RU_RATE }
}
