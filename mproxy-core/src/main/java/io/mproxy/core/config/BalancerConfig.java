package io.mproxy.core.config;

/**
 * How a backend is picked among the healthy ones: power of two choices over a load score,
 * optionally within the tenant's shuffle-shard hand.
 */
public record BalancerConfig(String strategy, Score score, ShuffleShardConfig shuffleShard) {

  public static final BalancerConfig DEFAULT = new BalancerConfig("p2c", Score.LEAST_INFLIGHT);

  public BalancerConfig {
    shuffleShard = shuffleShard == null ? ShuffleShardConfig.OFF : shuffleShard;
  }

  public BalancerConfig(String strategy, Score score) {
    this(strategy, score, ShuffleShardConfig.OFF);
  }

  public enum Score { LEAST_INFLIGHT, PEAK_EWMA, RU_RATE }
}
