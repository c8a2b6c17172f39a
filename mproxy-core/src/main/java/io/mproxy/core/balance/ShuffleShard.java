package io.mproxy.core.balance;

import io.mproxy.core.request.TenantIdentity;
import java.util.Arrays;

/**
 * Deals a tenant a stable hand of {@code handSize} distinct shards out of {@code shards}: the
 * tenant's key is hashed, the hash (mixed with a configured seed) drives a SplitMix64 sequence,
 * and a partial Fisher-Yates shuffle takes the first {@code handSize}. The same tenant always
 * gets the same hand, on every node and after every restart (no runtime randomness), and two
 * tenants share all of a hand of 2 out of 8 with probability 1/28. Pure; thread-safe.
 */
public final class ShuffleShard {

  private ShuffleShard() {
  }

  /** A stable 64-bit key of a tenant (listener, user, database, application). */
  public static long key(TenantIdentity t) {
    long h = 0x9E3779B97F4A7C15L;
    h = mix(h ^ hash(t.listener()));
    h = mix(h ^ hash(t.user()));
    h = mix(h ^ hash(t.database()));
    return mix(h ^ hash(t.application()));
  }

  /** The sorted shard indexes in {@code key}'s hand; all of them when {@code handSize >= shards}. */
  public static int[] hand(long key, long seed, int shards, int handSize) {
    if (shards <= 0) {
      return new int[0];
    }
    int k = Math.max(0, Math.min(handSize, shards));
    int[] deck = new int[shards];
    for (int i = 0; i < shards; i++) {
      deck[i] = i;
    }
    long state = key ^ mix(seed);
    for (int i = 0; i < k; i++) {
      state += 0x9E3779B97F4A7C15L;
      long r = mix(state);
      int j = i + (int) Long.remainderUnsigned(r, shards - i);
      int tmp = deck[i];
      deck[i] = deck[j];
      deck[j] = tmp;
    }
    int[] hand = Arrays.copyOf(deck, k);
    Arrays.sort(hand);
    return hand;
  }

  /** String.hashCode is specified by the language, so hands survive JVM restarts. */
  private static long hash(String s) {
    return s == null ? 0x51_7C_C1_B7_27_22_0A_95L : s.hashCode() * 0xC2B2AE3D27D4EB4FL + s.length();
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
