package io.mproxy.core.balance;

import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.time.RandomSource;
import java.util.List;

/**
 * Power of two choices: draw two distinct healthy backends at random and take the one with the
 * lower score. When none is healthy, fall back to the ones whose retry back-off has elapsed
 * (panic mode: a request may revive a backend rather than fail outright).
 */
public final class P2cSelector implements BackendSelector {

  private final BalancerConfig.Score score;
  private final RandomSource random;

  public P2cSelector(BalancerConfig.Score score, RandomSource random) {
    this.score = score;
    this.random = random;
  }

  @Override
  public Backend select(List<Backend> eligible) {
    int n = eligible.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      Backend only = eligible.get(0);
      return only.tryable() ? only : null;
    }
    int healthy = 0;
    for (int i = 0; i < n; i++) {
      if (eligible.get(i).healthy()) {
        healthy++;
      }
    }
    if (healthy == 0) {
      return pickAmong(eligible, false);
    }
    return pickAmong(eligible, true);
  }

  private Backend pickAmong(List<Backend> all, boolean healthyOnly) {
    int count = 0;
    for (Backend b : all) {
      if (healthyOnly ? b.healthy() : b.tryable()) {
        count++;
      }
    }
    if (count == 0) {
      return null;
    }
    Backend a = nth(all, random.nextInt(count), healthyOnly);
    if (count == 1) {
      return a;
    }
    int j = random.nextInt(count - 1);
    Backend b = nth(all, j, healthyOnly);
    if (b == a) {
      b = nth(all, count - 1, healthyOnly);
    }
    return a.score(score) <= b.score(score) ? a : b;
  }

  private static Backend nth(List<Backend> all, int index, boolean healthyOnly) {
    int seen = 0;
    for (Backend b : all) {
      if (healthyOnly ? b.healthy() : b.tryable()) {
        if (seen == index) {
          return b;
        }
        seen++;
      }
    }
    throw new IllegalStateException("index " + index + " out of range");
  }
}
