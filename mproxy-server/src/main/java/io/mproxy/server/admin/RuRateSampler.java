package io.mproxy.server.admin;

import io.mproxy.core.admission.ResourceGroup;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Measures each resource group's RU rate over a sliding window from samples of
 * {@link ResourceGroup#ruChargedTotal()}: the rate is the growth since the newest sample at least
 * one window old (or the oldest kept, early on). Samples are taken by a periodic tick and by each
 * status call, at most one per {@code spacingNanos}, so the deque stays at about
 * {@code window / spacing} entries however often status is asked. Time comes from the caller
 * (the proxy's clock), so tests drive it by hand. Thread-safe.
 */
final class RuRateSampler {

  private final long windowNanos;
  private final long spacingNanos;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();

  RuRateSampler(long windowNanos, long spacingNanos) {
    if (windowNanos <= 0 || spacingNanos <= 0 || spacingNanos > windowNanos) {
      throw new IllegalArgumentException("window " + windowNanos + ", spacing " + spacingNanos
          + " (expected: 0 < spacing <= window)");
    }
    this.windowNanos = windowNanos;
    this.spacingNanos = spacingNanos;
  }

  /** Records the groups' totals at {@code nowNanos}. */
  synchronized void sample(long nowNanos, Collection<ResourceGroup> groups) {
    record(nowNanos, totals(groups));
  }

  /** Samples, then returns each group's RU per second over the window (0 until time has passed). */
  synchronized Map<String, Double> rates(long nowNanos, Collection<ResourceGroup> groups) {
    Map<String, Double> now = totals(groups);
    record(nowNanos, now);
    Sample base = samples.peekFirst();
    long elapsed = nowNanos - base.nanos;
    Map<String, Double> rates = new HashMap<>();
    for (Map.Entry<String, Double> e : now.entrySet()) {
      Double before = base.totals.get(e.getKey());
      double rate = elapsed <= 0 || before == null ? 0 : (e.getValue() - before) * 1e9 / elapsed;
      rates.put(e.getKey(), Math.max(0, rate));
    }
    return rates;
  }

  /** Samples kept; for tests. */
  synchronized int size() {
    return samples.size();
  }

  private void record(long nowNanos, Map<String, Double> totals) {
    Sample last = samples.peekLast();
    if (last == null || nowNanos - last.nanos >= spacingNanos) {
      samples.addLast(new Sample(nowNanos, totals));
    }
    while (samples.size() >= 2 && nowNanos - second().nanos >= windowNanos) {
      samples.removeFirst();
    }
  }

  private Sample second() {
    Iterator<Sample> it = samples.iterator();
    it.next();
    return it.next();
  }

  private static Map<String, Double> totals(Collection<ResourceGroup> groups) {
    Map<String, Double> totals = new HashMap<>();
    for (ResourceGroup g : groups) {
      totals.put(g.name(), g.ruChargedTotal());
    }
    return totals;
  }

  private record Sample(long nanos, Map<String, Double> totals) {
  }
}
