package io.mproxy.core.balance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.cluster.Cluster;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig.Score;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ShuffleShardConfig;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.time.ManualClock;
import io.mproxy.core.time.RandomSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShuffleShardTest {

  private static final int TENANTS = 2_000;

  private static TenantIdentity tenant(int i) {
    return new TenantIdentity("pg", "user" + i, "app", i % 3 == 0 ? null : "svc" + (i % 7));
  }

  @Test
  void aTenantAlwaysGetsTheSameHandOfDistinctShards() {
    for (int i = 0; i < TENANTS; i++) {
      long key = ShuffleShard.key(tenant(i));
      int[] hand = ShuffleShard.hand(key, 7, 8, 2);
      assertArrayEquals(hand, ShuffleShard.hand(ShuffleShard.key(tenant(i)), 7, 8, 2), "stable");
      assertEquals(2, hand.length);
      assertTrue(hand[0] < hand[1], "distinct and sorted: " + Arrays.toString(hand));
      assertTrue(hand[0] >= 0 && hand[1] < 8);
    }
  }

  @Test
  void handsDoNotDependOnTheProcess() {
    // String.hashCode and the mixing are specified: these values hold on every JVM and node.
    assertArrayEquals(ShuffleShard.hand(ShuffleShard.key(new TenantIdentity("pg", "alice", "app", "web")), 0, 8, 2),
        ShuffleShard.hand(ShuffleShard.key(new TenantIdentity("pg", new String("alice"), "app", "web")), 0, 8, 2));
  }

  @Test
  void theSeedReshufflesAndTheHandIsCappedByTheShards() {
    int moved = 0;
    for (int i = 0; i < 200; i++) {
      long key = ShuffleShard.key(tenant(i));
      if (!Arrays.equals(ShuffleShard.hand(key, 1, 8, 2), ShuffleShard.hand(key, 2, 8, 2))) {
        moved++;
      }
    }
    assertTrue(moved > 150, "another seed deals other hands: " + moved + "/200 moved");
    assertArrayEquals(new int[] {0, 1, 2}, ShuffleShard.hand(42, 0, 3, 5));
    assertEquals(0, ShuffleShard.hand(42, 0, 0, 2).length);
  }

  @Test
  void shardsAreDealtEvenly() {
    int[] count = new int[8];
    for (int i = 0; i < TENANTS; i++) {
      for (int s : ShuffleShard.hand(ShuffleShard.key(tenant(i)), 0, 8, 2)) {
        count[s]++;
      }
    }
    double mean = TENANTS * 2 / 8.0;
    for (int c : count) {
      assertTrue(Math.abs(c - mean) < 0.15 * mean, "each shard within 15% of " + mean + ": " + Arrays.toString(count));
    }
  }

  @Test
  void twoTenantsRarelyShareTheirWholeHand() {
    int pairs = 0;
    int whole = 0;
    int none = 0;
    List<Set<Integer>> hands = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      Set<Integer> h = new HashSet<>();
      for (int s : ShuffleShard.hand(ShuffleShard.key(tenant(i)), 0, 8, 2)) {
        h.add(s);
      }
      hands.add(h);
    }
    for (int i = 0; i < hands.size(); i++) {
      for (int j = i + 1; j < hands.size(); j++) {
        pairs++;
        Set<Integer> common = new HashSet<>(hands.get(i));
        common.retainAll(hands.get(j));
        if (common.size() == 2) {
          whole++;
        } else if (common.isEmpty()) {
          none++;
        }
      }
    }
    // 2 of 8: whole overlap 1/28 = 3.6%, none 15/28 = 54%
    assertTrue(whole < 0.06 * pairs, "whole-hand overlaps " + whole + "/" + pairs);
    assertTrue(none > 0.45 * pairs, "disjoint hands " + none + "/" + pairs);
  }

  @Test
  void oneTenantsOverloadReachesFewOthers() {
    ManualClock clock = new ManualClock();
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      backends.add(new Backend(new BackendConfig(new HostPort("10.0.0." + i, 5432), BackendConfig.Role.PRIMARY), clock));
    }
    ShuffleShardConfig shuffle = new ShuffleShardConfig(2, 0);
    TenantIdentity noisy = tenant(0);
    int[] noisyHand = ShuffleShard.hand(ShuffleShard.key(noisy), 0, 8, 2);
    for (int s : noisyHand) {
      for (int k = 0; k < 100; k++) {
        backends.get(s).started(); // the noisy tenant's flood: 100 in flight on each of its backends
      }
    }
    Set<Backend> overloaded = Set.of(backends.get(noisyHand[0]), backends.get(noisyHand[1]));
    BackendSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, new SeededRandom(1));
    int reachedSharded = 0;
    int reachedUnsharded = 0;
    int others = 500;
    for (int i = 1; i <= others; i++) {
      boolean sharded = false;
      boolean unsharded = false;
      for (int r = 0; r < 20; r++) {
        sharded |= overloaded.contains(Cluster.selectInHand(p2c, backends, tenant(i), shuffle));
        unsharded |= overloaded.contains(p2c.select(backends));
      }
      reachedSharded += sharded ? 1 : 0;
      reachedUnsharded += unsharded ? 1 : 0;
    }
    // sharded: only tenants dealt the very same hand (~1/28) have nowhere else to go
    assertTrue(reachedSharded < 0.08 * others, "sharded: " + reachedSharded + "/" + others + " reached");
    // unsharded: P2C draws both overloaded backends 1 time in 28, so in 20 requests about half the tenants are hit
    assertTrue(reachedUnsharded > 0.3 * others, "unsharded: " + reachedUnsharded + "/" + others + " reached");
  }

  @Test
  void aHandWithNoHealthyBackendFallsBackToAllOfThem() {
    ManualClock clock = new ManualClock();
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      backends.add(new Backend(new BackendConfig(new HostPort("10.0.1." + i, 5432), BackendConfig.Role.PRIMARY), clock));
    }
    TenantIdentity t = tenant(3);
    ShuffleShardConfig shuffle = new ShuffleShardConfig(2, 0);
    int[] hand = ShuffleShard.hand(ShuffleShard.key(t), 0, 4, 2);
    BackendSelector p2c = new P2cSelector(Score.LEAST_INFLIGHT, new SeededRandom(2));
    Set<Backend> inHand = Set.of(backends.get(hand[0]), backends.get(hand[1]));
    for (int r = 0; r < 50; r++) {
      assertTrue(inHand.contains(Cluster.selectInHand(p2c, backends, t, shuffle)), "healthy hand: stays in it");
    }
    for (Backend b : inHand) {
      b.markDown("probe failed", 1_000_000_000L, 1_000_000_000L);
    }
    for (int r = 0; r < 50; r++) {
      Backend b = Cluster.selectInHand(p2c, backends, t, shuffle);
      assertFalse(inHand.contains(b), "a down hand falls back to the healthy others, got " + b);
    }
  }

  private static final class SeededRandom implements RandomSource {
    private final SplittableRandom r;

    SeededRandom(long seed) {
      this.r = new SplittableRandom(seed);
    }

    @Override
    public int nextInt(int bound) {
      return r.nextInt(bound);
    }

    @Override
    public double nextDouble() {
      return r.nextDouble();
    }
  }
}
