package io.mproxy.core.balance;

import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.time.RandomSource;
import java.util.List;

/**
 * Power of two choices: draw two distinct healthy backends at random and take the one with the
 * lower score. When none is healthy, fall back to the ones whose retry back-off has elapsed
 * (panic mode: a request may revive a backend rather than fail outright). A backend whose circuit
 * breaker is open is never drawn; a half-open one is drawn while it has a probe slot free, and
 * the pick takes that slot.
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
      return only.tryable() && only.circuitAllows() ? taken(only) : null;
    }
    int healthy = 0;
    for (int i = 0; i < n; i++) {
      Backend b = eligible.get(i);
      if (b.healthy() && b.circuitAllows()) {
        healthy++;
      }
    }
    return taken(pickAmong(eligible, healthy > 0));
  }

  /** The pick takes a half-open probe slot; a circuit that refuses it (lost a race) yields none. */
  private static Backend taken(Backend b) {
    return b != null && b.circuitTryRequest() ? b : null;
  }

  private static boolean candidate(Backend b, boolean healthyOnly) {
    return (healthyOnly ? b.healthy() : b.tryable()) && b.circuitAllows();
  }

  private Backend pickAmong(List<Backend> all, boolean healthyOnly) {
    int count = 0;
    for (Backend b : all) {
      if (candidate(b, healthyOnly)) {
        count++;
      }
    }
    if (count == 0) {
      return null;
    }
    Backend a = nth(all, random.nextInt(count), healthyOnly);
    if (count == 1 || a == null) {
      return a;
    }
    int j = random.nextInt(count - 1);
    Backend b = nth(all, j, healthyOnly);
    if (b == null) {
      return a;
    }
    if (b == a) {
      b = nth(all, count - 1, healthyOnly);
    }
    return a.score(score) <= b.score(score) ? a : b;
  }

  private static Backend nth(List<Backend> all, int index, boolean healthyOnly) {
    int seen = 0;
    for (Backend b : all) {
      if (candidate(b, healthyOnly)) {
        if (seen == index) {
          return b;
        }
        seen++;
      }
    }
    // a circuit changed state between counting and drawing: take any candidate left
    for (Backend b : all) {
      if (candidate(b, healthyOnly)) {
        return b;
      }
    }
    return null;
  }
}
