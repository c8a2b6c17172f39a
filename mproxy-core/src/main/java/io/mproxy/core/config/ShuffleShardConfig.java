package io.mproxy.core.config;

/**
 * Shuffle sharding of a cluster's backends ({@code shuffle_shard: { hand_size: 2, seed: 0 }}):
 * each tenant is dealt a stable hand of {@code handSize} backends and is balanced within it, so
 * a tenant that overloads its hand reaches only the few tenants whose hands overlap it.
 * {@code handSize} 0 turns it off; {@code seed} reshuffles every hand at once.
 */
public record ShuffleShardConfig(int handSize, long seed) {

  public static final ShuffleShardConfig OFF = new ShuffleShardConfig(0, 0);

  public ShuffleShardConfig {
    if (handSize < 0) {
      throw new IllegalArgumentException("hand_size: " + handSize + " (expected: >= 0)");
    }
  }

  public boolean enabled() {
    return handSize > 0;
  }
}
